"""Tables that survive anything: real workers, real broker, real crashes.

Every test runs tests/apps/counting.py (renamed per test, so tests share the broker without
sharing topics): it counts payments and sums their amounts per account in two RocksDB
tables and sends one receipt ("<payment id>:<pid>") per payment. A test hook makes the
first worker that meets a chosen payment block in the middle of its batch, so a test can
kill it there (``kill -9`` mid-batch), or stop it there (SIGTERM half way).

What the guarantees promise, and what is checked:

- at-least-once: no receipt missing after any crash; after a clean stop, none duplicated;
  the tables are exact (a table's changelog records are written in the commit step, so a
  crash anywhere else replays exactly the uncommitted messages);
- exactly-once: the receipts of committed transactions hold every payment exactly once,
  and offsets move only when a transaction commits. (Tansu makes aborted records visible
  to read_committed consumers; the tests identify them and say so.)
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from conftest import REPO
from faust.settings import Settings
from faust.tables.recovery import Restorer
from faust.tables.stores import MemoryStore, RocksDBStore, TableCodec
from faust.transport.kafka import KafkaTransport
from faust.transport.partitioner import partition_for_key
from faustc.broker import EmbeddedBroker
from kafka_helpers import (
    WorkerProcess,
    committed,
    create_topic,
    produce,
    produce_tracked,
    read_all,
    wait_for_commit,
    wait_for_output_in,
    wait_until,
)

pytestmark = pytest.mark.broker

APPS = Path(__file__).parent / "apps"
N = 20_000
#: the payment a worker blocks on: early in the second half (see produce_in_two_halves)
STALL_AT = N // 2 + 500
ACCOUNTS = 50
PARTITIONS = 4


class CountingApp:
    """tests/apps/counting.py as ``counting-<tag>``, built, with its inputs produced."""

    def __init__(self, broker: EmbeddedBroker, tmp_path: Path, tag: str) -> None:
        self.broker = broker
        self.tmp_path = tmp_path
        self.tag = tag
        self.app_id = f"counting-{tag}"
        self.payments = f"payments-{tag}"
        self.receipts_topic = f"receipts-{tag}"
        text = (APPS / "counting.py").read_text()
        text = text.replace('"counting"', f'"{self.app_id}"')
        text = text.replace('"payments"', f'"{self.payments}"')
        text = text.replace('"receipts"', f'"{self.receipts_topic}"')
        self.source = tmp_path / f"counting_{tag.replace('-', '_')}.py"
        self.source.write_text(text)
        result = subprocess.run(
            [sys.executable, "-m", "faustc", "build", str(self.source), "-o", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert result.returncode == 0, result.stderr
        self.built = tmp_path / f"{self.source.stem}_worker.py"
        self.stall_file = tmp_path / "stall"
        self.ends: dict[int, int] = {}
        #: payment id -> (partition, offset)
        self.positions: dict[int, tuple[int, int]] = {}
        self.payments_sent: list[dict[str, Any]] = []
        self.created = False

    def create_topic(self) -> None:
        create_topic(self.broker.bootstrap, self.payments, PARTITIONS)
        self.created = True

    def produce(self, ids: range, poison: dict[int, bytes] | None = None) -> None:
        """Produce payments ``ids`` (keyed by account; ``poison`` replaces some values)."""
        if not self.created:
            self.create_topic()
        batch = [{"id": i, "account": f"acct-{i % ACCOUNTS}", "amount": i % 97} for i in ids]
        poison = poison or {}
        records = [
            (p["account"].encode(), poison.get(p["id"], json.dumps(p).encode())) for p in batch
        ]
        ends, positions = produce_tracked(self.broker.bootstrap, self.payments, records)
        self.payments_sent += batch
        self.positions.update(zip(ids, positions, strict=True))
        for partition, end in ends.items():
            self.ends[partition] = max(self.ends.get(partition, 0), end)

    def produce_in_two_halves(self, count: int = N) -> None:
        """The first half, processed and committed; then the second."""
        self.produce(range(count // 2))
        self.wait_until_done()
        self.produce(range(count // 2, count))

    def good(self, poison: dict[int, bytes] | None = None) -> list[dict[str, Any]]:
        return [p for p in self.payments_sent if p["id"] not in (poison or {})]

    def start(
        self,
        name: str,
        *,
        compiled: bool = True,
        stall_at: int | None = None,
        env: dict[str, str] | None = None,
        datadir: str | None = None,
        datadir_path: Path | None = None,
        preexec_fn: Callable[[], Any] | None = None,
        loglevel: str = "info",
    ) -> WorkerProcess:
        log_dir = self.tmp_path / name
        log_dir.mkdir(exist_ok=True)
        program = str(self.built) if compiled else str(self.source)
        # small batches: a worker stopped in the middle still has most of the input to do
        environment = {
            "FAUST_STORE": "rocksdb://",
            "FAUST_STREAM_BUFFER_MAXSIZE": "1000",
            **(env or {}),
        }
        if stall_at is not None:
            environment["COUNTING_STALL_ID"] = str(stall_at)
            environment["COUNTING_STALL_FILE"] = str(self.stall_file)
        argv = [program, "worker", "--broker", self.broker.url, "--loglevel", loglevel]
        data = datadir_path or self.tmp_path / (datadir or name) / "data"
        argv += ["--datadir", str(data)]
        return WorkerProcess(argv, log_dir, environment, preexec_fn=preexec_fn)

    def hold(self) -> None:
        """Make the worker that meets the stall payment block there."""
        Path(f"{self.stall_file}.hold").write_text("")

    def release(self) -> None:
        Path(f"{self.stall_file}.hold").unlink()

    def wait_for_stall(self, timeout: float = 90.0) -> int:
        """The pid of the worker that blocked on the stall payment."""
        wait_until(self.stall_file.exists, timeout, "a worker to block on the stall payment")
        wait_until(lambda: self.stall_file.read_text().strip() != "", 5, "the stall pid")
        return int(self.stall_file.read_text())

    def wait_until_done(self, timeout: float = 120.0) -> None:
        wait_for_commit(self.broker.bootstrap, self.app_id, self.payments, self.ends, timeout)

    def receipts(self, *, committed_only: bool = True) -> list[tuple[int, int]]:
        """(payment id, pid of the worker that sent it) of every receipt now in the topic."""
        records = read_all(
            self.broker.bootstrap, self.receipts_topic, PARTITIONS, committed_only=committed_only
        )
        result = []
        for record in records:
            payment_id, pid = json.loads(record.value()).split(":")
            result.append((int(payment_id), int(pid)))
        return result

    def tables(self, datadir_name: str) -> tuple[dict[str, int], dict[str, int]]:
        """The counts and totals tables in a (stopped) worker's RocksDB."""
        root = self.tmp_path / datadir_name / "data" / "tables"
        return read_rocksdb(root / "counts"), read_rocksdb(root / "totals")

    def expected_tables(
        self, poison: dict[int, bytes] | None = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        counts: Counter[str] = Counter()
        totals: Counter[str] = Counter()
        for payment in self.good(poison):
            counts[payment["account"]] += 1
            totals[payment["account"]] += payment["amount"]
        return dict(counts), dict(totals)


def read_rocksdb(table_dir: Path) -> dict[str, int]:
    codec = TableCodec(str, int, "json", "json")
    contents: dict[str, int] = {}
    for path in sorted(table_dir.iterdir()):
        store = RocksDBStore(path, codec, int(path.name))
        for key, value in store.items():
            assert key not in contents, f"{key} is in two partitions"
            contents[key] = value
        store.close()
    return contents


def latest_assignment(stderr: str, topic: str) -> set[int] | None:
    """The partitions of ``topic`` a worker holds, from its log (None: none right now)."""
    events = re.findall(r"faust\.worker: (assigned|revoked) (.*)$", stderr, re.MULTILINE)
    if not events or events[-1][0] != "assigned":
        return None
    return {int(p) for p in re.findall(rf"{re.escape(topic)}\[(\d+)\]", events[-1][1])}


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_stop_half_way_and_restart(broker: EmbeddedBroker, tmp_path: Path, guarantee: str) -> None:
    counting = CountingApp(broker, tmp_path, f"restart-{guarantee.replace('_', '')}")
    env = {"FAUST_PROCESSING_GUARANTEE": guarantee}
    counting.hold()
    first = counting.start("first", stall_at=STALL_AT, env=env, datadir="worker")
    counting.produce_in_two_halves()
    assert counting.wait_for_stall() == first.process.pid
    first.process.send_signal(signal.SIGTERM)  # handled once the batch in hand is done
    counting.release()
    assert first.process.wait(60) == 0, first.stderr
    done_first = sum(committed(broker.bootstrap, counting.app_id, counting.payments, 4).values())
    assert 0 < done_first < N, "the first worker stopped half way"

    second = counting.start("second", env=env, datadir="worker")
    counting.wait_until_done()
    assert second.stop() == 0, second.stderr
    receipts = Counter(payment_id for payment_id, _ in counting.receipts())
    # nothing missing, and after a clean stop nothing duplicated
    assert receipts == Counter(range(N))
    assert counting.tables("worker") == counting.expected_tables()
    assert "Traceback" not in first.stderr + second.stderr


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_kill_9_mid_batch_and_restart(
    broker: EmbeddedBroker, tmp_path: Path, guarantee: str
) -> None:
    counting = CountingApp(broker, tmp_path, f"kill-{guarantee.replace('_', '')}")
    env = {"FAUST_PROCESSING_GUARANTEE": guarantee}
    counting.hold()
    first = counting.start("first", stall_at=STALL_AT, env=env, datadir="worker")
    counting.produce_in_two_halves()
    assert counting.wait_for_stall() == first.process.pid
    first.kill()  # SIGKILL in the middle of a batch
    counting.release()
    offsets = committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS)
    below_commit = {
        payment_id
        for payment_id, (partition, offset) in counting.positions.items()
        if offset < offsets.get(partition, 0)
    }
    assert N // 2 <= len(below_commit) < N, "killed half way, after some commits"
    visible_before = counting.receipts()
    if guarantee == "exactly_once":
        # offsets move only with a commit, and a commit publishes exactly its receipts
        assert sorted(payment_id for payment_id, _ in visible_before) == sorted(below_commit)

    second = counting.start("second", env=env, datadir="worker")
    counting.wait_until_done()
    assert second.stop() == 0, second.stderr
    receipts = counting.receipts()
    ids = Counter(payment_id for payment_id, _ in receipts)
    assert set(ids) == set(range(N))  # nothing missing
    if guarantee == "exactly_once":
        # The committed transactions: what was visible before the restart, and everything
        # the second worker sent. Tansu also shows the receipts of the transaction the kill
        # left open (the restart aborted it; Apache Kafka hides aborted records): they are
        # the first worker's, and were not visible while that transaction was open.
        from_first = Counter(r for r in receipts if r[1] == first.process.pid)
        assert from_first >= Counter(visible_before)
        from_second = [payment_id for payment_id, pid in receipts if pid == second.process.pid]
        exactly_once = Counter(payment_id for payment_id, _ in visible_before)
        exactly_once.update(from_second)
        assert exactly_once == Counter(range(N))
    assert counting.tables("worker") == counting.expected_tables()


