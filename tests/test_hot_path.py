"""The hot path the compiler specialises, against the reference runtime (issue 6).

A compiled send is a direct produce through ``App.sender()`` with the topic's encoders
bound once; a stage that reads only fields of its Record decodes the msgspec struct (a
"view") instead; an unused ``str`` key is still decoded so that a bad one meets the error
policy. None of it may change what comes out: the same records (keys, values, partitions,
timestamps, headers) and the same errors, with topic/partition/offset, under each policy.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import Built

from faust.serializers import generated
from faust.transport.memory import MemoryProducer, MemoryTransport
from faust.worker import Worker
from faustc.build import compile_source
from faustc.source import SourceFile

APPS = Path(__file__).parent / "apps"
_runs = itertools.count()


@pytest.fixture(scope="module")
def hot_path(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "hot_path.py", tmp_path_factory.mktemp("build"))


Inputs = list[tuple[bytes | None, bytes | None]]


def run(built: Built, payments: Inputs, *, compiled: bool, policy: str) -> dict[str, Any]:
    """Every output record (with partition and timestamp), and what the policy logged."""
    app = built.app
    app.conf.error_policy = policy
    transport = MemoryTransport.named(f"hot-path-{next(_runs)}")
    for topic in app.topics:
        for name in topic.topics:
            transport.broker.create_topic(name, topic.partitions or 1)
    for key, value in payments:
        transport.broker.append("payments", key, value, partition=0, timestamp_ms=1)
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
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        logging.getLogger("faust.errors").removeHandler(handler)
        app.conf.error_policy = "fail"
    outputs = {
        name: [
            [(m.key(), m.value(), _comparable(m.headers()), _stamp(name, m)) for m in log]
            for log in partitions
        ]
        for name, partitions in transport.broker.topics.items()
        if name != "payments"
    }
    logged = [_place(record.getMessage()) for record in records]
    return {"outputs": outputs, "logged": logged, "failure": _place(failure)}


#: the dead-letter headers whose text differs by design: the error message (the generated
#: decoder's words are msgspec's), its traceback, and where (the reference names the stream)
_WORDING = ("faust.error", "faust.error.traceback", "faust.source")


def _stamp(topic: str, message: Any) -> Any:
    """The timestamp a send set (``pinned``'s); others get the time of producing."""
    return message.timestamp() if topic == "pinned" else None


def _comparable(headers: list[tuple[str, bytes]] | None) -> Any:
    if headers is None:
        return None
    return [(name, value) for name, value in headers if name not in _WORDING]


def _place(text: str | None) -> Any:
    """``(agent, "topic[partition]@offset", exception class)`` of a policy's log line."""
    if text is None:
        return None
    found = re.search(r"agent (\S+) \(.*?\) on (\S+\[\d+\]@\d+): (\w+)", text)
    assert found is not None, text
    return found.groups()


payment = st.fixed_dictionaries(
    {
        "account": st.sampled_from(["a", "b", "ü", ""]),
        "amount": st.one_of(st.integers(-3, 50), st.just("12")),  # a str: fails to decode
        "note": st.sampled_from(["", "skip", "twin one", "x"]),
    }
)
keys = st.one_of(st.sampled_from([b"a", b"b", "ü".encode()]), st.none(), st.just(b"\xff\xfe"))
inputs = st.lists(st.tuples(keys, payment.map(lambda p: json.dumps(p).encode())), max_size=30)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payments=inputs, policy=st.sampled_from(["skip", "dead-letter"]))
def test_compiled_hot_path_equals_the_reference(
    hot_path: Built, payments: Inputs, policy: str
) -> None:
    reference = run(hot_path, payments, compiled=False, policy=policy)
    compiled = run(hot_path, payments, compiled=True, policy=policy)
    assert compiled == reference
    assert compiled["failure"] is None


