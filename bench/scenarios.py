"""The benchmark scenarios: what each one does, its Faust app, and how its outputs are checked.

A scenario is one line of :data:`SCENARIOS`. Its worker side is a Faust app in
``bench/apps/`` (built with ``faustc build``; its consumer group is the app id); until the
runtime supports what the app needs, ``pending`` names the issue and the harness measures
the raw loop alone. Adding a worker side later is writing ``bench/apps/<name>.py`` and
changing ``pending="..."`` to ``app="<name>.py"`` below (and, for content checks under
``--verify``, teaching the scenario's ``verify`` function the worker's output format).

Example::

    scenario = SCENARIOS["stateless_json"]
    scenario.app           # 'stateless_json.py'
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
from data import (
    AVRO_INPUT,
    BIG_ORDER_SCHEMA,
    JSON_INPUT,
    Order,
    expected_big_orders,
    expected_product_counts,
    expected_totals,
    expected_window_counts,
)

#: (key, value) of every record in a topic, in offset order per partition
Records = list[tuple[bytes | None, bytes | None]]
#: verify(orders, side, read(topic) -> Records, topics) -> None, raising AssertionError;
#: ``topics`` are the side's own (``Scenario.raw_topics`` or ``Scenario.worker_topics``)
Verify = Callable[[list[Order], str, Callable[[str], Records], dict[str, str]], None]


@dataclasses.dataclass(frozen=True)
class Peer:
    """The same work done by another framework (``bench/peers/``, ``run.py --peers``)."""

    #: the app file, relative to bench/peers/
    app: str
    #: its consumer group (how the harness follows its progress)
    group: str
    #: its topics with the roles of ``Scenario.raw_topics``
    topics: dict[str, str]
    verify: Verify


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    #: the input topic (JSON or Avro orders, preloaded once per broker)
    input: str
    #: the Faust app in bench/apps/, or None while ``pending``
    app: str | None
    pending: str | None
    #: how often each input message is committed (2: input + repartition topic)
    stages: int
    #: the raw loop's topics besides the input: {"output"|"changelog_topic"|...: name}
    raw_topics: dict[str, str]
    #: the worker app's topics with the same roles (the harness creates only the raw ones:
    #: the worker declares its own, as in production)
    worker_topics: dict[str, str]
    verify: Verify
    raw_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: the same work by faust-streaming and Quix Streams, by peer name
    peers: dict[str, Peer] = dataclasses.field(default_factory=dict)


def _last_values(records: Records) -> dict[bytes | None, bytes | None]:
    latest: dict[bytes | None, bytes | None] = {}
    for key, value in records:
        latest[key] = value
    return latest


def big_orders_json(namespace: str | None) -> Verify:
    """The outputs of stateless_json: JSON BigOrders, with Faust's ``__faust`` metadata
    naming ``namespace`` (None: no metadata, as Quix Streams writes plain JSON)."""

    def verify(
        orders: list[Order], side: str, read: Callable[[str], Records], topics: dict[str, str]
    ) -> None:
        got: Counter[tuple[str, str, int]] = Counter()
        for key, value in read(topics["output"]):
            assert key is not None and value is not None
            decoded = orjson.loads(value)
            metadata = {"ns": namespace} if namespace is not None else None
            assert decoded.get("__faust") == metadata, decoded
            got[(key.decode(), decoded["order_id"], decoded["amount_cents"])] += 1
        expected = expected_big_orders(orders)
        assert got == expected, _difference(got, expected)

    return verify


verify_big_orders_json = big_orders_json("stateless_json.BigOrder")


def verify_big_orders_avro(
    orders: list[Order], side: str, read: Callable[[str], Records], topics: dict[str, str]
) -> None:
    import io

    import fastavro

    schema = fastavro.parse_schema(BIG_ORDER_SCHEMA)
    got: Counter[tuple[str, str, int]] = Counter()
    for key, value in read(topics["output"]):
        assert key is not None and value is not None
        decoded = fastavro.schemaless_reader(io.BytesIO(value), schema)
        got[(key.decode(), decoded["order_id"], decoded["amount_cents"])] += 1
    expected = expected_big_orders(orders)
    assert got == expected, _difference(got, expected)


def verify_totals(
    orders: list[Order], side: str, read: Callable[[str], Records], topics: dict[str, str]
) -> None:
    """Both sides write ``[count, sum]`` JSON per account to the changelog; the raw loop's key
    is the account's bytes, the worker's the account as JSON (as Faust writes table keys)."""
    latest = _last_values(read(topics["changelog_topic"]))
    got = {
        _table_key(side, key): tuple(orjson.loads(value))
        for key, value in latest.items()
        if key is not None and value is not None
    }
    expected = expected_totals(orders)
    assert got == expected, _difference(Counter(got.items()), Counter(expected.items()))


def verify_quix_totals(
    orders: list[Order], side: str, read: Callable[[str], Records], topics: dict[str, str]
) -> None:
    """Quix Streams' changelog: key ``<message key as JSON>|"totals"``, value ``[count,
    sum]`` JSON."""
    latest = _last_values(read(topics["changelog_topic"]))
    got = {}
    for key, value in latest.items():
        assert key is not None and value is not None
        account, state_key = key.split(b"|", 1)
        assert state_key == b'"totals"', key
        got[orjson.loads(account)] = tuple(orjson.loads(value))
    expected = expected_totals(orders)
    assert got == expected, _difference(Counter(got.items()), Counter(expected.items()))


def verify_window_counts(
    orders: list[Order], side: str, read: Callable[[str], Records], topics: dict[str, str]
) -> None:
    """The raw loop's changelog: key ``[account, start ms]``, value ``[count]``; the worker's
    (a Faust windowed table): key ``[account, [start s, end s]]``, value ``count``."""
    latest = _last_values(read(topics["changelog_topic"]))
    got: Counter[tuple[str, int]] = Counter()
    for key, value in latest.items():
        assert key is not None and value is not None
        account, window = orjson.loads(key)
        if side == "raw":
            got[(account, window)] = orjson.loads(value)[0]
        else:
            got[(account, round(window[0] * 1000))] = orjson.loads(value)
    expected = expected_window_counts(orders)
    assert got == expected, _difference(got, expected)


def verify_product_counts(
    orders: list[Order], side: str, read: Callable[[str], Records], topics: dict[str, str]
) -> None:
    """Every order went through the repartition topic once; the count per product (raw:
    ``[count]``, worker: ``count``) is exact."""
    repartitioned = read(topics["repartition_topic"])
    assert len(repartitioned) == len(orders), (len(repartitioned), len(orders))
    latest = _last_values(read(topics["changelog_topic"]))
    got: Counter[str] = Counter()
    for key, value in latest.items():
        assert key is not None and value is not None
        count = orjson.loads(value)
        got[_table_key(side, key)] = count[0] if side == "raw" else count
    expected = expected_product_counts(orders)
    assert got == expected, _difference(got, expected)


def _table_key(side: str, key: bytes) -> str:
    return key.decode() if side == "raw" else str(orjson.loads(key))


def _difference(got: Counter[Any], expected: Counter[Any]) -> str:
    missing = list((expected - got).items())[:3]
    extra = list((got - expected).items())[:3]
    return (
        f"{sum(got.values())} results, expected {sum(expected.values())}; "
        f"missing e.g. {missing}; unexpected e.g. {extra}"
    )


def _raw(name: str, *kinds: str) -> dict[str, str]:
    suffix = {"output": "out", "changelog_topic": "changelog", "repartition_topic": "repartition"}
    return {kind: f"raw-{name}-{suffix[kind]}" for kind in kinds}


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in [
        Scenario(
            "stateless_json",
            "filter amount >= 500, map to BigOrder (cents), produce keyed by account; JSON",
            JSON_INPUT,
            app="stateless_json.py",
            pending=None,
            stages=1,
            raw_topics=_raw("stateless_json", "output"),
            worker_topics={"output": "bench-stateless-json-out"},
            verify=verify_big_orders_json,
            peers={
                "faust-streaming": Peer(
                    "faust_streaming/faust_stateless_json.py",
                    "bench-peer-faust-stateless-json",
                    {"output": "bench-peer-faust-stateless-json-out"},
                    big_orders_json("faust_stateless_json.BigOrder"),
                ),
                "quixstreams": Peer(
                    "quixstreams/quix_stateless_json.py",
                    "bench-peer-quix-stateless-json",
                    {"output": "bench-peer-quix-stateless-json-out"},
                    big_orders_json(None),
                ),
            },
        ),
        Scenario(
            "stateless_avro",
            "the same with schemaless Avro values (the avro codec)",
            AVRO_INPUT,
            app="stateless_avro.py",
            pending=None,
            stages=1,
            raw_topics=_raw("stateless_avro", "output"),
            worker_topics={"output": "bench-stateless-avro-out"},
            verify=verify_big_orders_avro,
        ),
        Scenario(
            "stateful_table",
            "count and sum of amounts per account in a RocksDB table with its changelog",
            JSON_INPUT,
            app="stateful_table.py",
            pending=None,
            stages=1,
            raw_topics=_raw("stateful_table", "changelog_topic"),
            worker_topics={"changelog_topic": "bench-stateful-table-totals-changelog"},
            verify=verify_totals,
            peers={
                "faust-streaming": Peer(
                    "faust_streaming/faust_stateful_table.py",
                    "bench-peer-faust-stateful-table",
                    {"changelog_topic": "bench-peer-faust-stateful-table-totals-changelog"},
                    verify_totals,
                ),
                "quixstreams": Peer(
                    "quixstreams/quix_stateful_table.py",
                    "bench-peer-quix-stateful-table",
                    {
                        "changelog_topic": (
                            "changelog__bench-peer-quix-stateful-table--bench-orders--default"
                        )
                    },
                    verify_quix_totals,
                ),
            },
        ),
        Scenario(
            "windowed",
            "count per account in 10 s tumbling windows (event time), RocksDB + changelog",
            JSON_INPUT,
            app="windowed.py",
            pending=None,
            stages=1,
            raw_topics=_raw("windowed", "changelog_topic"),
            worker_topics={"changelog_topic": "bench-windowed-counts-changelog"},
            verify=verify_window_counts,
        ),
        Scenario(
            "group_by",
            "repartition by product, then count per product (RocksDB + changelog)",
            JSON_INPUT,
            app="group_by.py",
            pending=None,
            stages=2,
            raw_topics=_raw("group_by", "repartition_topic", "changelog_topic"),
            worker_topics={
                "repartition_topic": "group_by.count_products-bench-orders-product-repartition",
                "changelog_topic": "bench-group-by-counts-changelog",
            },
            verify=verify_product_counts,
        ),
        Scenario(
            "exactly_once",
            "stateful_table under processing_guarantee='exactly_once' (transactions)",
            JSON_INPUT,
            app="exactly_once.py",
            pending=None,
            stages=1,
            raw_topics=_raw("exactly_once", "changelog_topic"),
            worker_topics={"changelog_topic": "bench-exactly-once-totals-changelog"},
            verify=verify_totals,
            raw_options={"eos": True},
        ),
    ]
}

INPUT_CODECS = {JSON_INPUT: "json", AVRO_INPUT: "avro"}