def test_two_workers_share_partitions_and_survive_a_kill(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    counting = CountingApp(broker, tmp_path, "scale-out")
    counting.create_topic()
    counting.hold()
    # one compiled, one running the app as written: the same protocol, the same tables
    a = counting.start("a", stall_at=STALL_AT)
    b = counting.start("b", stall_at=STALL_AT, compiled=False)
    wait_until(
        lambda: (
            (latest_assignment(a.stderr, counting.payments) or set())
            and (latest_assignment(b.stderr, counting.payments) or set())
        ),
        60,
        "both workers to hold partitions",
    )
    # both workers commit the first half (the victim's changelogs hold its tables), then
    # the one that meets the stall payment in the second half is killed mid-batch
    counting.produce_in_two_halves()
    stalled = counting.wait_for_stall()
    victim, survivor = (a, b) if stalled == a.process.pid else (b, a)
    assert stalled == victim.process.pid
    victim.kill()
    counting.release()
    counting.wait_until_done()
    survivor_name = "a" if survivor is a else "b"
    assert latest_assignment(survivor.stderr, counting.payments) == {0, 1, 2, 3}
    restored = re.findall(
        r"recovered \d+ table partitions: (\d+) changelog record", survivor.stderr
    )
    assert int(restored[-1]) > 0, "the victim's tables came back from their changelogs"
    assert survivor.stop() == 0, survivor.stderr
    # the survivor restored the victim's partitions from their changelogs (to their true
    # end) and finished the input: its tables equal what one worker computes from it
    assert counting.tables(survivor_name) == counting.expected_tables()
    assert set(payment_id for payment_id, _ in counting.receipts()) == set(range(N))


POISON = {
    17: b"not json at all",
    2_001: b'{"id": 2001, "account": "acct-1"}',  # no amount: not a Payment
    3_333: json.dumps({"id": 3333, "account": "acct-33", "amount": -5}).encode(),
    4_444: json.dumps({"id": 4444, "account": "acct-44", "amount": -1}).encode(),
}


@pytest.mark.parametrize(
    ("policy", "compiled"), [("skip", True), ("skip", False), ("dead-letter", True)]
)
def test_poison_messages_lose_nothing(
    broker: EmbeddedBroker, tmp_path: Path, policy: str, compiled: bool
) -> None:
    counting = CountingApp(broker, tmp_path, f"poison-{policy}-{'compiled' if compiled else 'ref'}")
    counting.produce(range(5_000), poison=POISON)
    env = {"FAUST_ERROR_POLICY": policy}
    if policy == "dead-letter":
        env["FAUST_DEAD_LETTER_TOPIC"] = f"rejected-{counting.tag}"  # a named topic
    worker = counting.start("worker", env=env, compiled=compiled)
    counting.wait_until_done()
    assert worker.stop() == 0, worker.stderr
    good = counting.good(POISON)
    assert sorted(payment_id for payment_id, _ in counting.receipts()) == [p["id"] for p in good]
    assert counting.tables("worker") == counting.expected_tables(POISON)
    verb = "skipped message" if policy == "skip" else "dead-lettered message"
    lines = [line for line in worker.stderr.splitlines() if verb in line]
    assert len(lines) == len(POISON), worker.stderr
    source = counting.source.name
    check_line = 1 + counting.source.read_text().splitlines().index(
        '        raise ValueError(f"negative amount in payment {payment.id}")'
    )
    for payment_id in POISON:
        partition, offset = counting.positions[payment_id]
        where = f"{counting.payments}[{partition}]@{offset}"
        (line,) = [line for line in lines if where in line]
        if payment_id in (3_333, 4_444):  # raised by the agent's code: that line
            assert f"({source}:{check_line})" in line and "ValueError" in line
        else:  # could not be decoded: the agent's loop
            assert f"({source}:" in line and "DecodeError" in line
    assert "2 decode error(s), 2 agent error(s)" in worker.stderr  # the metrics
    if policy == "dead-letter":
        dead = read_all(broker.bootstrap, f"rejected-{counting.tag}", PARTITIONS)
        assert sorted((r.key(), r.value()) for r in dead) == sorted(
            (f"acct-{i % ACCOUNTS}".encode(), value) for i, value in POISON.items()
        )
        for record in dead:
            headers = dict(record.headers())
            payment_id = next(i for i, value in POISON.items() if value == record.value())
            partition, offset = counting.positions[payment_id]
            assert headers["faust.topic"] == counting.payments.encode()
            assert headers["faust.partition"] == str(partition).encode()
            assert headers["faust.offset"] == str(offset).encode()
            assert headers["faust.agent"].endswith(b".count_payments")
            assert headers["faust.error"].split(b":")[0] in (
                b"ValueError",
                b"ValueDecodeError",
            )
            assert headers["faust.source"].startswith(source.encode())


def test_fail_policy_stops_before_the_poison(broker: EmbeddedBroker, tmp_path: Path) -> None:
    counting = CountingApp(broker, tmp_path, "poison-fail")
    poison = {3_333: POISON[3_333]}
    counting.produce(range(5_000), poison=poison)
    worker = counting.start("worker")
    assert worker.process.wait(90) == 1
    assert "stopped by the fail policy" in worker.stderr
    partition, offset = counting.positions[3_333]
    assert f"{counting.payments}[{partition}]@{offset}" in worker.stderr
    offsets = committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS)
    assert 0 <= offsets[partition] <= offset  # never committed past the poison message
    receipts = {payment_id for payment_id, _ in counting.receipts()}
    assert 3_333 not in receipts
    below = {  # everything committed has its receipt
        i for i, (p, o) in counting.positions.items() if o < offsets.get(p, 0)
    }
    assert below <= receipts