def test_every_bad_message_meets_the_policy_with_its_place(hot_path: Built) -> None:
    good = json.dumps({"account": "a", "amount": 5, "note": "x"}).encode()
    payments: Inputs = [
        (b"a", good),
        (b"\xff", good),  # a key that is not UTF-8 (the key is never used)
        (b"a", b'{"account": "a", "amount": "5", "note": "x"}'),  # a str amount
        (b"a", json.dumps({"account": "a", "amount": 1, "note": "twin"}).encode()),
        (b"a", good),
        (b"a", None),  # a tombstone: no value to decode
    ]
    reference = run(hot_path, payments, compiled=False, policy="skip")
    compiled = run(hot_path, payments, compiled=True, policy="skip")
    assert compiled == reference
    logged = set(compiled["logged"])
    assert ("hot_path.summarise", "payments[0]@1", "KeyDecodeError") in logged
    assert ("hot_path.echo_notes", "payments[0]@1", "KeyDecodeError") in logged
    assert ("hot_path.summarise", "payments[0]@2", "ValueDecodeError") in logged
    assert ("hot_path.summarise", "payments[0]@5", "ValueDecodeError") in logged
    assert ("hot_path.echo_notes", "payments[0]@3", "ValueError") in logged  # several names
    summaries = [r for log in compiled["outputs"]["summaries"] for r in log]
    assert len(summaries) == 3  # messages 0, 3 and 4
    pinned = compiled["outputs"]["pinned"]
    assert [len(log) for log in pinned] == [0, 1, 2]  # partition = cents % 3: 100, 500, 500
    assert pinned[1][0][1] == b'"100"' and pinned[1][0][3] == (1, 1_700_000_000_500)
    assert pinned[1][0][2] == [("from", b"summarise")]
    failed = run(hot_path, payments, compiled=True, policy="fail")
    assert failed["failure"][1:] == ("payments[0]@1", "KeyDecodeError")


def _built(tmp_path: Path, declarations: str, body: str) -> str:
    """The worker built from an app with an ``Order`` topic ``orders``, ``declarations``
    and one agent over ``orders`` whose body is ``body``."""
    source = tmp_path / "app.py"
    source.write_text(
        "import faust\n\n"
        'app = faust.App("plan-test")\n\n\n'
        "class Order(faust.Record):\n"
        "    account: str\n"
        "    amount: float\n\n\n"
        'orders = app.topic("orders", key_type=str, value_type=Order)\n'
        + declarations
        + "\n\n@app.agent(orders)\n"
        "async def agent(stream: faust.Stream[Order]) -> None:\n" + body
    )
    return compile_source(SourceFile.load(source), tmp_path / "build").text


def _generated(tmp_path: Path, body: str) -> str:
    return _built(tmp_path, 'out = app.topic("out", key_type=str, value_type=float)\n', body)


@pytest.mark.parametrize(
    ("loop", "fields_only"),
    [
        ("stream.filter(lambda o: o.amount > 1).map(lambda o: o.amount)", True),
        ("stream.map(lambda o: (o.account, o.amount))", True),
        ("stream.filter(lambda o: o.amount > 1)", False),  # the Order reaches the body
        ("stream.map(lambda o: o.derive(amount=1.0))", False),  # a method, not a field
        ("stream.map(lambda o: str(o))", False),  # the Order itself
        ("stream.filter(lambda o: o.nothing).map(lambda o: o.amount)", False),  # not a field
        ("stream.map(lambda o: [o for o in [1]][0])", True),  # another `o`: never the Order
        ("stream.filter(lambda o: o.amount > 1).events()", False),
    ],
)
def test_the_plan_decodes_fields_only_where_only_fields_are_read(
    tmp_path: Path, loop: str, fields_only: bool
) -> None:
    text = _generated(tmp_path, f"    async for value in {loop}:\n        print(value)\n")
    assert ("value_decoder(fields_only=True)" in text) is fields_only
    assert "orders.value_decoder(" in text


