"""Hand-written confluent-kafka loops: the practical limit the compiled worker is measured against.

One loop per scenario, each the fastest honest version of the work a scenario describes
(see bench/README.md): batch consume, the fastest decoder we would pick by hand, the same
filter/map/table update as the Faust app, produce, and commit after flush, with the worker's
commit cadence (every 10,000 messages or 2.8 s) and the worker's consumer/producer settings.
SIGTERM finishes the batch in hand, flushes, commits and exits 0, as the worker does.
``bench/run.py`` starts it with one JSON argument::

    python bench/raw_loops.py '{"scenario": "stateless_json", "bootstrap": "127.0.0.1:9092",
                                "group": "raw-stateless_json", "input": "bench-orders",
                                "output": "raw-stateless_json-out"}'

Options (keys of the JSON, defaults in ``DEFAULTS``) select the alternatives measured in
bench/README.md: ``batch``; ``consume`` (``drain`` or ``batch``); ``codec`` (``msgspec`` or
``orjson``); ``avro_decode`` (``python``: a reader written by hand, ``batch``: fastavro
reads the batch as one array, or ``message``); ``avro_encode`` (``specialised`` or
``fastavro``); ``produce`` (``produce`` or ``produce_batch``); ``changelog`` (``commit`` or
``update``); ``gc`` (``default``, or ``tuned``: freeze the start-up heap and collect the
youngest generation every 50,000 allocations); ``consumer``/``producer`` (extra librdkafka
properties).
"""

from __future__ import annotations

import gc
import io
import json
import os
import signal
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

import fastavro
import msgspec
import orjson
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from rocksdict import Options, Rdict, WriteBatch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from data import BIG, BIG_ORDER_SCHEMA, ORDER_SCHEMA, WINDOW_MS

#: the worker's defaults (runtime/faust/settings.py), so both sides commit alike
COMMIT_EVERY = 10_000
COMMIT_INTERVAL = 2.8

DEFAULTS: dict[str, Any] = {
    "batch": 4096,
    "consume": "drain",
    "codec": "msgspec",
    "avro_decode": "python",
    "avro_encode": "specialised",
    "produce": "produce",
    "changelog": "commit",
    "eos": False,
    "gc": "default",
    "commit_interval": COMMIT_INTERVAL,
    "consumer": {},
    "producer": {},
}

#: the namespace the compiled worker writes in its JSON output (module stateless_json)
BIG_ORDER_NS = {"ns": "stateless_json.BigOrder"}

Batch = list[Any]
Process = Callable[[Batch], None]


