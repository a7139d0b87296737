"""Differential tests: a compiled worker produces exactly what the uncompiled reference
runtime produces for the same input (invariant 1 of ARCHITECTURE.md).

Both run on the in-memory transport with the same worker loop; only the agents differ
(the user's functions over ``faust.Stream``, or the fused loops of the built worker).
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from confluent_kafka import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faust
from conftest import EXAMPLES
from faust.app import App
from faust.exceptions import ImproperlyConfigured, KeyDecodeError, ValueDecodeError
from faust.serializers import generated
from faust.testing import AppDriver
from faust.transport.memory import MemoryTransport
from faust.worker import Worker
from faustc.build import build_worker
from faustc.plan.passes import PASSES, AgentPass

APPS = Path(__file__).parent / "apps"
_runs = itertools.count()


def load_worker(source: Path, out_dir: Path, passes: tuple[AgentPass, ...] = PASSES) -> ModuleType:
    """Build ``source`` into ``out_dir`` (with the plan's ``passes``) and import the worker."""
    result = build_worker(source, out_dir, passes=passes)
    return import_worker(result.worker_path)


def import_worker(worker_path: Path) -> ModuleType:
    """Import a built worker (under a name of its own: it may be imported again)."""
    name = f"{worker_path.stem}_{next(_runs)}"
    spec = importlib.util.spec_from_file_location(name, worker_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: topic -> records: (key, value) or (key, value, timestamp in ms)
Inputs = dict[str, list[tuple[Any, ...]]]


def run(
    app: App, inputs: Inputs, compiled: dict[str, Any] | None, start_time: float | None = None
) -> dict[str, Any]:
    """Run ``app`` over ``inputs`` on the public broker-free driver (the worker on the
    memory transport; the reference runs with the generic codecs, not the worker's
    generated ones); return every output topic and table, as data."""
    with AppDriver(app, compiled_agents=compiled, store=None, start_time=start_time) as driver:
        for name, records in inputs.items():
            for key, value, *timestamp in records:
                driver.broker.append(name, key, value, timestamp_ms=(timestamp or [None])[0])
        driver.run()
    result: dict[str, Any] = {}
    for name, partitions in driver.broker.topics.items():
        if name not in inputs:
            result[name] = [[(m.key(), m.value(), m.headers()) for m in log] for log in partitions]
    for table in app.tables.values():
        result[f"table:{table.name}"] = table.copy()
    return result


class Built:
    """A built worker and its app, ready to run both ways."""

    def __init__(self, source: Path, out_dir: Path, passes: tuple[AgentPass, ...] = PASSES) -> None:
        self.worker = load_worker(source, out_dir, passes)
        self.app: App = sys.modules[self.worker.app_module.__name__].app
        #: the drivers' clock at the start (windows expire by it; None: now)
        self.start_time: float | None = None

    @classmethod
    def load(cls, worker_path: Path) -> Built:
        """The worker already built at ``worker_path``, imported now."""
        built = cls.__new__(cls)
        built.worker = import_worker(worker_path)
        built.app = sys.modules[built.worker.app_module.__name__].app
        built.start_time = None
        return built

    def both(self, inputs: Inputs) -> tuple[dict[str, Any], dict[str, Any]]:
        reference = run(self.app, inputs, None, self.start_time)
        compiled = run(self.app, inputs, self.worker.COMPILED_AGENTS, self.start_time)
        return reference, compiled


def run_on_memory(
    built: Built,
    name: str,
    fill: Callable[[MemoryTransport], None],
    *,
    compiled: bool,
    policy: str,
) -> tuple[MemoryTransport, list[logging.LogRecord], Exception | None]:
    """Run ``built``'s worker (its compiled agents, or the app as written with the generic
    codecs) on a fresh in-memory broker until idle, under the error policy ``policy``:
    ``fill`` writes the inputs once the app's topics exist. Returns the transport (its
    broker holds every output), what the policy logged, and the failure that stopped the
    worker (None: it ran dry)."""
    app = built.app
    app.conf.error_policy = policy
    transport = MemoryTransport.named(f"{name}-{next(_runs)}")
    for topic in app.topics:
        for topic_name in topic.topics:
            transport.broker.create_topic(topic_name, topic.partitions or 1)
    fill(transport)
    agents = built.worker.COMPILED_AGENTS if compiled else None
    worker = Worker(app, compiled_agents=agents, transport=transport, stop_when_idle=True)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("faust.errors").addHandler(handler)
    failure = None
    try:
        if compiled:
            asyncio.run(worker.run())
        else:
            with generated.suspended():
                asyncio.run(worker.run())
    except Exception as exc:
        failure = exc
    finally:
        logging.getLogger("faust.errors").removeHandler(handler)
        app.conf.error_policy = "fail"
    return transport, records, failure


#: (topic, account, amount, partition, timestamp ms or None): a move of the table test apps
Move = tuple[str, str, int, int, int | None]


def append_moves(driver: AppDriver, moves: Iterable[Move]) -> None:
    """Append each move to its topic: the JSON ``{"account", "amount"}`` keyed by the
    account (tests/apps/table_access.py, window_access.py, current_message.py)."""
    for topic, account, amount, partition, ms in moves:
        value = json.dumps({"account": account, "amount": amount}).encode()
        driver.broker.append(topic, account.encode(), value, partition=partition, timestamp_ms=ms)


def sorted_tables(app: App) -> dict[str, list[tuple[Any, Any]]]:
    """Every table's items, sorted (comparable across runs)."""
    return {table.name: sorted(table.copy().items(), key=repr) for table in app.tables.values()}


@pytest.fixture(scope="module")
def big_orders(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(EXAMPLES / "big_orders.py", tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def wordcount(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(EXAMPLES / "wordcount.py", tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "chains.py", tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def windowed(tmp_path_factory: pytest.TempPathFactory) -> Built:
    built = Built(APPS / "windowed.py", tmp_path_factory.mktemp("build"))
    built.start_time = 1000.0  # windows ending at or before 970 have expired
    return built


@pytest.fixture(scope="module")
def spanning(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "spanning.py", tmp_path_factory.mktemp("build"))


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

orders = st.lists(
    st.fixed_dictionaries(
        {
            "order_id": st.text(min_size=1, max_size=8),
            "account_id": st.sampled_from(["a", "b", "c", "ü", ""]),
            "amount": st.floats(min_value=-10, max_value=5000, allow_nan=False),
        }
    ),
    max_size=60,
)


@SETTINGS
@given(orders=orders)
def test_big_orders(big_orders: Built, orders: list[dict[str, Any]]) -> None:
    records = [(o["account_id"].encode(), json.dumps(o).encode()) for o in orders]
    reference, compiled = big_orders.both({"orders": records})
    assert compiled == reference
    expected = sum(1 for o in orders if o["amount"] >= 1000.0)
    assert sum(len(log) for log in compiled["big-orders"]) == expected


@SETTINGS
@given(words=st.lists(st.sampled_from(["a", "b", "kafka", "faust", "ü"]), max_size=80))
def test_wordcount(wordcount: Built, words: list[str]) -> None:
    # keyed by the word: a table is partitioned like the stream that writes it
    inputs: Inputs = {"words": [(w.encode(), json.dumps(w).encode()) for w in words]}
    reference, compiled = wordcount.both(inputs)
    assert compiled == reference
    assert sum(compiled["table:word-counts"].values()) == len(words)


readings = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2", "s3"]),
        st.floats(min_value=-100, max_value=100, allow_nan=False),
    ),
    max_size=60,
)


@SETTINGS
@given(readings=readings)
def test_every_fused_shape(chains: Built, readings: list[tuple[str, float]]) -> None:
    inputs: Inputs = {
        "readings": [
            (sensor.encode(), json.dumps({"sensor": sensor, "value": value}).encode())
            for sensor, value in readings
        ]
    }
    reference, compiled = chains.both(inputs)
    assert compiled == reference
    assert sum(len(log) for log in compiled["out-items"]) == len(readings)
    positive = sum(1 for _, value in readings if 0 < value * 2 < 100)
    assert sum(len(log) for log in compiled["out-values"]) == positive


def test_bad_records_meet_the_same_policy(chains: Built) -> None:
    inputs: Inputs = {
        "readings": [
            (b"s1", b'{"sensor": "s1", "value": 5}'),
            (b"s1", b"not json"),
            (b"s2", b'{"sensor": "s2", "value": 7}'),
        ]
    }
    chains.app.conf.error_policy = "skip"
    try:
        reference, compiled = chains.both(inputs)
    finally:
        chains.app.conf.error_policy = "fail"
    assert compiled == reference
    assert sum(len(log) for log in compiled["out-items"]) == 2


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "stages.py", tmp_path_factory.mktemp("build"))


payments = st.lists(
    st.tuples(
        st.sampled_from(["A", "b", "C", "d"]),
        st.integers(min_value=-5, max_value=40),
    ),
    max_size=60,
)


@SETTINGS
@given(payments=payments)
def test_stages_tasks_and_sinks(stages: Built, payments: list[tuple[str, int]]) -> None:
    """group_by (field and function), through, echo, take, enumerate, noack, rate_limit,
    add_processor, yield to sinks and an app.stream() task: compiled == reference."""
    inputs: Inputs = {
        "payments": [
            (account.encode(), json.dumps({"account": account, "amount": amount}).encode())
            for account, amount in payments
        ]
    }
    reference, compiled = stages.both(inputs)
    assert compiled == reference
    # the outputs are what the chains say, not just equal
    kept = [(a, n) for a, n in payments if n != 13]
    assert sum(len(log) for log in compiled["by-account-out"]) == len(kept)
    assert compiled["table:account-totals"] == {
        account: sum(2 * n for a, n in kept if a.lower() == account)
        for account in {a.lower() for a, _ in kept}
    }
    chunks = [value for log in compiled["batches-out"] for _, value, _ in log]
    assert sum(int(json.loads(c).split(":")[0]) for c in chunks) == len(payments)
    assert len(compiled["audit"][0]) == 2 * len(chunks)
    assert sum(len(log) for log in compiled["echoed"]) == len(payments)
    acked = [json.loads(v) for log in compiled["acked-out"] for _, v, _ in log]
    assert sum(v.startswith("acked:") for v in acked) == len(payments)
    assert sum(v.startswith("mirror:") for v in acked) == sum(n >= 0 for _, n in payments)
    small = [json.loads(v) for log in compiled["task-out"] for _, v, _ in log]
    assert len(small) == sum(n < 5 for _, n in payments)
    # concurrency=3: every payment once, each account's payments in their order
    parallel = [json.loads(v).split(":") for log in compiled["parallel-out"] for _, v, _ in log]
    assert len(parallel) == len(payments)
    for account in {a for a, _ in payments}:
        assert [int(n) for a, n, _ in parallel if a == account] == [
            n for a, n in payments if a == account
        ]


def test_a_group_by_forwards_the_value_bytes_it_consumed(stages: Built) -> None:
    """A group_by with no map or processor before it sends each message's own value bytes
    to its repartition topic (``batched``: echo, then group_by); after a processor the value
    is encoded again (``per_account``). Compiled and reference alike."""
    odd = [
        b'{ "amount": 4,  "account": "A" }',
        b'{"account": "b", "amount": 5, "extra": [1, 2]}',
        b'{"account":"C","amount":6,"__faust":{"ns":"stages.Payment"}}',
    ]
    inputs: Inputs = {"payments": [(b"k", value) for value in odd]}
    reference, compiled = stages.both(inputs)
    assert compiled == reference
    forwarded = compiled["stages.batched-payments-mod3-repartition"]
    assert sorted(value for log in forwarded for _, value, _ in log) == sorted(odd)
    encoded = compiled["stages.per_account-payments-Payment.account-repartition"]
    assert sorted(json.loads(value)["account"] for log in encoded for _, value, _ in log) == [
        "a",
        "b",
        "c",
    ]
    assert not {value for log in encoded for _, value, _ in log} & set(odd)


def test_a_group_by_forwards_headers_only_where_the_message_has_them(stages: Built) -> None:
    """The forwarding group_by produces without a headers argument when the message has
    none, and with its headers when it has some (the generated loop's two produce calls):
    compiled == reference, and each record keeps its message's headers."""

    def run_with_headers(compiled: dict[str, Any] | None) -> list[Any]:
        with AppDriver(stages.app, compiled_agents=compiled, store=None) as driver:
            for index in range(6):
                value = json.dumps({"account": "A", "amount": index}).encode()
                headers = [("trace", str(index).encode())] if index % 2 else None
                driver.broker.append("payments", b"k", value, headers=headers)
            driver.run()
        forwarded = driver.broker.topics["stages.batched-payments-mod3-repartition"]
        return sorted(
            (json.loads(m.value())["amount"], m.headers()) for log in forwarded for m in log
        )

    reference = run_with_headers(None)
    assert run_with_headers(stages.worker.COMPILED_AGENTS) == reference
    assert reference == [
        (index, [("trace", str(index).encode())] if index % 2 else None) for index in range(6)
    ]


@pytest.fixture(scope="module")
def regrouped(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "regrouped.py", tmp_path_factory.mktemp("build"))


regrouped_orders = st.lists(
    st.tuples(
        st.sampled_from(["a1", "a2"]),
        st.sampled_from(["p1", "p2", "P2", "é", "", "p 3"]),
        st.sampled_from(["EUR", "USD"]),
        st.integers(min_value=-3, max_value=9),
    ),
    max_size=40,
)


@SETTINGS
@given(orders=regrouped_orders)
def test_a_group_by_stage_reads_its_key_field_from_the_key(
    regrouped: Built, orders: list[tuple[str, str, str, int]]
) -> None:
    """The stage after group_by(Order.product) that reads only .product takes it from the
    repartition records' keys (compiled; the reference decodes the values); where the
    repartition topic's keys are JSON (by_currency) the compiled stage decodes the values;
    where the stage reads another field (amounts) it decodes them too. The same tables
    and repartition records, and the counts are right."""
    inputs: Inputs = {
        "orders": [
            (
                account.encode(),
                json.dumps(
                    {"account": account, "product": product, "currency": currency, "amount": n}
                ).encode(),
            )
            for account, product, currency, n in orders
        ]
    }
    reference, compiled = regrouped.both(inputs)
    assert compiled == reference
    products = {product for _, product, _, _ in orders}
    assert compiled["table:product-counts"] == {
        p: sum(1 for _, q, _, _ in orders if q == p) for p in products
    }
    assert compiled["table:currency-counts"] == {
        c: sum(1 for _, _, d, n in orders if d == c and n > 0)
        for c in {c for _, _, c, n in orders if n > 0}
    }
    assert compiled["table:product-amounts"] == {
        p: sum(n for _, q, _, n in orders if q == p) for p in products
    }


def test_the_key_field_is_read_from_keys_only_where_they_are_its_text(regrouped: Built) -> None:
    """What the compiler chose (the field decoder for the stages that read only their
    key field, the value's view for the one that reads more) and what the runtime decides
    at start-up from the repartition topics' key serializers."""
    source = Path(regrouped.worker.__file__).read_text()
    assert source.count(".field_decoder(") == 2
    assert 'by_product_repartition.field_decoder("product")' in source
    assert 'by_currency_repartition.field_decoder("currency")' in source
    assert "amounts_repartition.value_decoder(fields_only=True)" in source
    topics = {topic.get_topic_name(): topic for topic in regrouped.app.topics}
    by_product = topics["regrouped.by_product-orders-Order.product-repartition"]
    by_currency = topics["regrouped.by_currency-orders-Order.currency-repartition"]
    assert by_product.schema.key_field_is_text("product")
    assert not by_currency.schema.key_field_is_text("currency")  # JSON keys
    assert not by_product.schema.key_field_is_text("amount")  # not a str field

    class Noted(faust.Record):
        account: str
        note: str = None  # type: ignore[assignment]  # None: a record without a key

    noted = faust.App("noted").topic("noted", key_type=str, value_type=Noted)
    assert noted.schema.key_field_is_text("account")
    assert not noted.schema.key_field_is_text("note")  # a field with a default
    message = Message(
        topic="t", partition=0, offset=0, key="é".encode(), value=b'{"product": "other"}'
    )
    decode, failed = by_product.field_decoder("product")
    assert decode(message).product == "é"  # from the key
    decode, failed = by_currency.field_decoder("currency")
    with pytest.raises(Exception) as raised:
        decode(message)  # from the value: not an Order
    assert isinstance(failed(raised.value, message), ValueDecodeError)
    bad_key = Message(topic="t", partition=0, offset=0, key=b"\xff", value=b"{}")
    decode, failed = by_product.field_decoder("product")
    with pytest.raises(Exception) as raised:
        decode(bad_key)
    error = failed(raised.value, bad_key)
    assert isinstance(error, KeyDecodeError) and "cannot decode key" in str(error)


def test_a_repartition_topic_declared_with_other_values_is_an_error() -> None:
    app = faust.App("repartition-conflict")
    orders = app.topic("orders", value_type=dict, value_serializer="json")
    app.topic("agent-orders-account-repartition", value_type=str, value_serializer="raw")
    stream = faust.Stream(orders, prefix="agent")
    with pytest.raises(ImproperlyConfigured, match="declared with another value type"):
        stream.group_by(lambda order: order["account"], name="account")


# -- random chains ---------------------------------------------------------------------------

CHAIN_APP = """
import faust

app = faust.App("{app_id}", broker="kafka://localhost:9092", topic_partitions=2)


class Reading(faust.Record):
    sensor: str
    value: int


readings = app.topic("readings", key_type=str, value_type=Reading, partitions=3)
out = app.topic("out", value_type=str, partitions=1)


@app.agent(readings)
async def run_chain(stream: faust.Stream[Reading]) -> None:
    async for item in stream{chain}:
        await out.send(value=repr(item))
"""

FILTERS = [
    "lambda r: r.value % 3 != 0",
    "lambda r: r.value > 10",
    "lambda r: r.sensor != 'b'",
]
MAPS = [
    "lambda r: r.derive(value=r.value * 2)",
    "lambda r: r.derive(value=r.value - 7)",
    "lambda r: r.derive(sensor=r.sensor.upper())",
]
GROUP_BYS = [
    "Reading.sensor",
    "lambda r: r.value % 4, name='mod4'",
    "Reading.value, partitions=3",
]
step = st.one_of(
    st.sampled_from(FILTERS).map(lambda f: f".filter({f})"),
    st.sampled_from(MAPS).map(lambda m: f".map({m})"),
)
terminal = st.one_of(
    st.just(""),
    st.just(".items()"),
    st.integers(min_value=-2, max_value=5).map(lambda n: f".enumerate(start={n})"),
    st.integers(min_value=1, max_value=6).map(lambda n: f".take({n}, within=3600)"),
)
random_chains = st.tuples(
    st.lists(step, max_size=3),
    st.one_of(st.none(), st.sampled_from(GROUP_BYS)),
    st.lists(step, max_size=3),
    terminal,
).map(
    lambda parts: (
        "".join(parts[0])
        + (f".group_by({parts[1]})" if parts[1] else "")
        + "".join(parts[2])
        + parts[3]
    )
)
chain_inputs = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=-20, max_value=60)),
    max_size=40,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chain=random_chains, readings=chain_inputs)