@pytest.mark.parametrize(
    ("code", "fields_only"),
    [
        ("    async for o in stream:\n        print(o.amount)\n", True),
        (
            "    async for o in stream.filter(lambda x: x.amount > 1):\n"
            "        print(o.account, o.amount)\n",
            True,
        ),
        ("    async for o in stream:\n        f = lambda o: o\n        print(o.amount, f)\n", True),
        ("    async for o in stream:\n        print(o)\n", False),  # the Order itself
        ("    async for o in stream:\n        o.amount = 2.0\n", False),  # a store
        ("    async for o in stream:\n        print(o.amount)\n        o = 3\n", False),
        ("    async for o in stream:\n        del o\n", False),
        ("    async for o in stream:\n        print(o.derive(amount=1.0))\n", False),
        ("    async for o in stream:\n        print(o.amount)\n    print(o)\n", False),
        (
            "    async for o in stream.filter(lambda x: x.amount > 1).events():\n"
            "        print(o.value.amount)\n",
            False,
        ),
        ("    async for o in stream.echo(out):\n        print(o.amount)\n", False),
    ],
)
def test_a_loop_body_that_reads_only_fields_decodes_the_view(
    tmp_path: Path, code: str, fields_only: bool
) -> None:
    """The loop variable may be the Record's view only where every use of it, in the loop
    body and after the loop, reads a field (tests/test_bench.py runs such bodies on the
    broker: stateful_table, windowed, exactly_once)."""
    text = _generated(tmp_path, code)
    assert ("value_decoder(fields_only=True)" in text) is fields_only, text


def test_sends_become_direct_produces(tmp_path: Path) -> None:
    text = _generated(
        tmp_path,
        "    async for order in stream:\n"
        "        await out.send(key=order.account, value=order.amount, partition=1)\n"
        "        out.send_soon(value=order.amount)\n",
    )
    assert "send = app.sender()" in text
    assert 'send("out", encode_key_out(order.account), encode_value_out(order.amount), ' in text
    assert "partition=1)" in text
    # a key and a value only: the client's own produce, send() when it raises
    assert "produce, produce_retry = app.direct_sender()" in text
    assert "send_key = None\n" in text
    assert "send_value = encode_value_out(order.amount)\n" in text
    assert 'produce("out", send_value, send_key)\n' in text
    assert "except produce_retry:" in text
    assert 'send("out", send_key, send_value)\n' in text
    assert "send_soon" not in text