class Loop:
    """Consumer, producer, commit and shutdown: the part every scenario shares."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.stopping = False
        consumer_config: dict[str, Any] = {
            "bootstrap.servers": config["bootstrap"],
            "group.id": config["group"],
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            # the settings the harness gives the worker (a Tansu group join takes half of it)
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
            # the worker's prefetch (faust.transport.client_config.PREFETCH_MESSAGES)
            "queued.min.messages": 10_000,
            "fetch.queue.backoff.ms": 5,
        }
        producer_config: dict[str, Any] = {
            "bootstrap.servers": config["bootstrap"],
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
            "delivery.report.only.error": True,
            "on_delivery": self._on_delivery,
        }
        if config["eos"]:
            consumer_config["isolation.level"] = "read_committed"
            producer_config["transactional.id"] = f"{config['group']}-producer"
        consumer_config.update(config["consumer"])
        producer_config.update(config["producer"])
        self.consumer = Consumer(consumer_config)
        self.producer = Producer(producer_config)
        self.failures: list[str] = []
        #: called before every commit: write buffered state, produce its changelog
        self.before_commit: Callable[[], None] = lambda: None
        #: called after the offsets are committed (exactly-once: apply state to the store)
        self.after_commit: Callable[[], None] = lambda: None
        if config["eos"]:
            self.producer.init_transactions(30)
            self.producer.begin_transaction()

    def _on_delivery(self, error: Any, message: Any) -> None:
        if error is not None:
            self.failures.append(f"{message.topic()}[{message.partition()}]: {error}")

    def run(self, topics: list[str], process: Process) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        consumer, producer = self.consumer, self.producer
        size = self.config["batch"]
        drain = self.config["consume"] == "drain"
        interval = self.config["commit_interval"]
        uncommitted = 0
        last_commit = time.monotonic()
        while not self.stopping:
            if drain:  # the worker's pattern: take what is buffered, else wait for one
                batch = consumer.consume(size, 0)
                if not batch:
                    first = consumer.poll(0.1)
                    batch = [first, *consumer.consume(size - 1, 0)] if first is not None else []
            else:
                batch = consumer.consume(size, 0.1)
            if batch:
                for message in batch:
                    if message.error() is not None:
                        raise KafkaException(message.error())
                process(batch)
                producer.poll(0)
                uncommitted += len(batch)
            if uncommitted and (
                uncommitted >= COMMIT_EVERY or time.monotonic() - last_commit >= interval
            ):
                self.commit()
                uncommitted = 0
                last_commit = time.monotonic()
        self.commit()
        consumer.close()

    def commit(self, partitions: list[TopicPartition] | None = None) -> None:
        consumer, producer = self.consumer, self.producer
        self.before_commit()
        positions = consumer.position(
            partitions if partitions is not None else consumer.assignment()
        )
        offsets = [tp for tp in positions if tp.offset >= 0]
        if self.config["eos"]:
            producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(60)
            self.after_commit()
            producer.begin_transaction()
            return
        if producer.flush(60) or self.failures:
            raise SystemExit(f"records not delivered: {self.failures[:1]}")
        if offsets:
            consumer.commit(offsets=offsets, asynchronous=False)

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # the latency scenario starts its load when it reads this line
        print(f"assigned {len(partitions)} partition(s)", flush=True)

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        if partitions:
            self.commit(partitions)

    def _stop(self, _signum: int, _frame: Any) -> None:
        self.stopping = True


# -- decoders picked by hand -----------------------------------------------------------------


class OrderStruct(msgspec.Struct):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


class BigOrderStruct(msgspec.Struct, rename={"faust": "__faust"}):
    order_id: str
    account_id: str
    amount_cents: int
    faust: dict[str, str]


def order_decoder(codec: str) -> Callable[[bytes], Any]:
    """``bytes -> object with .amount etc.`` (msgspec) or ``-> dict`` (orjson)."""
    if codec == "msgspec":
        return msgspec.json.Decoder(OrderStruct).decode
    return orjson.loads


def _zigzag_varint(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    if n < 0x80:
        return _SMALL_VARINTS[n]
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL_VARINTS = [bytes((n,)) for n in range(0x80)]
#: a one-byte Avro length (0..63) by its byte, -1 for every other byte
_SHORT_LENGTHS = tuple(b >> 1 if b < 0x80 and not b & 1 else -1 for b in range(256))
_unpack_double = struct.Struct("<d").unpack_from


def _read_long(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (value >> 1) ^ -(value & 1), pos
        shift += 7


def _read_string(data: bytes, pos: int) -> tuple[str, int]:
    length, pos = _read_long(data, pos)
    if length < 0 or pos + length > len(data):
        raise ValueError("bad string length")
    return data[pos : pos + length].decode(), pos + length


def decode_order_avro(data: bytes) -> tuple[str, str, str, float, str]:
    """ORDER_SCHEMA's datum read by hand: (order_id, account_id, product_id, amount,
    currency). About 3x faster than fastavro's reader (bench/README.md)."""
    pos = 0
    length = _SHORT_LENGTHS[data[pos]]
    if length < 0:
        order_id, pos = _read_string(data, pos)
    else:
        pos += 1
        order_id = data[pos : pos + length].decode()
        pos += length
    length = _SHORT_LENGTHS[data[pos]]
    if length < 0:
        account_id, pos = _read_string(data, pos)
    else:
        pos += 1
        account_id = data[pos : pos + length].decode()
        pos += length
    length = _SHORT_LENGTHS[data[pos]]
    if length < 0:
        product_id, pos = _read_string(data, pos)
    else:
        pos += 1
        product_id = data[pos : pos + length].decode()
        pos += length
    (amount,) = _unpack_double(data, pos)
    pos += 8
    length = _SHORT_LENGTHS[data[pos]]
    if length < 0:
        currency, pos = _read_string(data, pos)
    else:
        pos += 1
        currency = data[pos : pos + length].decode()
        pos += length
    if pos != len(data):
        raise ValueError("not one datum of ORDER_SCHEMA")
    return order_id, account_id, product_id, amount, currency


def encode_big_order_avro(order_id: str, account_id: str, amount_cents: int) -> bytes:
    """BIG_ORDER_SCHEMA's datum written by hand (what fastavro writes, about 1 µs sooner)."""
    order_id_bytes, account_id_bytes = order_id.encode(), account_id.encode()
    return b"".join(
        (
            _zigzag_varint(len(order_id_bytes)),
            order_id_bytes,
            _zigzag_varint(len(account_id_bytes)),
            account_id_bytes,
            _zigzag_varint(amount_cents),
        )
    )