def test_a_zombie_is_fenced_under_exactly_once(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """A worker that blocks mid-transaction while a newer producer takes its transactional
    id (``<app id>-<worker id>``, what its restart would use) cannot commit any more: it
    stops, nothing of its open transaction is committed, and its restart completes the work.

    (The newer producer is the test's, not a second worker: on Tansu, a worker joining the
    group while the zombie blocks leaves the group stuck when the zombie then leaves.)
    """
    counting = CountingApp(broker, tmp_path, "zombie")
    env = {"FAUST_PROCESSING_GUARANTEE": "exactly_once"}
    counting.hold()
    zombie = counting.start("zombie", stall_at=3_000, env=env, datadir="worker")
    counting.produce_in_two_halves(4_000)
    assert counting.wait_for_stall() == zombie.process.pid
    offsets_before = committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS)
    worker_id = (tmp_path / "worker" / "data" / "worker-id").read_text()
    newer = Producer(
        {
            "bootstrap.servers": broker.bootstrap,
            "transactional.id": f"{counting.app_id}-{worker_id}",
        }
    )
    newer.init_transactions(30)  # fences the zombie and aborts its open transaction
    counting.release()  # the zombie wakes up and tries to commit
    assert zombie.process.wait(90) == 1
    assert "newer worker with the same transactional id" in zombie.stderr, zombie.stderr
    assert (
        committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS)
        == offsets_before
    )
    restarted = counting.start("restarted", env=env, datadir="worker")
    counting.wait_until_done()
    assert restarted.stop() == 0, restarted.stderr
    assert counting.tables("worker") == counting.expected_tables()
    assert set(payment_id for payment_id, _ in counting.receipts()) == set(range(4_000))


