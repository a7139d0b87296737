"""Partitions that come back: stores resume from their RocksDB offsets; standbys stay warm.

Two real worker processes of tests/apps/counting.py (two RocksDB tables) on the real broker,
through a revoke/assign cycle under churn: ``a`` alone; ``b`` joins (``a`` gives up two
partitions); ``b`` stops (``a`` gets them back); ``b`` restarts on its data directory (it
gets partitions back); ``a`` is killed (``b`` takes everything). Between the moves payments
flow and are committed. At each takeover the worker's log says how many changelog records
its recovery replayed ("recovered N table partitions: M changelog record(s)"); the test
computes the exact number from the changelogs' ends at each step:

- without standbys (``table_standby_replicas=0``) a store that comes back resumes from the
  offset stored in its RocksDB database: it replays what the other worker wrote meanwhile,
  and a partition never held replays its whole changelog;
- with standbys (``table_standby_replicas=1``) every partition a worker does not own is
  followed into its RocksDB store; once the standbys have caught up (the
  ``faust_table_standby_lag_records`` metric is 0) a takeover replays nothing.

At the end the surviving worker's RocksDB tables are exactly what the input computes.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import TopicPartition
from test_tables_on_kafka import PARTITIONS, CountingApp, latest_assignment
from test_web_on_kafka import metrics

from faust.settings import Settings
from faust.transport.kafka import KafkaTransport
from faustc.broker import EmbeddedBroker, free_port
from kafka_helpers import WorkerProcess, create_topic, produce, read_all, wait_until

pytestmark = pytest.mark.broker

BATCH = 2_000
_RECOVERED = re.compile(r"recovered \d+ table partitions: (\d+) changelog record")

Ends = dict[int, int]


def changelog_ends(counting: CountingApp) -> Ends:
    """Per partition: changelog records of both tables so far (their offsets' ends;
    at-least-once writes no transaction markers)."""
    ends: Counter[int] = Counter()
    for table in ("counts", "totals"):
        topic = f"{counting.app_id}-{table}-changelog"
        last: dict[int, int] = {}
        for record in read_all(counting.broker.bootstrap, topic, PARTITIONS):
            last[record.partition()] = max(last.get(record.partition(), -1), record.offset())
        for partition, offset in last.items():
            ends[partition] += offset + 1
    return {p: ends[p] for p in range(PARTITIONS)}


def replayed(worker: WorkerProcess, after: int = 0) -> int:
    """Changelog records the worker's recoveries replayed (log lines from ``after`` on)."""
    return sum(int(n) for n in _RECOVERED.findall(worker.stderr)[after:])


def recoveries(worker: WorkerProcess) -> int:
    return len(_RECOVERED.findall(worker.stderr))


def holds(worker: WorkerProcess, topic: str) -> set[int]:
    return latest_assignment(worker.stderr, topic) or set()


def standby_lag(port: int) -> float | None:
    return metrics(port).get(("faust_table_standby_lag_records", ()))


def wait_caught_up(port: int) -> None:
    wait_until(lambda: standby_lag(port) == 0, 60, "the standbys to catch up")


@pytest.fixture
def started() -> Iterator[list[WorkerProcess]]:
    """The workers a test starts: killed at its end, whatever happened."""
    workers: list[WorkerProcess] = []
    yield workers
    for worker in workers:
        worker.kill()