# -- the scenarios ---------------------------------------------------------------------------


def stateless_json(loop: Loop, config: dict[str, Any]) -> tuple[list[str], Process]:
    """Keep orders >= BIG, map to BigOrder (amount in cents), produce keyed by account."""
    output = config["output"]
    produce = loop.producer.produce
    if config["codec"] == "msgspec":
        decode = msgspec.json.Decoder(OrderStruct).decode
        encode = msgspec.json.Encoder().encode

        if config["produce"] == "produce_batch":
            produce_batch = loop.producer.produce_batch

            def process(batch: Batch) -> None:
                outputs = []
                for message in batch:
                    order = decode(message.value())
                    if order.amount >= BIG:
                        outputs.append(
                            {
                                "value": encode(
                                    BigOrderStruct(
                                        order.order_id,
                                        order.account_id,
                                        round(order.amount * 100),
                                        BIG_ORDER_NS,
                                    )
                                ),
                                "key": order.account_id.encode(),
                            }
                        )
                if outputs:
                    produce_batch(output, outputs)

            return [config["input"]], process

        def process(batch: Batch) -> None:
            for message in batch:
                order = decode(message.value())
                if order.amount >= BIG:
                    produce(
                        output,
                        encode(
                            BigOrderStruct(
                                order.order_id,
                                order.account_id,
                                round(order.amount * 100),
                                BIG_ORDER_NS,
                            )
                        ),
                        order.account_id.encode(),
                    )

        return [config["input"]], process

    loads, dumps = orjson.loads, orjson.dumps

    def process_orjson(batch: Batch) -> None:
        for message in batch:
            order = loads(message.value())
            if order["amount"] >= BIG:
                produce(
                    output,
                    dumps(
                        {
                            "order_id": order["order_id"],
                            "account_id": order["account_id"],
                            "amount_cents": round(order["amount"] * 100),
                            "__faust": BIG_ORDER_NS,
                        }
                    ),
                    order["account_id"].encode(),
                )

    return [config["input"]], process_orjson


def stateless_avro(loop: Loop, config: dict[str, Any]) -> tuple[list[str], Process]:
    """stateless_json with schemaless Avro datums in and out (fastavro)."""
    output = config["output"]
    produce = loop.producer.produce
    order_schema = fastavro.parse_schema(ORDER_SCHEMA)
    orders_schema = fastavro.parse_schema({"type": "array", "items": ORDER_SCHEMA})
    big_order_schema = fastavro.parse_schema(BIG_ORDER_SCHEMA)
    reader, writer, BytesIO = fastavro.schemaless_reader, fastavro.schemaless_writer, io.BytesIO

    def decode_batch(batch: Batch) -> list[dict[str, Any]]:
        if config["avro_decode"] == "batch":
            # One call for the whole batch: the datums, framed as one Avro array block.
            framed = b"".join([_zigzag_varint(len(batch)), *[m.value() for m in batch], b"\0"])
            decoded: list[dict[str, Any]] = reader(BytesIO(framed), orders_schema)
            return decoded
        return [reader(BytesIO(m.value()), order_schema) for m in batch]

    if config["avro_decode"] == "python":
        if config["avro_encode"] != "specialised":
            raise SystemExit("avro_decode=python goes with avro_encode=specialised")

        def process_by_hand(batch: Batch) -> None:
            for message in batch:
                order_id, account_id, _, amount, _ = decode_order_avro(message.value())
                if amount >= BIG:
                    produce(
                        output,
                        encode_big_order_avro(order_id, account_id, round(amount * 100)),
                        account_id.encode(),
                    )

        return [config["input"]], process_by_hand

    if config["avro_encode"] == "specialised":

        def process_specialised(batch: Batch) -> None:
            for order in decode_batch(batch):
                if order["amount"] >= BIG:
                    account_id = order["account_id"]
                    produce(
                        output,
                        encode_big_order_avro(
                            order["order_id"], account_id, round(order["amount"] * 100)
                        ),
                        account_id.encode(),
                    )

        return [config["input"]], process_specialised

    def process(batch: Batch) -> None:
        for order in decode_batch(batch):
            if order["amount"] >= BIG:
                buffer = BytesIO()
                writer(
                    buffer,
                    big_order_schema,
                    {
                        "order_id": order["order_id"],
                        "account_id": order["account_id"],
                        "amount_cents": round(order["amount"] * 100),
                    },
                )
                produce(output, buffer.getvalue(), order["account_id"].encode())

    return [config["input"]], process


