"""The compiled fused loop of a table scenario over in-memory batches: CPU per message,
and where it goes (``--profile``).

No broker: the batches are real ``confluent_kafka.Message`` objects built in memory (4,096
a batch, 4 partitions, timestamps 1 ms apart as ``bench/data.py`` has them), and the
agent the built worker generated runs over them with its tables managed as a worker
manages them (one store per partition, ``rocksdb://`` in a temporary directory or
``memory://``). Nothing is committed: what is measured is the per-message Python between
``consume`` and ``commit``. Usage::

    python bench/table_loop.py                              # stateful_table, windowed, group_by
    python bench/table_loop.py --scenarios windowed --profile  # cProfile of one round
    python bench/table_loop.py --scenarios group_by --both-stages  # and the repartition

``--both-stages`` (``group_by``) runs the repartition stage too: the batches of the source
topic first, each record produced into a confluent-kafka producer's queue (a broker that
is never reached, so no delivery report is ever served; the queue is purged after each
round) lent to the app as the worker lends it with its default sensor, the ``/metrics``
counts; then the same orders as repartition records for the table stage. CPU per
*input* message, as ``bench/run.py`` counts it.

It is a guide for changing the generated table access (a few seconds, ±5% between runs
here), not the figure issue 16 asks for: ``bench/run.py`` measures whole processes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))

from confluent_kafka import Message  # noqa: E402
from data import json_value, make_orders  # noqa: E402
from loop_bench import build_worker  # noqa: E402

BATCH = 4096


class Batches:
    """What a table agent asks of its stream: its batches, the error policy."""

    def __init__(self, batches: list[list[Any]]) -> None:
        self._batches = batches

    async def batches(self) -> AsyncIterator[list[Any]]:
        for batch in self._batches:
            yield batch

    def handle_error(self, exc: BaseException, message: Any, where: str) -> None:
        raise exc

    def consume_topic(self, topic: Any) -> None:
        return None


def make_batches(count: int, topic: str, key: str = "account_id") -> list[list[Any]]:
    messages = [
        Message(
            topic=topic,
            partition=index % 4,
            offset=index // 4,
            key=getattr(order, key).encode(),
            value=json_value(order),
            timestamp=(1, 1_600_000_000_000 + index),
        )
        for index, order in enumerate(make_orders(count))
    ]
    return [messages[start : start + BATCH] for start in range(0, count, BATCH)]


def attach_tables(app: Any, directory: Path | None) -> None:
    for table in app.tables.values():
        table.reset_state()
        table._attach(directory)
        for partition in range(4):
            table._open_store(partition)


class QueueProducer:
    """A producer whose records stay in librdkafka's queue: what the repartition stage's
    produce costs in this process, without a broker."""

    def __init__(self) -> None:
        from confluent_kafka import Producer

        self.client = Producer(
            {
                "bootstrap.servers": "127.0.0.1:9",
                "queue.buffering.max.messages": 10_000_000,
                "queue.buffering.max.kbytes": 2_000_000,
                "partitioner": "murmur2_random",
                "log_level": 0,
                # the worker's producer sets one (its failed deliveries), so librdkafka
                # keeps a state per record for it
                "on_delivery": lambda error, message: None,
            }
        )

    def direct(self) -> tuple[Any, tuple[type[Exception], ...]]:
        return self.client.produce, (BufferError,)

    def send(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the queue is full: raise --messages' queue limit")

    def purge(self) -> None:
        self.client.purge()
        self.client.poll(0)


def lend_producer(app: Any) -> QueueProducer:
    """Lend ``app`` a queue producer as a worker with the web server on lends its own."""
    from faust.running import Running
    from faust.web.metrics import WorkerMetrics
    from faust.worker.sensors import SensedProducer

    producer = QueueProducer()
    app.running = Running(SensedProducer(producer, WorkerMetrics(app)))  # type: ignore[arg-type]
    return producer


def run_raw_group_by(batches: list[list[Any]], directory: Path) -> float:
    """CPU seconds of one pass of ``bench/raw_loops.py``'s group_by ``process`` over
    ``batches`` (its produce into a queue producer, its table on fresh stores)."""
    import raw_loops

    class Loop:
        def __init__(self) -> None:
            self.queue = QueueProducer()
            self.producer = self.queue.client

    loop = Loop()
    config = {
        **raw_loops.DEFAULTS,
        "input": "bench-orders",
        "repartition_topic": batches[-1][0].topic(),
        "changelog_topic": "raw-changelog",
        "datadir": tempfile.mkdtemp(dir=directory),
        "table": "counts",
    }
    _topics, process = raw_loops.group_by(loop, config)  # type: ignore[arg-type]
    started = time.process_time()
    for batch in batches:
        process(batch)
    spent = time.process_time() - started
    loop.queue.purge()
    return spent


def run(app: Any, fused: Any, batches: list[list[Any]], directory: Path | None) -> float:
    """CPU seconds of one pass of the fused agent over ``batches``, on fresh stores."""
    attach_tables(app, directory)
    started = time.process_time()
    asyncio.run(fused(Batches(batches)))
    spent = time.process_time() - started
    if app.running is not None:
        app.running.producer.producer.purge()
    return spent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="stateful_table,windowed,group_by")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--store", choices=("rocksdb", "memory"), default="rocksdb")
    parser.add_argument("--profile", action="store_true", help="cProfile one round")
    parser.add_argument(
        "--both-stages", action="store_true", help="group_by: the repartition stage too"
    )
    args = parser.parse_args(argv)
    print(f"{args.messages:,} messages in batches of {BATCH}, median of {args.rounds} rounds")
    for scenario in args.scenarios.split(","):
        with tempfile.TemporaryDirectory() as out:
            worker = build_worker(scenario, Path(out) / "build")
            app = worker.app
            (fused,) = worker.COMPILED_AGENTS.values()
            # group_by's table stage reads the repartition topic: feed that stage only
            topics = [t for t in app.topics if "repartition" in t.get_topic_name()]
            topic = topics[0].get_topic_name() if topics else "bench-orders"
            batches = make_batches(args.messages, topic)
            if args.both_stages and topics:
                # the repartition records as the first stage writes them: keyed by product
                batches = make_batches(args.messages, "bench-orders") + make_batches(
                    args.messages, topic, key="product_id"
                )
                lend_producer(app)
            directory = None if args.store == "memory" else Path(out) / "data"
            for table in app.tables.values():
                if args.store == "memory":
                    table._store_url = "memory://"

            run(app, fused, batches, directory)
            if args.profile:
                profiler = cProfile.Profile()
                attach_tables(app, directory)
                profiler.enable()
                asyncio.run(fused(Batches(batches)))
                profiler.disable()
                if app.running is not None:
                    app.running.producer.producer.purge()
                print(f"--- {scenario}: cProfile, one round")
                pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
            times = [run(app, fused, batches, directory) for _ in range(args.rounds)]
            for table in app.tables.values():
                table._detach()
            us = statistics.median(times) * 1e6 / args.messages
            print(f"{scenario:16s} {us:8.3f} µs/msg ({args.store})")
            if args.both_stages and topics:
                raw_dir = Path(out) / "raw"
                raw_dir.mkdir()
                raw = [run_raw_group_by(batches, raw_dir) for _ in range(args.rounds)]
                raw_us = statistics.median(raw) * 1e6 / args.messages
                print(f"{'raw loop':16s} {raw_us:8.3f} µs/msg: the worker's {us / raw_us:.2f}x")


if __name__ == "__main__":
    main()
