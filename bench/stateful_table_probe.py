"""Issue 5's measurement of the stateful_table scenario (until issue 6's harness takes it).

Count and sum per key in RocksDB tables with changelogs: 200,000 JSON payments over 1,000
accounts, 4 partitions, keyed by account. Three loops over the same input on one embedded
broker, each run in this process (CPU time includes librdkafka's threads):

- ``raw-batched``: confluent-kafka + rocksdict written by hand as a careful engineer would:
  a dict per batch in front of RocksDB, one changelog record per changed key and one
  WriteBatch (data + changelog offset) per commit, commit after flush;
- ``raw-naive``: the same with a RocksDB get and put per message and no changelog;
- ``faustc``: the compiled worker of an app doing ``counts[acct] += 1`` and
  ``totals[acct] += amount`` on two ``rocksdb://`` tables (at-least-once);
- ``faustc-bare``: the same worker whose agent only decodes and reads the payment (what
  the tables add is the difference).

Run: ``.venv/bin/python bench/stateful_table_probe.py [--messages 200000]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from rocksdict import Options, Rdict, WriteBatch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "compiler"), str(ROOT / "runtime")]

from faust.worker import Worker  # noqa: E402
from faustc.broker import EmbeddedBroker  # noqa: E402
from faustc.build import build_worker  # noqa: E402

APP = """
import faust

app = faust.App("bench-tables", broker="kafka://localhost:9092", store="rocksdb://")


class Payment(faust.Record):
    account: str
    amount: int


payments_topic = app.topic("payments", key_type=str, value_type=Payment, partitions=4)
counts_table = app.Table("counts", default=int)
totals_table = app.Table("totals", default=int)


@app.agent(payments_topic)
async def tally(payments: faust.Stream[Payment]) -> None:
    async for payment in payments:
        counts_table[payment.account] += 1
        totals_table[payment.account] += payment.amount
"""


def produce(bootstrap: str, topic: str, count: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 4, 1)]).values():
        future.result()
    time.sleep(1.0)
    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 20}
    )
    for i in range(count):
        account = f"acct-{i % 1000}"
        value = orjson.dumps({"account": account, "amount": i % 97})
        while True:
            try:
                producer.produce(topic, value, account.encode())
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)


def raw(bootstrap: str, topic: str, count: int, datadir: Path, *, batched: bool) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"raw-{batched}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000,
        }
    )
    offsets: dict[tuple[str, int], int] = {}

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        offsets[(message.topic(), message.partition())] = message.offset()

    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5}
    )
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    db = Rdict(str(datadir / f"raw-{batched}"), options)
    consumer.subscribe([topic])
    seen = 0
    loads, dumps = orjson.loads, orjson.dumps
    while seen < count:
        batch = consumer.consume(4096, 0.1)
        if not batch:
            continue
        if batched:
            cache: dict[bytes, list[int]] = {}
            dirty: dict[tuple[int, bytes], list[int]] = {}
            for message in batch:
                payment = loads(message.value())
                key = payment["account"].encode()
                state = cache.get(key)
                if state is None:
                    stored = db.get(key)
                    state = cache[key] = loads(stored) if stored is not None else [0, 0]
                state[0] += 1
                state[1] += payment["amount"]
                dirty[(message.partition(), key)] = state
            writes = WriteBatch(raw_mode=True)
            for (partition, key), state in dirty.items():
                value = dumps(state)
                producer.produce(
                    "raw-changelog", value, key, partition=partition, on_delivery=delivered
                )
                writes.put(key, value)
            producer.flush(30)
            writes.put(b"__offsets__", dumps(list(offsets.items())))
            db.write(writes)
        else:
            for message in batch:
                payment = loads(message.value())
                key = payment["account"].encode()
                stored = db.get(key)
                state = loads(stored) if stored is not None else [0, 0]
                state[0] += 1
                state[1] += payment["amount"]
                db.put(key, dumps(state))
        consumer.commit(asynchronous=False)
        seen += len(batch)
    consumer.close()
    db.close()


BARE = (
    APP.replace("bench-tables", "bench-bare")
    .replace("counts_table[payment.account] += 1", "account = payment.account")
    .replace("totals_table[payment.account] += payment.amount", "amount = payment.amount")
)


def build(workdir: Path, *, bare: bool) -> tuple[Any, Any]:
    """Build the app's worker and import it (outside the measurement): (app, agents)."""
    name = "bench_bare" if bare else "bench_tables"
    source = workdir / f"{name}.py"
    source.write_text(BARE if bare else APP)
    result = build_worker(source, workdir / "build")
    spec = importlib.util.spec_from_file_location(f"{name}_worker", result.worker_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = sys.modules[name].app
    app.conf.datadir = str(workdir / f"data-{name}")
    app.conf.broker_session_timeout = 6.0
    app.conf.broker_heartbeat_interval = 1.0
    return app, module.COMPILED_AGENTS


def faustc(url: str, count: int, built: tuple[Any, Any]) -> None:
    app, agents = built
    app.conf.broker = url
    worker = Worker(app, compiled_agents=agents)

    async def main() -> None:
        async def stop_when_done() -> None:
            while worker.processed < count:
                await asyncio.sleep(0.01)
            worker.request_stop()

        stopper = asyncio.create_task(stop_when_done())
        await worker.run()
        await stopper

    asyncio.run(main())


def measure(name: str, run: Any, count: int) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{name:12s} {count / wall:10,.0f} msg/s   {cpu / count * 1e6:6.2f} us CPU/msg   "
        f"(wall {wall:.2f}s, includes the ~3 s group join)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    args = parser.parse_args()
    count = args.messages
    workdir = Path(tempfile.mkdtemp(prefix="stateful-table-"))
    try:
        with EmbeddedBroker() as broker:
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            for future in admin.create_topics([NewTopic("raw-changelog", 4, 1)]).values():
                future.result()
            produce(broker.bootstrap, "payments", count)
            measure(
                "raw-naive",
                lambda: raw(broker.bootstrap, "payments", count, workdir, batched=False),
                count,
            )
            measure(
                "raw-batched",
                lambda: raw(broker.bootstrap, "payments", count, workdir, batched=True),
                count,
            )
            tables, bare = build(workdir, bare=False), build(workdir, bare=True)
            measure("faustc", lambda: faustc(broker.url, count, tables), count)
            measure("faustc-bare", lambda: faustc(broker.url, count, bare), count)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"messages": count}))


if __name__ == "__main__":
    main()