class Stores:
    """One RocksDB (rocksdict, raw bytes) per (table, partition) under ``datadir``."""

    def __init__(self, datadir: str, table: str) -> None:
        self.datadir = datadir
        self.table = table
        self.open: dict[int, Rdict] = {}

    def __getitem__(self, partition: int) -> Rdict:
        store = self.open.get(partition)
        if store is None:
            options = Options(raw_mode=True)
            options.create_if_missing(True)
            path = os.path.join(self.datadir, f"{self.table}-{partition}")
            store = self.open[partition] = Rdict(path, options)
        return store

    def write(self, partition: int, batch: WriteBatch) -> None:
        self[partition].write(batch)

    def close(self) -> None:
        for store in self.open.values():
            store.close()


def _table(
    loop: Loop,
    config: dict[str, Any],
    update: Callable[[Any, list[Any]], None],
    initial: Callable[[], list[Any]],
    encode_key: Callable[[Any], bytes],
) -> tuple[Callable[[int, Any, Any], None], Stores]:
    """A changelogged RocksDB table with a write cache that is flushed at every commit.

    Returns ``apply(partition, key, message_value)``. Each commit writes every key changed
    since the last one: one changelog record per key (``changelog: commit``; ``update``
    sends one per update, as Faust does), then one WriteBatch per partition. Under
    exactly-once the store is written only after the transaction commits.
    """
    stores = Stores(config["datadir"], config["table"])
    changelog = config["changelog_topic"]
    produce = loop.producer.produce
    dirty: dict[tuple[int, Any], list[Any]] = {}
    loads, dumps = orjson.loads, orjson.dumps
    per_update = config["changelog"] == "update"
    pending_writes: dict[int, WriteBatch] = {}

    def apply(partition: int, key: Any, value: Any) -> None:
        slot = (partition, key)
        state = dirty.get(slot)
        if state is None:
            stored = stores[partition].get(encode_key(key))
            state = dirty[slot] = initial() if stored is None else loads(stored)
        update(value, state)
        if per_update:
            produce(changelog, dumps(state), encode_key(key), partition)

    def flush_changes() -> None:
        for (partition, key), state in dirty.items():
            key_bytes, value_bytes = encode_key(key), dumps(state)
            if not per_update:
                produce(changelog, value_bytes, key_bytes, partition)
            batch = pending_writes.get(partition)
            if batch is None:
                batch = pending_writes[partition] = WriteBatch(raw_mode=True)
            batch.put(key_bytes, value_bytes)
        dirty.clear()
        if not config["eos"]:
            write_stores()

    def write_stores() -> None:
        for partition, batch in pending_writes.items():
            stores.write(partition, batch)
        pending_writes.clear()

    loop.before_commit = flush_changes
    loop.after_commit = write_stores
    return apply, stores


def _add_order(order: Any, state: list[Any]) -> None:
    state[0] += 1
    state[1] += order.amount


def stateful_table(loop: Loop, config: dict[str, Any]) -> tuple[list[str], Process]:
    """Count and sum of amounts per account (the message key) in a changelogged table."""
    decode = order_decoder("msgspec")
    apply, _stores = _table(loop, config, _add_order, lambda: [0, 0.0], lambda key: key)

    def process(batch: Batch) -> None:
        for message in batch:
            apply(message.partition(), message.key(), decode(message.value()))

    return [config["input"]], process


def _count(_value: Any, state: list[Any]) -> None:
    state[0] += 1


def windowed(loop: Loop, config: dict[str, Any]) -> tuple[list[str], Process]:
    """Count per account in tumbling windows of WINDOW_MS on the message timestamp.

    The table key is ``[account, window start ms]`` as JSON, the value ``[count]``.
    """
    decode = order_decoder("msgspec")
    apply, _stores = _table(
        loop, config, _count, lambda: [0], lambda key: orjson.dumps([key[0], key[1]])
    )

    def process(batch: Batch) -> None:
        for message in batch:
            order = decode(message.value())
            timestamp = message.timestamp()[1]
            apply(
                message.partition(),
                (order.account_id, timestamp - timestamp % WINDOW_MS),
                order,
            )

    return [config["input"]], process


