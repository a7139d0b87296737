"""Where the microseconds of one stateless_json message go: the worker's steps vs the raw loop's.

No broker: each step runs alone over the same 200,000 encoded orders (best of 5), using the
runtime's own objects from ``bench/apps/stateless_json.py`` (its topics' loaders and dumpers,
its Records) and the raw loop's decoder. ``produce`` goes to a real confluent-kafka Producer
whose broker does not exist, so records only queue in librdkafka. Usage::

    python bench/hot_path.py

It complements the py-spy profile of a real run (bench/README.md): that one shows the
shares, this one the cost of each step in isolation.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypedDict

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))

import msgspec  # noqa: E402
import orjson  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from data import BIG, json_value, make_orders  # noqa: E402
from raw_loops import BIG_ORDER_NS, BigOrderStruct, OrderStruct  # noqa: E402
from stateless_json import BigOrder, Order, app, big_orders_topic, orders_topic  # noqa: E402

from faust.transport.kafka import KafkaProducer  # noqa: E402

N = 200_000


class OrderFields(TypedDict):
    """The fields of the bench app's Order, for msgspec's typed decoding."""

    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


ROUNDS = 7


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


def main() -> None:
    orders = make_orders(N)
    keys = [o.account_id.encode() for o in orders]
    values = [json_value(o) for o in orders]
    big = [o for o in orders if o.amount >= BIG]
    share = len(big) / N  # outputs per input message

    load_key, load_value = orders_topic.key_loader(), orders_topic.value_loader()
    decoded = [orjson.loads(v) for v in values]
    records = [load_value(v) for v in values]
    big_records = [
        BigOrder(r.order_id, r.account_id, round(r.amount * 100))
        for r in records
        if r.amount >= BIG
    ]
    dump_key, dump_value = big_orders_topic._dump_key, big_orders_topic._dump_value

    nowhere = {"bootstrap.servers": "127.0.0.1:9", "queue.buffering.max.messages": 2_000_000}
    nowhere |= {"log_level": 0, "queue.buffering.max.kbytes": 2_000_000}
    raw_producer = Producer({**nowhere, "partitioner": "murmur2_random"})
    runtime_producer = KafkaProducer(
        {**nowhere, "partitioner": "murmur2_random", "enable.idempotence": True}
    )
    app.producer = runtime_producer  # type: ignore[assignment]

    decode = msgspec.json.Decoder(OrderStruct).decode
    encode = msgspec.json.Encoder().encode
    structs = [decode(v) for v in values]
    big_structs = [s for s in structs if s.amount >= BIG]
    raw_outputs = [
        (
            encode(BigOrderStruct(s.order_id, s.account_id, round(s.amount * 100), BIG_ORDER_NS)),
            s.account_id.encode(),
        )
        for s in big_structs
    ]

    def sends(send: Callable[..., Any]) -> Callable[[], None]:
        async def loop() -> None:
            for record in big_records:
                await send(key=record.account_id, value=record)

        return lambda: asyncio.run(loop())

    def produce_raw() -> None:
        produce = raw_producer.produce
        for value, key in raw_outputs:
            produce("out", value, key)
        raw_producer.purge()

    def produce_runtime() -> None:
        send_raw = app.send_raw
        for value, key in raw_outputs:
            send_raw("out", key, value)
        runtime_producer._producer.purge()

    def noop_send(*, key: Any, value: Any) -> None:
        return None

    async def noop_send_async(*, key: Any, value: Any) -> None:
        return None

    worker_steps: list[tuple[str, Callable[[], object], int]] = [
        ("load_key (str key: utf-8 decode, unused)", lambda: drain(load_key(k) for k in keys), N),
        ("load_value total", lambda: drain(load_value(v) for v in values), N),
        ("  orjson.loads", lambda: drain(orjson.loads(v) for v in values), N),
        (
            "  Order.from_data (dict -> Record)",
            lambda: drain(Order.from_data(d) for d in decoded),
            N,
        ),
        (
            "map: BigOrder(...) (per output)",
            lambda: drain(
                BigOrder(r.order_id, r.account_id, round(r.amount * 100))
                for r in records
                if r.amount >= BIG
            ),
            len(big),
        ),
        (
            "dump key (per output)",
            lambda: drain(dump_key(r.account_id) for r in big_records),
            len(big),
        ),
        ("dump value (per output)", lambda: drain(dump_value(r) for r in big_records), len(big)),
        (
            "  to_representation",
            lambda: drain(r.to_representation() for r in big_records),
            len(big),
        ),
        ("app.send_raw -> produce (per output)", produce_runtime, len(big)),
        ("await topic.send(...) whole (per output)", sends(big_orders_topic.send), len(big)),
        ("  of which: an awaited no-op coroutine", sends(noop_send_async), len(big)),
        (
            "  a plain call instead (no coroutine)",
            lambda: drain(noop_send(key=r.account_id, value=r) for r in big_records),
            len(big),
        ),
    ]
    raw_steps: list[tuple[str, Callable[[], object], int]] = [
        ("msgspec decode to a Struct", lambda: drain(decode(v) for v in values), N),
        (
            "BigOrderStruct + encode + key encode (per output)",
            lambda: drain(
                (
                    encode(
                        BigOrderStruct(
                            s.order_id, s.account_id, round(s.amount * 100), BIG_ORDER_NS
                        )
                    ),
                    s.account_id.encode(),
                )
                for s in big_structs
            ),
            len(big),
        ),
        ("producer.produce (per output)", produce_raw, len(big)),
    ]
    # What bench/README.md proposes for generated codecs (not in the runtime yet).
    decode_fields = msgspec.json.Decoder(OrderFields).decode
    new = object.__new__
    namespace = {"ns": BigOrder._options.namespace}
    dumps = orjson.dumps

    def load_order_generated(data: bytes) -> Order:
        record = new(Order)
        record.__dict__ = decode_fields(data)
        return record

    def dump_big_order_generated(record: BigOrder) -> bytes:
        fields = record.__dict__
        return dumps(
            {
                "order_id": fields["order_id"],
                "account_id": fields["account_id"],
                "amount_cents": fields["amount_cents"],
                "__faust": namespace,
            }
        )

    assert load_order_generated(values[0]) == load_value(values[0])
    assert dump_big_order_generated(big_records[0]) == dump_value(big_records[0])
    proposal_steps: list[tuple[str, Callable[[], object], int]] = [
        (
            "msgspec TypedDict decode + __dict__ (load_value)",
            lambda: drain(load_order_generated(v) for v in values),
            N,
        ),
        (
            "one orjson.dumps of the fields (dump value)",
            lambda: drain(dump_big_order_generated(r) for r in big_records),
            len(big),
        ),
        ("key bytes .decode() inline (load_key)", lambda: drain(k.decode() for k in keys), N),
    ]
    print(f"{N:,} orders, {len(big):,} outputs ({share:.0%}); best of {ROUNDS}; pid {os.getpid()}")
    sections = (
        ("worker (runtime objects)", worker_steps),
        ("raw loop", raw_steps),
        ("proposed generated codecs (bench/README.md)", proposal_steps),
    )
    for title, steps in sections:
        print(f"\n{title}:")
        for name, step, count in steps:
            cost = best_us(step, count)
            per_input = cost * count / N
            print(f"  {name:52s} {cost:6.3f} us/each  {per_input:6.3f} us per input message")


if __name__ == "__main__":
    main()