def test_restore_reads_to_the_true_end_of_the_changelog(broker: EmbeddedBroker) -> None:
    """A changelog written in multi-record batches, restored: every record arrives.

    Tansu's ListOffsets(latest) answers the last batch's base offset + 1, so a restore that
    stopped there would lose the rest of the last batch (a Faust table lost an update this
    way). The reader stops at the end the fetch responses report.
    """
    topic = "restore-probe-changelog"
    create_topic(broker.bootstrap, topic, 2)
    records = [(json.dumps(f"k{i % 300}").encode(), json.dumps(i).encode()) for i in range(3_000)]
    ends = produce(broker.bootstrap, topic, records)  # lingers: multi-record batches
    expected = {f"k{i % 300}": i for i in range(3_000)}
    store = MemoryStore(TableCodec(str, int, "json", "json"), None)
    transport = KafkaTransport(Settings(id="probe", broker=broker.url))
    restorer = Restorer(transport.changelog_reader(), what="probe")

    class Probe:
        name = "probe"

    for partition in range(2):
        restorer.add(Probe(), store, topic, partition)  # type: ignore[arg-type]
    deadline = time.monotonic() + 60
    while restorer.active:
        assert time.monotonic() < deadline, "restore never reached the end"
        restorer.step()
    restorer.close()
    assert store.data == {key: value for key, value in expected.items()}
    assert {p: o + 1 for p, o in store.offsets.items()} == ends


