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


def make_batches(count: int, topic: str) -> list[list[Any]]:
    from faust.transport.partitioner import partition_for_key

    messages = [
        Message(
            topic=topic,
            partition=partition_for_key(order.account_id.encode(), 4),
            offset=index,
            key=order.account_id.encode(),
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
    if not committing:
        started = time.process_time()
        asyncio.run(fused(Batches(batches)))
        return time.process_time() - started
    commits = Committing(app, directory)
    runs = in_commits(batches)
    started = time.process_time()
    for each in runs:
        asyncio.run(fused(Batches(each)))
        commits.commit()
    spent = time.process_time() - started
    commits.close()
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
                print(f"--- {scenario}: cProfile, one round")
                pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
            times = [run(app, fused, batches, directory, args.commit) for _ in range(args.rounds)]
            for table in app.tables.values():
                table._detach()
            us = statistics.median(times) * 1e6 / args.messages
            commit = ", with the tables' commits" if args.commit else ""
            print(f"{scenario:16s} {us:8.3f} µs/msg ({args.store}{commit})")


if __name__ == "__main__":
    main()