def group_by(loop: Loop, config: dict[str, Any]) -> tuple[list[str], Process]:
    """Repartition the orders by product (the value bytes unchanged), then count per product.

    One consumer reads both the input and the repartition topic, as a Faust worker does.
    """
    source, repartition = config["input"], config["repartition_topic"]
    decode = order_decoder("msgspec")
    produce = loop.producer.produce
    apply, _stores = _table(loop, config, _count, lambda: [0], lambda key: key)

    def process(batch: Batch) -> None:
        for message in batch:
            if message.topic() == source:
                value = message.value()
                produce(repartition, value, decode(value).product_id.encode())
            else:
                apply(message.partition(), message.key(), None)

    return [source, repartition], process


#: the column family and key under which a restored store keeps its changelog offset
#: (the worker's own layout: data and offset go into one WriteBatch)
META_FAMILY = "__faust__"
OFFSET_KEY = b"changelog-offset"


def recovery(config: dict[str, Any]) -> None:
    """Restore a changelog into RocksDB, by hand: the practical limit of the worker's restore.

    Reads every partition of ``config["changelog_topic"]`` from the offset its store has
    applied (the beginning for an empty directory) to the partition's end (EOF, as the worker
    finds it), and writes each consumed batch of a partition as one ``WriteBatch`` with the
    partition's last offset. Prints ``restoring`` before it opens the stores and ``restored N
    records`` when every partition has reached its end (the harness times the window between
    the two lines), then waits for SIGTERM. The consumer has the worker's changelog-reader
    settings.
    """
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    topic, partitions = config["changelog_topic"], config.get("partitions", 4)
    consumer = Consumer(
        {
            "bootstrap.servers": config["bootstrap"],
            "group.id": config["group"],
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "error",
            "isolation.level": "read_committed",
            "fetch.wait.max.ms": 10,
        }
    )
    print("restoring", flush=True)
    # Metadata first: assigned at OFFSET_BEGINNING before it knows the partitions' leaders,
    # librdkafka retries the start-offset lookup after 500 ms (the worker's client has its
    # metadata from the connection check before it assigns anything).
    consumer.list_topics(topic, timeout=10)
    stores: dict[int, tuple[Any, Any]] = {}
    assignment = []
    for partition in range(partitions):
        path = os.path.join(config["datadir"], f"{config['table']}-{partition}")
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        options.create_missing_column_families(True)
        db = Rdict(path, options, column_families={META_FAMILY: Options(raw_mode=True)})
        meta = db.get_column_family(META_FAMILY)
        applied = meta.get(OFFSET_KEY)
        stores[partition] = (db, meta, db.get_column_family_handle(META_FAMILY))
        start = int(applied) + 1 if applied is not None else OFFSET_BEGINNING
        assignment.append(TopicPartition(topic, partition, start))
    consumer.assign(assignment)
    remaining = set(range(partitions))
    restored = 0
    eof = KafkaError._PARTITION_EOF
    while remaining:
        batches: dict[int, Any] = {}
        last: dict[int, int] = {}
        for message in consumer.consume(10_000, 0.1):
            error = message.error()
            if error is None:
                partition = message.partition()
                batch = batches.get(partition)
                if batch is None:
                    batch = batches[partition] = WriteBatch(raw_mode=True)
                value = message.value()
                if value is None:
                    batch.delete(message.key())
                else:
                    batch.put(message.key(), value)
                last[partition] = message.offset()
            elif error.code() == eof:
                remaining.discard(message.partition())
            else:
                raise KafkaException(error)
        for partition, batch in batches.items():
            db, _meta, handle = stores[partition]
            restored += len(batch)
            batch.put(OFFSET_KEY, str(last[partition]).encode(), handle)
            db.write(batch)
    print(f"restored {restored} records", flush=True)
    while not stopping:
        time.sleep(0.02)
    consumer.close()
    for db, meta, _handle in stores.values():
        meta.close()
        db.close()


SCENARIOS = {
    "stateless_json": stateless_json,
    "stateless_avro": stateless_avro,
    "stateful_table": stateful_table,
    "windowed": windowed,
    "group_by": group_by,
    "exactly_once": stateful_table,
}


def main(argv: list[str]) -> None:
    config = {**DEFAULTS, **json.loads(argv[0])}
    config.setdefault("table", config["scenario"])
    if config["scenario"] == "recovery":
        recovery(config)
        return
    loop = Loop(config)
    topics, process = SCENARIOS[config["scenario"]](loop, config)
    if config["gc"] == "tuned":
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
    loop.run(topics, process)


if __name__ == "__main__":
    main(sys.argv[1:])