def test_random_chains(
    tmp_path_factory: pytest.TempPathFactory, chain: str, readings: list[tuple[str, int]]
) -> None:
    """Random chains of filter/map/group_by/enumerate/take: compiled == reference Stream."""
    number = next(_runs)
    app_dir = tmp_path_factory.mktemp("chain")
    source = app_dir / f"random_chain_{number}.py"
    source.write_text(CHAIN_APP.format(app_id=f"random-chain-{number}", chain=chain))
    built = Built(source, app_dir / "build")
    inputs: Inputs = {
        "readings": [
            (sensor.encode(), json.dumps({"sensor": sensor, "value": value}).encode())
            for sensor, value in readings
        ]
    }
    reference, compiled = built.both(inputs)
    assert compiled == reference, chain
    if ".group_by(" not in chain and ".take(" not in chain and ".filter(" not in chain:
        assert sum(len(log) for log in compiled["out"]) == len(readings)


views = st.lists(
    st.tuples(
        st.sampled_from(["home", "about", "ü"]),
        st.sampled_from(["ann", "bob", "cid"]),
        st.floats(min_value=900, max_value=1000, allow_nan=False),
        st.integers(min_value=940_000, max_value=1_000_000),
    ),
    max_size=50,
)


@SETTINGS
@given(views=views)
def test_windows_and_set_tables(windowed: Built, views: list[tuple[str, str, float, int]]) -> None:
    inputs: Inputs = {
        "views": [
            (page.encode(), json.dumps({"page": page, "user": user, "at": at}).encode(), ms)
            for page, user, at, ms in views
        ]
    }
    reference, compiled = windowed.both(inputs)
    assert compiled == reference
    assert sum(len(log) for log in compiled["view-stats"]) == len(views)
    live = [ms for *_, ms in views if ms // 10_000 * 10 + 9.9 > 970]  # not expired on arrival
    assert sum(compiled["table:per-page"].values()) == len(live)
    assert compiled["table:visitors"] == {
        page: {user for p, user, *_ in views if p == page} for page, *_ in views
    }


@SETTINGS
@given(clicks=st.integers(min_value=0, max_value=40))
def test_a_memory_table_key_written_from_every_partition(spanning: Built, clicks: int) -> None:
    """Faust's memory store is one dict: ``table["all"] += 1`` from four partitions (the
    memory broker spreads unkeyed records round-robin) counts every message, compiled as
    uncompiled (issue 13, silent-wrong before)."""
    inputs: Inputs = {
        "clicks": [(None, json.dumps(f"c{i}").encode(), 1_000_000) for i in range(clicks)]
    }
    reference, compiled = spanning.both(inputs)
    assert compiled == reference
    sent = [m[1] for log in compiled["running-counts"] for m in log]
    counts = sorted(int(value.decode().strip('"').split(":")[1]) for value in sent)
    assert counts == list(range(1, clicks + 1))
    windowed = sorted(int(value.decode().strip('"').split(":")[2]) for value in sent)
    assert windowed == counts
    assert compiled["table:totals"] == ({"all": clicks} if clicks else {})


@pytest.fixture(scope="module")
def asking(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "asking.py", tmp_path_factory.mktemp("build"))


def test_an_agent_awaiting_another_agents_ask_does_not_deadlock(asking: Built) -> None:
    """``yield await add_tax.ask(value=price)`` inside an agent: the worker goes on
    consuming while the agent waits (the request is on a topic the same worker consumes),
    compiled as uncompiled; ``join``/``map``/``kvjoin`` from a task (issue 13)."""
    assert {"asking.quote", "asking.add_tax"} <= set(asking.worker.COMPILED_AGENTS)
    prices = [1.0, 2.0, 10.0, 3.5, 100.0]
    inputs: Inputs = {"quote-requests": [(None, json.dumps(p).encode()) for p in prices]}
    reference, compiled = asking.both(inputs)
    for outputs in (reference, compiled):
        quotes = sorted(json.loads(m[1]) for log in outputs["quotes"] for m in log)
        assert quotes == sorted(round(p * 1.25, 2) for p in prices)
        (bulk,) = [m[1] for log in outputs["bulk-quotes"] for m in log]
        assert json.loads(bulk) == "[10.0, 20.0, 50.0]|[2.5, 5.0]|[1.0, 1000.0]"