def test_windows_expire_from_rocksdb_after_a_restart(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Windows still open when their worker stopped are closed by the next worker to hold
    their partition (restored from the changelog), once, and gone from RocksDB."""
    text = (APPS / "windowed.py").read_text()
    for old, new in [
        ('"windowed"', '"windowed-expiry"'),
        ('"views"', '"views-expiry"'),
        ('"view-stats"', '"view-stats-expiry"'),
        ('"closed-windows"', '"closed-windows-expiry"'),
        (".tumbling(\n    10, expires=30\n)", ".tumbling(2, expires=4)"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    source = tmp_path / "windowed_expiry.py"
    source.write_text(text)
    create_topic(broker.bootstrap, "views-expiry", 2)

    def start(name: str, cleanup: str) -> WorkerProcess:
        (tmp_path / name).mkdir(exist_ok=True)
        argv = [str(source), "worker", "--broker", broker.url, "--loglevel", "info"]
        argv += ["--datadir", str(tmp_path / name / "data")]
        env = {"FAUST_STORE": "rocksdb://", "FAUST_TABLE_CLEANUP_INTERVAL": cleanup}
        return WorkerProcess(argv, tmp_path / name, env)

    first = start("first", "3600")
    wait_until(
        lambda: latest_assignment(first.stderr, "views-expiry") == {0, 1}, 60, "an assignment"
    )
    pages = ["home", "about", "news", "home", "shop", "news"]
    views = [
        (page.encode(), json.dumps({"page": page, "user": f"u{i}", "at": 0}).encode())
        for i, page in enumerate(pages)
    ]
    ends = produce(broker.bootstrap, "views-expiry", views)
    wait_for_commit(broker.bootstrap, "windowed-expiry", "views-expiry", ends)
    assert first.stop() == 0, first.stderr
    windows = read_rocksdb_windows(tmp_path / "first" / "data")
    assert sum(windows.values()) == len(pages)  # open windows, none closed yet
    time.sleep(8)  # every window is now past its 4 s expiry

    second = start("second", "0.2")  # another worker: restores them from the changelog
    closed_topic = "closed-windows-expiry"
    wait_until(
        lambda: len(read_all(broker.bootstrap, closed_topic, 2)) >= len(windows),
        60,
        "the windows to close",
    )
    assert second.stop() == 0, second.stderr
    closed = Counter(json.loads(r.value()) for r in read_all(broker.bootstrap, closed_topic, 2))
    assert sorted(closed.values()) == [1] * len(windows)  # each window closed once
    assert read_rocksdb_windows(tmp_path / "second" / "data") == {}

    third = start("first", "0.2")  # the first worker again: applies the tombstones
    wait_for_output_in(third.stderr_path, "restored: processing resumes")
    assert third.stop() == 0, third.stderr
    assert read_rocksdb_windows(tmp_path / "first" / "data") == {}
    assert len(read_all(broker.bootstrap, closed_topic, 2)) == len(windows)  # no second close


def read_rocksdb_windows(datadir: Path) -> dict[Any, int]:
    codec = TableCodec(str, int, "json", "json", windowed=True)
    contents: dict[Any, int] = {}
    table_dir = datadir / "tables" / "per-page"
    for path in sorted(table_dir.iterdir()) if table_dir.exists() else []:
        store = RocksDBStore(path, codec, int(path.name))
        contents.update(store.items())
        store.close()
    return contents


def test_the_data_directory_takes_one_worker(broker: EmbeddedBroker, tmp_path: Path) -> None:
    counting = CountingApp(broker, tmp_path, "locked")
    counting.create_topic()
    first = counting.start("first", datadir="shared")
    wait_for_output_in(first.stderr_path, "worker for app")
    second = counting.start("second", datadir="shared")
    assert second.process.wait(60) == 1
    assert "is in use by worker pid" in second.stderr and "Traceback" not in second.stderr
    assert first.stop() == 0
    assert os.path.exists(tmp_path / "shared" / "data" / "worker.lock")


def test_an_unusable_data_directory_is_one_line(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """A --datadir that is a file, that lies under a file, or whose tables directory is a
    file (found only when a partition is assigned): one line naming the path and the
    reason, exit 1, and no offset committed. (Root writes anywhere: a file in the way is
    what stops it.)"""
    counting = CountingApp(broker, tmp_path, "unusable")
    counting.produce(range(200))
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tables").write_text("not a directory\n")
    cases = {
        "datadir-is-a-file": (blocker, "cannot use data directory", "File exists"),
        "under-a-file": (blocker / "data", "cannot use data directory", "Not a directory"),
        "tables-is-a-file": (tmp_path / "data", "cannot open table store", "Not a directory"),
    }
    for name, (datadir, what, reason) in cases.items():
        worker = counting.start(name, datadir_path=datadir)
        try:
            assert worker.process.wait(60) == 1, worker.stderr
        finally:
            worker.kill()
        errors = [line for line in worker.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, worker.stderr
        assert f"{what} {datadir}" in errors[0] and reason in errors[0], errors[0]
        assert "Traceback" not in worker.stderr
    assert committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS) == {
        p: -1001 for p in range(PARTITIONS)
    }


def limit_file_size(limit: int) -> Callable[[], None]:
    """A preexec_fn: no file this process writes may grow past ``limit`` bytes, and a
    write past it fails with EFBIG (SIGXFSZ ignored): a disk that fills, for root too."""

    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.parametrize("guarantee", ["at_least_once", "exactly_once"])
def test_a_full_disk_stops_without_committing_past_what_is_stored(
    broker: EmbeddedBroker, tmp_path: Path, guarantee: str
) -> None:
    """RocksDB's log cannot grow past a file-size limit mid-run: the worker stops with one
    line, its committed offsets are not past what its stores hold, and a restart on the
    same data directory without the limit ends with exact tables and every receipt."""
    counting = CountingApp(broker, tmp_path, f"full-disk-{guarantee.replace('_', '')}")
    count = 6000
    counting.produce(range(count))
    # a commit every 40 messages: the write-ahead logs grow commit by commit, past 13 kB
    # (RocksDB's OPTIONS file, 12 kB, is written whole when a store opens; the log level
    # keeps the worker's own stderr file small)
    env = {
        "FAUST_BROKER_COMMIT_EVERY": "40",
        "FAUST_STREAM_BUFFER_MAXSIZE": "40",
        "FAUST_PROCESSING_GUARANTEE": guarantee,
    }
    full = counting.start(
        "full", env=env, datadir="worker", preexec_fn=limit_file_size(13_000), loglevel="warning"
    )
    try:
        assert full.process.wait(90) == 1, full.stderr
    finally:
        full.kill()
    errors = [line for line in full.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, full.stderr
    assert "cannot write table store" in errors[0] and "File too large" in errors[0], errors[0]
    assert str(tmp_path / "worker" / "data" / "tables") in errors[0]
    assert "Traceback" not in full.stderr
    done = committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS)
    assert 0 < sum(max(offset, 0) for offset in done.values()) < count, done
    # under exactly-once a transaction commits before the stores are written: they may be
    # behind its offsets (the changelog holds what they miss), so only the restart tells
    if guarantee == "at_least_once":
        assert_stored_up_to(counting, done, tmp_path / "worker")

    again = counting.start("again", env={"FAUST_PROCESSING_GUARANTEE": guarantee}, datadir="worker")
    counting.wait_until_done()
    assert again.stop() == 0, again.stderr
    assert counting.tables("worker") == counting.expected_tables()
    assert set(payment_id for payment_id, _ in counting.receipts()) == set(range(count))
    assert "Traceback" not in again.stderr


def assert_stored_up_to(counting: CountingApp, done: dict[int, int], worker: Path) -> None:
    """Every message before a committed offset in ``done`` has its effects in both tables'
    stores (a failed commit may have written one table and not the other; amounts are
    >= 0, so a store holding more than the committed messages holds at least their sums)."""
    below: dict[str, Counter[str]] = {"counts": Counter(), "totals": Counter()}
    for payment in counting.payments_sent:
        partition, offset = counting.positions[payment["id"]]
        if offset < done[partition]:
            below["counts"][payment["account"]] += 1
            below["totals"][payment["account"]] += payment["amount"]
    for table, expected in below.items():
        stored = read_rocksdb(worker / "data" / "tables" / table)
        short = {
            key: (n, stored.get(key, 0)) for key, n in expected.items() if stored.get(key, 0) < n
        }
        assert not short, f"{table}: committed past what the store holds: {short}"


def ignore_sigxfsz() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_a_disk_full_at_the_last_commit_of_a_stop(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """SIGTERM while the disk is full: the last commit cannot write the stores, and
    nothing (not the revocation of closing either) commits past them."""
    counting = CountingApp(broker, tmp_path, "full-at-stop")
    counting.hold()
    # small batches committed every 40 messages: the stores' write-ahead logs hold data
    # when the worker stalls, and the limit set just above them leaves room for the
    # worker's stderr (a limit of 1 byte, with nothing committed yet, cut its error line)
    env = {"FAUST_BROKER_COMMIT_EVERY": "40", "FAUST_STREAM_BUFFER_MAXSIZE": "40"}
    worker = counting.start(
        "worker", env=env, stall_at=1500, preexec_fn=ignore_sigxfsz, loglevel="warning"
    )
    counting.produce(range(2000))
    pid = counting.wait_for_stall()
    assert pid == worker.process.pid
    logs = list((tmp_path / "worker" / "data" / "tables").glob("*/*/*.log"))
    limit = max(path.stat().st_size for path in logs) + 1
    room = limit - worker.stderr_path.stat().st_size
    assert room > 1024, f"no room for the error line under a {limit}-byte limit: {worker.stderr}"
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, limit))
    worker.process.send_signal(signal.SIGTERM)
    counting.release()
    try:
        assert worker.process.wait(60) == 1, worker.stderr
    finally:
        worker.kill()
    errors = [line for line in worker.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "cannot write table store" in errors[0], worker.stderr
    done = committed(broker.bootstrap, counting.app_id, counting.payments, PARTITIONS)
    assert_stored_up_to(counting, done, tmp_path / "worker")


def test_every_worker_holds_the_whole_global_table(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """Two workers share the partitions; rates written by either reach both."""
    text = (APPS / "rates.py").read_text()
    for old, new in [
        ('"rates", broker', '"rates-sync", broker'),
        ('"rate-updates"', '"rate-updates-sync"'),
        ('"orders"', '"orders-sync"'),
        ('"converted"', '"converted-sync"'),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    source = tmp_path / "rates_sync.py"
    source.write_text(text)
    for topic in ("rate-updates-sync", "orders-sync"):
        create_topic(broker.bootstrap, topic, 2)

    def start(name: str) -> WorkerProcess:
        (tmp_path / name).mkdir()
        argv = [str(source), "worker", "--broker", broker.url, "--loglevel", "info"]
        return WorkerProcess([*argv, "--datadir", str(tmp_path / name / "data")], tmp_path / name)

    workers = [start("a"), start("b")]
    wait_until(
        lambda: all(latest_assignment(w.stderr, "orders-sync") for w in workers),
        60,
        "both workers to hold partitions",
    )
    currencies = [f"C{i}" for i in range(12)]
    rates = {currency: float(i + 1) for i, currency in enumerate(currencies)}
    ends = produce(
        broker.bootstrap,
        "rate-updates-sync",
        [(c.encode(), json.dumps(rate).encode()) for c, rate in rates.items()],
    )
    wait_for_commit(broker.bootstrap, "rates-sync", "rate-updates-sync", ends)
    writers = {  # the worker whose agent wrote each rate (held its partition)
        currency: next(
            w.process.pid
            for w in workers
            if partition_for_key(currency.encode(), 2)
            in (latest_assignment(w.stderr, "rate-updates-sync") or set())
        )
        for currency in currencies
    }
    assert len(set(writers.values())) == 2, "each worker wrote some of the rates"
    seen: dict[tuple[int, str], str] = {}  # (worker pid, currency) -> the rate it used
    order_id = 0

    def every_worker_sees_every_rate() -> bool:
        nonlocal order_id
        orders = []
        for currency in currencies:
            for _ in range(4):  # spread over both partitions, so over both workers
                order_id += 1
                order = {"id": order_id, "currency": currency, "amount": 1.0}
                orders.append((str(order_id).encode(), json.dumps(order).encode()))
        produce(broker.bootstrap, "orders-sync", orders)
        time.sleep(0.5)
        for record in read_all(broker.bootstrap, "converted-sync", 2):
            _, currency, rate, pid = json.loads(record.value()).split(":")
            seen[(int(pid), currency)] = rate
        pids = {w.process.pid for w in workers}
        return all(seen.get((pid, c)) == str(rates[c]) for pid in pids for c in currencies)

    wait_until(every_worker_sees_every_rate, 90, "both workers to convert with every rate")
    for worker in workers:
        assert worker.stop() == 0, worker.stderr