def test_a_direct_produce_that_raises_is_sent_again_once(
    hot_path: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the client's produce raises one of the errors ``direct()`` names (librdkafka:
    a full queue), the compiled loop hands the same bytes to ``send()``: every record
    comes out once, as from the reference."""
    refused: list[str] = []

    def direct(producer: MemoryProducer) -> Any:
        send = producer.send

        def produce(topic: str, value: bytes | None, key: bytes | None) -> None:
            if len(refused) % 2 == 0:
                refused.append(topic)
                raise BufferError("queue full")
            refused.append("")
            send(topic, key, value)

        return produce, (BufferError,)

    monkeypatch.setattr(MemoryProducer, "direct", direct)
    payments: Inputs = [
        (b"k%d" % i, json.dumps({"account": f"a{i}", "amount": i, "note": "n"}).encode())
        for i in range(20)
    ]
    compiled = run(hot_path, payments, compiled=True, policy="fail")
    assert [topic for topic in refused if topic], "no produce was refused"
    assert compiled == run(hot_path, payments, compiled=False, policy="fail")


def _sender_app(tmp_path: Path, record: str, body: str) -> str:
    return _built(
        tmp_path,
        "\n\n" + record + "\n\n"
        'out = app.topic("out", key_type=str, value_type=Total)\n'
        'texts = app.topic("texts", key_type=str, value_type=str)\n'
        'twins = app.topic("twin-a", "twin-b", value_type=Total)\n\n\n'
        "def keep(total: Total) -> None:\n    pass\n",
        body,
    )


TOTAL = "class Total(faust.Record):\n    account: str\n    cents: int\n    ok: bool | None\n"
MAP = "stream.map(lambda o: Total(o.account, round(o.amount), ok=o.amount > 1))"


@pytest.mark.parametrize(
    ("record", "loop", "body", "as_struct"),
    [
        (TOTAL, MAP, "await out.send(key=t.account, value=t)", True),
        (TOTAL, MAP, "out.send_soon(value=t)\n        print(t.cents)", True),
        (TOTAL, MAP, "await texts.send(value=f'{t.cents}')", True),  # fields read only
        (TOTAL, MAP, "await out.send(key=t.account, value=t)\n    print(t)", False),  # after
        (TOTAL, MAP, "keep(t)", False),  # escapes into a function
        (TOTAL, MAP, "print(t)", False),
        (TOTAL, MAP, "t.cents = 1", False),  # a store
        (TOTAL, MAP, "await texts.send(value=t)", False),  # a topic of another type
        (TOTAL, MAP, "await twins.send(value=t)", False),  # two names: send_soon raises
        (TOTAL, MAP, "x = out.send_soon(value=t)", False),  # not a statement
        (TOTAL, MAP, "async def later():\n            await out.send(value=t)", False),
        (TOTAL, "stream.map(lambda o: Total(o.account, 1))", "out.send_soon(value=t)", False),
        (TOTAL, "stream.map(lambda o: Total(*o))", "out.send_soon(value=t)", False),
        (TOTAL, f"{MAP}.filter(lambda t: t.ok)", "out.send_soon(value=t)", False),
        (  # a float field: msgspec writes 1e16 where orjson writes 1e+16
            TOTAL.replace("cents: int", "cents: float"),
            MAP,
            "out.send_soon(value=t)",
            False,
        ),
        (TOTAL + "\n    def total(self) -> int:\n        return 1\n", MAP, "print(t.cents)", False),
        (TOTAL.replace("(faust.Record)", "(faust.Record, validation=True)"), MAP, "pass", False),
        (TOTAL.replace("ok: bool | None", "ok: bool = True"), MAP, "out.send_soon(value=t)", True),
    ],
)
def test_a_record_built_only_to_be_sent_is_built_as_its_json_struct(
    tmp_path: Path, record: str, loop: str, body: str, as_struct: bool
) -> None:
    """The plan builds the Record as a msgspec struct only where nothing but sends on
    JSON topics of its type and field reads can see it, and building it stores its fields
    and nothing else."""
    text = _sender_app(tmp_path, record, f"    async for t in {loop}:\n        {body}\n")
    assert ("value = _TotalOut(" in text) is as_struct, text
    assert ("encode_total_out(t, encode_value_out)" in text) is (as_struct and "value=t" in body)
    compile(text, "worker.py", "exec")


odd_values = st.one_of(
    st.text(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(account=odd_values, cents=odd_values)
def test_the_json_struct_writes_the_bytes_of_the_record(
    hot_path: Built, account: Any, cents: Any
) -> None:
    """``encode_summary_out`` (tests/apps/hot_path.py's Summary built as its struct) writes
    the bytes the topic's dumper writes for the Summary, or raises what it raises: msgspec
    where every value has its field's type, the Summary itself for anything else (floats,
    ints beyond 64 bits, lists ...)."""
    worker = hot_path.worker
    dump = worker.summaries.value_dumper()
    try:
        expected: Any = dump(worker.Summary(account, cents))
    except Exception as exc:
        expected = (type(exc), str(exc))
    try:
        got: Any = worker.encode_summary_out(worker._SummaryOut(account, cents), dump)
    except Exception as exc:
        got = (type(exc), str(exc))
    assert got == expected


@pytest.mark.parametrize(
    ("statement", "call"),
    [
        ("totals[o.account] += 1", "totals.in_place(o.account, _operator.iadd, 1)"),
        ("totals[o.account] -= o.amount", "totals.in_place(o.account, _operator.isub, o.amount)"),
        ("totals['all'] |= flag", "totals.in_place('all', _operator.ior, flag)"),
        ("totals[o.account] += len(o.account)", None),  # a call may touch the table
        ("totals[o.account] += totals['x']", None),
        ("totals[1:2] += 1", None),  # a slice
        ("other[o.account] += 1", None),  # not a table
        ("totals[o.account] = 1", None),
    ],
)
def test_a_table_updated_in_place_is_one_call(
    tmp_path: Path, statement: str, call: str | None
) -> None:
    text = _built(
        tmp_path,
        'totals = app.Table("totals", default=int)\nother: dict[str, int] = {}\nflag = 1\n',
        f"    async for o in stream:\n        {statement}\n",
    )
    if call is None:
        assert "in_place" not in text and "import operator" not in text
        assert statement in text
    else:
        assert call in text and "import operator as _operator\n" in text
    compile(text, "worker.py", "exec")
