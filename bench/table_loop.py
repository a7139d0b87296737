"""The compiled fused loop of a table scenario over in-memory batches: CPU per message,
and where it goes (``--profile``).

No broker: the batches are real ``confluent_kafka.Message`` objects built in memory (4,096
a batch, 4 partitions by the key's murmur2 as the producer spreads them, timestamps 1 ms
apart as ``bench/data.py`` has them), and the
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

``--commit`` adds the tables' part of a commit every 10,000 messages (the worker's
``commit_every``): the changelog records (``TableManager.produce_changes``, queued in a
confluent-kafka producer that has no broker to reach) and the RocksDB batch of each store
(``TableManager.persist``)::

    python bench/table_loop.py --scenarios stateful_table --commit
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
    """``count`` orders keyed by their field ``key``, in the partition the producer's
    murmur2 gives the key, in batches as the worker's consumer hands them over."""
    from faust.transport.partitioner import partition_for_key

    messages = []
    for index, order in enumerate(make_orders(count)):
        raw_key = getattr(order, key).encode()
        messages.append(
            Message(
                topic=topic,
                partition=partition_for_key(raw_key, 4),
                offset=index,
                key=raw_key,
                value=json_value(order),
                timestamp=(1, 1_600_000_000_000 + index),
            )
        )
    return [messages[start : start + BATCH] for start in range(0, count, BATCH)]


def attach_tables(app: Any, directory: Path | None) -> None:
    for table in app.tables.values():
        table.reset_state()
        table._attach(directory)
        for partition in range(4):
            table._open_store(partition)


#: the worker's commit_every (runtime/faust/settings.py)
COMMIT_EVERY = 10_000


class Committing:
    """The tables' part of the worker's commit, every ``COMMIT_EVERY`` messages: changelog
    records into a producer that never delivers them, then the stores' batches."""

    def __init__(self, app: Any, directory: Path | None) -> None:
        from faust.tables.manager import TableManager
        from faust.transport.kafka import KafkaProducer

        self.manager = TableManager(app, None, data_directory=directory)  # type: ignore[arg-type]
        self.manager.held = set(range(4))
        self.producer = KafkaProducer(
            {
                "bootstrap.servers": "127.0.0.1:9",  # nothing listens: records stay queued
                "delivery.report.only.error": False,
                "queue.buffering.max.messages": 10_000_000,
                "queue.buffering.max.kbytes": 2_000_000,
                "log_level": 0,
            }
        )

    def commit(self) -> None:
        pending = self.manager.produce_changes(self.producer)
        self.manager.persist(pending, {})

    def close(self) -> None:
        self.producer._producer.purge()


def in_commits(batches: list[list[Any]]) -> list[list[list[Any]]]:
    """``batches`` in runs of about ``COMMIT_EVERY`` messages."""
    runs: list[list[list[Any]]] = [[]]
    count = 0
    for batch in batches:
        runs[-1].append(batch)
        count += len(batch)
        if count >= COMMIT_EVERY:
            runs.append([])
            count = 0
    return [run for run in runs if run]


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


def run(
    app: Any,
    fused: Any,
    batches: list[list[Any]],
    directory: Path | None,
    committing: bool = False,
) -> float:
    """CPU seconds of one pass of the fused agent over ``batches``, on fresh stores (with
    ``committing``, the tables' part of a commit every ``COMMIT_EVERY`` messages)."""
    attach_tables(app, directory)
    commits = Committing(app, directory) if committing else None
    runs = in_commits(batches) if committing else [batches]
    started = time.process_time()
    for each in runs:
        asyncio.run(fused(Batches(each)))
        if commits is not None:
            commits.commit()
    spent = time.process_time() - started
    if commits is not None:
        commits.close()
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
        "--commit", action="store_true", help="and the tables' commit every 10,000 messages"
    )
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

            run(app, fused, batches, directory, args.commit)
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                run(app, fused, batches, directory, args.commit)
                profiler.disable()
                if app.running is not None:
                    app.running.producer.producer.purge()
                print(f"--- {scenario}: cProfile, one round")
                pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
            times = [run(app, fused, batches, directory, args.commit) for _ in range(args.rounds)]
            for table in app.tables.values():
                table._detach()
            us = statistics.median(times) * 1e6 / args.messages
            commit = ", with the tables' commits" if args.commit else ""
            print(f"{scenario:16s} {us:8.3f} µs/msg ({args.store}{commit})")
            if args.both_stages and topics:
                raw_dir = Path(out) / "raw"
                raw_dir.mkdir()
                raw = [run_raw_group_by(batches, raw_dir) for _ in range(args.rounds)]
                raw_us = statistics.median(raw) * 1e6 / args.messages
                print(f"{'raw loop':16s} {raw_us:8.3f} µs/msg: the worker's {us / raw_us:.2f}x")


if __name__ == "__main__":
    main()