def test_a_changelog_partition_assigned_again_further_on_is_not_lost(
    broker: EmbeddedBroker,
) -> None:
    """A changelog reader that follows a partition, lets it go, and takes it again from a
    later offset (a standby handing a partition to its owner and getting it back) must not
    take the end it cached from its earlier fetches for the partition's end now: that
    made the start look past the end, "the topic lost records", and the copy was wiped."""
    topic = "standby-probe-changelog"
    create_topic(broker.bootstrap, topic, 1)
    produce(broker.bootstrap, topic, [(b"k", b"1", None, 0)] * 5)
    reader = KafkaTransport(Settings(id="standby-probe", broker=broker.url)).changelog_reader()
    try:
        reader.assign([TopicPartition(topic, 0, 0)])
        seen = 0
        while True:  # to the end (offset 5)
            batch = reader.read(100, 0.1)
            seen += len(batch.records)
            if batch.eof:
                break
        assert seen == 5
        reader.unassign([TopicPartition(topic, 0)])
        produce(broker.bootstrap, topic, [(b"k", b"2", None, 0)] * 5)  # someone else's writes
        reader.assign([TopicPartition(topic, 0, 8)])  # a store applied up to offset 7
        records = []
        for _ in range(50):  # as a standby polls: without waiting
            batch = reader.read(100, 0)
            assert batch.out_of_range == [], "offset 8 of 10 taken for lost"
            records += batch.records
            if batch.eof:
                break
            time.sleep(0.02)
        assert [r.offset() for r in records] == [8, 9]
    finally:
        reader.close()
    # a start really past the end (the topic lost records) is still found out
    reader = KafkaTransport(Settings(id="standby-probe", broker=broker.url)).changelog_reader()
    try:
        reader.assign([TopicPartition(topic, 0, 50)])
        deadline = time.monotonic() + 30
        while not reader.read(100, 0.1).out_of_range:
            assert time.monotonic() < deadline, "offset 50 of 10 never reported"
    finally:
        reader.close()


@pytest.mark.parametrize("standbys", [0, 1])
def test_partitions_come_back_warm(
    broker: EmbeddedBroker, tmp_path: Path, standbys: int, started: list[WorkerProcess]
) -> None:
    counting = CountingApp(broker, tmp_path, f"standby{standbys}")
    topic = counting.payments
    ports = {"a": free_port(), "b": free_port()}

    def start(name: str) -> WorkerProcess:
        env = {
            "FAUST_TABLE_STANDBY_REPLICAS": str(standbys),
            "FAUST_WEB_PORT": str(ports[name]),
        }
        worker = counting.start(name, env=env)
        started.append(worker)
        return worker

    def settled(*workers: WorkerProcess) -> bool:
        held = [holds(w, topic) for w in workers]
        return all(held) and sum(len(h) for h in held) == PARTITIONS

    def restored(worker: WorkerProcess, rounds: int) -> bool:
        """A recovery finished after the worker's latest assignment."""
        log = worker.stderr
        return recoveries(worker) > rounds and log.rfind(" recovered ") > log.rfind(
            "faust.worker: assigned "
        )

    # 1. a alone: every partition, from scratch
    counting.create_topic()
    a = start("a")
    counting.produce(range(0, BATCH))
    counting.wait_until_done()
    ends1 = changelog_ends(counting)
    assert replayed(a) == 0  # empty changelogs

    # 2. b joins: a gives up two partitions (closed; followed as standbys with standbys=1)
    a_rounds = recoveries(a)
    b = start("b")
    wait_until(lambda: settled(a, b), 60, "a and b to share the partitions")
    to_b = holds(b, topic)
    counting.produce(range(BATCH, 2 * BATCH))
    counting.wait_until_done()
    # b had nothing: it replayed its partitions' whole changelogs
    assert replayed(b) == sum(ends1[p] for p in to_b)
    ends2 = changelog_ends(counting)
    if standbys:
        assert "standby: following" in a.stderr and "standby: following" in b.stderr
        wait_caught_up(ports["a"])
        wait_caught_up(ports["b"])

    # 3. b stops: its partitions come back to a
    a_rounds = recoveries(a)
    assert b.stop() == 0, b.stderr
    wait_until(lambda: holds(a, topic) == set(range(PARTITIONS)), 60, "a to hold everything")
    wait_until(lambda: restored(a, a_rounds), 60, "a to restore what came back")
    if standbys:
        assert replayed(a, a_rounds) == 0  # warm: nothing to replay
    else:
        # resumed from its RocksDB offsets: only what b wrote meanwhile
        assert replayed(a, a_rounds) == sum(ends2[p] - ends1[p] for p in to_b)
        assert 0 < replayed(a, a_rounds) < sum(ends2[p] for p in to_b)
    counting.produce(range(2 * BATCH, 3 * BATCH))
    counting.wait_until_done()
    ends3 = changelog_ends(counting)

    # 4. b restarts on its data directory: what it held comes back from its offsets
    b = start("b")
    wait_until(lambda: settled(a, b), 60, "a and b to share the partitions again")
    to_b_again = holds(b, topic)
    wait_until(lambda: restored(b, 0), 60, "b to restore its partitions")
    # standbys=1: b kept every partition (owned or standby) up to ends2 when it stopped
    b_stored = {p: ends2[p] if standbys or p in to_b else 0 for p in range(PARTITIONS)}
    assert replayed(b) == sum(ends3[p] - b_stored[p] for p in to_b_again)
    counting.produce(range(3 * BATCH, 4 * BATCH))
    counting.wait_until_done()
    ends4 = changelog_ends(counting)
    if standbys:
        wait_caught_up(ports["b"])
    else:
        b_stored = {p: ends2[p] if p in to_b else 0 for p in range(PARTITIONS)}

    # 5. a is killed: b takes everything
    b_rounds = recoveries(b)
    to_a = holds(a, topic)
    a.kill()
    wait_until(lambda: holds(b, topic) == set(range(PARTITIONS)), 60, "b to hold everything")
    wait_until(lambda: restored(b, b_rounds), 60, "b to restore a's partitions")
    if standbys:
        assert replayed(b, b_rounds) == 0
    else:
        assert replayed(b, b_rounds) == sum(ends4[p] - b_stored[p] for p in to_a)
    counting.produce(range(4 * BATCH, 5 * BATCH))
    counting.wait_until_done()
    assert b.stop() == 0, b.stderr
    assert counting.tables("b") == counting.expected_tables()
    assert {payment_id for payment_id, _ in counting.receipts()} == set(range(5 * BATCH))
    assert "Traceback" not in a.stderr + b.stderr
    assert "past what the topic holds" not in a.stderr + b.stderr  # no copy was wiped


