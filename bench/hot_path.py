"""Where the microseconds of one stateless_json message go: the worker's steps vs the raw loop's.

No broker: each step runs alone over the same 200,000 encoded orders (best of 7), using the
runtime's own objects for ``bench/apps/stateless_json.py`` (its topics' loaders and dumpers,
its Records), twice: on the generic path (the reference runtime, what an uncompiled app
uses) and with the codecs ``faustc build`` generated (the worker is built into a temporary
directory and imported, which installs them). ``send_soon`` goes to a real confluent-kafka
Producer whose broker does not exist, so records only queue in librdkafka. Usage::

    python bench/hot_path.py

It complements the py-spy profile of a real run (bench/README.md): that one shows the
shares, this one the cost of each step in isolation.
"""

from __future__ import annotations

import collections
import gc
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))

import msgspec  # noqa: E402
import orjson  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from data import BIG, json_value, make_orders  # noqa: E402
from raw_loops import BIG_ORDER_NS, BigOrderStruct, OrderStruct  # noqa: E402
from stateless_json import BigOrder, Order, app, big_orders_topic, orders_topic  # noqa: E402

from faust.running import Running  # noqa: E402
from faust.serializers import generated  # noqa: E402
from faust.transport.kafka import KafkaProducer  # noqa: E402

N = 200_000
ROUNDS = 7

Step = tuple[str, Callable[[], object], int]


def drain(results: Iterable[object]) -> None:
    """Run a generator to its end, keeping nothing (a kept result would make the GC work)."""
    collections.deque(results, maxlen=0)


def best_us(step: Callable[[], object], count: int) -> float:
    """Best of ROUNDS runs of ``step`` (which handles ``count`` items), in µs per item."""
    times = []
    for _ in range(ROUNDS):
        gc.collect()
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times) / count * 1e6


def import_built_worker(out: Path) -> None:
    """Build bench/apps/stateless_json.py and import the worker: its codecs get installed."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "faustc",
            "build",
            "--no-typecheck",
            str(BENCH / "apps" / "stateless_json.py"),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(out))
    importlib.import_module("stateless_json_worker")


def worker_steps(keys: list[bytes], values: list[bytes], count_big: int) -> list[Step]:
    """The fused loop's steps, with the loaders and dumpers in force right now."""
    load_key, load_value = orders_topic.key_loader(), orders_topic.value_loader()
    records = [load_value(v) for v in values]
    big_records = [
        BigOrder(r.order_id, r.account_id, round(r.amount * 100))
        for r in records
        if r.amount >= BIG
    ]
    dump_key, dump_value = big_orders_topic._dump_key, big_orders_topic._dump_value
    send_soon = big_orders_topic.send_soon
    assert app.running is not None
    producer = app.running.producer
    assert isinstance(producer, KafkaProducer)

    def sends() -> None:
        for record in big_records:
            send_soon(key=record.account_id, value=record)
        producer._producer.purge()

    def map_step() -> None:
        drain(
            BigOrder(r.order_id, r.account_id, round(r.amount * 100))
            for r in records
            if r.amount >= BIG
        )

    return [
        ("load_key (str key, never used by the agent)", lambda: drain(map(load_key, keys)), N),
        ("load_value (bytes -> Order)", lambda: drain(map(load_value, values)), N),
        ("map: BigOrder(...) (per output)", map_step, count_big),
        (
            "dump key (per output)",
            lambda: drain(dump_key(r.account_id) for r in big_records),
            count_big,
        ),
        ("dump value (per output)", lambda: drain(map(dump_value, big_records)), count_big),
        ("topic.send_soon(key=, value=) whole (per output)", sends, count_big),
    ]


def main() -> None:
    orders = make_orders(N)
    keys = [o.account_id.encode() for o in orders]
    values = [json_value(o) for o in orders]
    count_big = sum(1 for o in orders if o.amount >= BIG)

    nowhere = {"bootstrap.servers": "127.0.0.1:9", "queue.buffering.max.messages": 2_000_000}
    nowhere |= {"log_level": 0, "queue.buffering.max.kbytes": 2_000_000}
    raw_producer = Producer({**nowhere, "partitioner": "murmur2_random"})
    app.running = Running(  # what the worker lends the app
        KafkaProducer({**nowhere, "partitioner": "murmur2_random", "enable.idempotence": True})
    )

    with tempfile.TemporaryDirectory() as out:
        import_built_worker(Path(out))
    with generated.suspended():
        generic = worker_steps(keys, values, count_big)
        generic_costs = [(name, best_us(step, count), count) for name, step, count in generic]
    assert app.codecs.generated(Order) is not None, "the built worker installed no codecs"
    compiled = worker_steps(keys, values, count_big)
    compiled_costs = [(name, best_us(step, count), count) for name, step, count in compiled]

    decode = msgspec.json.Decoder(OrderStruct).decode
    encode = msgspec.json.Encoder().encode
    big_structs = [s for s in map(decode, values) if s.amount >= BIG]
    raw_outputs = [
        (
            encode(BigOrderStruct(s.order_id, s.account_id, round(s.amount * 100), BIG_ORDER_NS)),
            s.account_id.encode(),
        )
        for s in big_structs
    ]

    def produce_raw() -> None:
        produce = raw_producer.produce
        for value, key in raw_outputs:
            produce("out", value, key)
        raw_producer.purge()

    def encode_raw() -> None:
        drain(
            (
                encode(
                    BigOrderStruct(s.order_id, s.account_id, round(s.amount * 100), BIG_ORDER_NS)
                ),
                s.account_id.encode(),
            )
            for s in big_structs
        )

    raw_steps: list[Step] = [
        ("msgspec decode to a Struct", lambda: drain(map(decode, values)), N),
        ("BigOrderStruct + encode + key encode (per output)", encode_raw, count_big),
        ("producer.produce (per output)", produce_raw, count_big),
    ]
    raw_costs = [(name, best_us(step, count), count) for name, step, count in raw_steps]
    for_scale = [
        ("(orjson.loads alone, for scale)", lambda: drain(map(orjson.loads, values)), N),
        ("(key.decode() inline, for scale)", lambda: drain(k.decode() for k in keys), N),
    ]
    scale_costs = [(name, best_us(step, count), count) for name, step, count in for_scale]

    share = f"{count_big:,} outputs ({count_big / N:.0%})"
    print(f"{N:,} orders, {share}; best of {ROUNDS}; pid {os.getpid()}")
    print(f"\n{'step':56s} {'generic':>8s} {'generated':>10s}   (µs per input message)")
    for (name, generic_cost, count), (_, compiled_cost, _) in zip(
        generic_costs, compiled_costs, strict=True
    ):
        print(f"  {name:54s} {generic_cost * count / N:8.3f} {compiled_cost * count / N:10.3f}")
    print("\nraw loop:")
    for name, cost, count in raw_costs + scale_costs:
        print(f"  {name:54s} {cost * count / N:8.3f}")


if __name__ == "__main__":
    main()