def test_standbys_under_exactly_once(
    broker: EmbeddedBroker, tmp_path: Path, started: list[WorkerProcess]
) -> None:
    """Standbys read committed changes only and take transaction markers in their stride:
    caught up (a lag of 0, past the markers), a clean handover replays nothing, and every
    payment is counted and receipted exactly once."""
    counting = CountingApp(broker, tmp_path, "standby-eos")
    topic = counting.payments
    ports = {"a": free_port(), "b": free_port()}

    def start(name: str) -> WorkerProcess:
        env = {
            "FAUST_TABLE_STANDBY_REPLICAS": "1",
            "FAUST_PROCESSING_GUARANTEE": "exactly_once",
            "FAUST_WEB_PORT": str(ports[name]),
        }
        worker = counting.start(name, env=env)
        started.append(worker)
        return worker

    counting.create_topic()
    a = start("a")
    b = start("b")
    wait_until(
        lambda: holds(a, topic) and holds(b, topic) and len(holds(a, topic)) == 2,
        60,
        "a and b to share the partitions",
    )
    counting.produce(range(0, BATCH))
    counting.wait_until_done()
    wait_caught_up(ports["a"])
    rounds = recoveries(a)
    assert b.stop() == 0, b.stderr
    wait_until(lambda: holds(a, topic) == set(range(PARTITIONS)), 60, "a to hold everything")
    wait_until(lambda: recoveries(a) > rounds, 60, "a to restore what came back")
    assert replayed(a, rounds) == 0
    counting.produce(range(BATCH, 2 * BATCH))
    counting.wait_until_done()
    assert a.stop() == 0, a.stderr
    assert counting.tables("a") == counting.expected_tables()
    assert Counter(payment_id for payment_id, _ in counting.receipts()) == Counter(range(2 * BATCH))
    assert "past what the topic holds" not in a.stderr + b.stderr
