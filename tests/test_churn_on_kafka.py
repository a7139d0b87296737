"""Rebalance churn: three workers started and stopped every few seconds while payments flow.

tests/apps/counting.py (RocksDB tables, 4 partitions, session timeout 6 s), built, runs as
three workers ``a``, ``b`` and ``c``, each on its own data directory kept across restarts.
A fixed seed picks, every few seconds, a worker to stop (SIGTERM or ``kill -9``) or to
start again, while a producer keeps sending payments. At the end ``a`` alone finishes the
input; its tables (restored from the changelogs where it did not hold a partition, resumed
from its own RocksDB offsets where it did) must equal what the input says: nothing lost,
nothing counted twice. Every SIGTERM'd worker must have exited within 30 s (issue 15's
contract; the times are printed, not asserted tighter), with status 0, or killed by the
signal when it came before the worker installed its handler (early in its startup).

The embedded Tansu broker often leaves the group stuck in a rebalance under this churn (a
member leaves mid-rebalance; 3 of the first 6 runs here): then worker ``a`` must report it
(the "has not completed a rebalance" warning) and stop on SIGTERM in time, and the test is
an expected failure, since the counts cannot finish on a stuck group.
"""

from __future__ import annotations

import importlib.util
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from test_tables_on_kafka import CountingApp, latest_assignment

from faustc.broker import EmbeddedBroker
from kafka_helpers import WorkerProcess, wait_until


def _load_chaos() -> ModuleType:
    """bench/chaos.py, loaded from its file (bench/ stays off sys.path: its module names
    would shadow others in this test process)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "chaos.py"
    spec = importlib.util.spec_from_file_location("bench_chaos", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: the churn's slots and its next step: the same churn as ``bench/chaos.py --churn``
chaos = _load_chaos()
CHURN_SLOTS: tuple[str, ...] = chaos.CHURN_SLOTS
churn_step = chaos.churn_step

pytestmark = pytest.mark.broker

#: the issue's bound on a SIGTERM'd worker's exit (a contract, not a speed measurement)
SIGTERM_BOUND = 30.0


def test_three_workers_churning_lose_nothing_and_count_nothing_twice(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    rng = random.Random(15)
    counting = CountingApp(broker, tmp_path, "churn")
    counting.create_topic()
    running: dict[str, WorkerProcess] = {}
    starts = Counter[str]()
    sigterm_exits: list[tuple[str, float, int | None]] = []
    kills = 0
    all_workers: list[WorkerProcess] = []

    def start(slot: str) -> None:
        starts[slot] += 1
        worker = counting.start(f"{slot}-{starts[slot]}", datadir=slot)
        running[slot] = worker
        all_workers.append(worker)

    def sigterm(slot: str) -> None:
        worker = running.pop(slot)
        began = time.monotonic()
        try:
            status: int | None = worker.stop(timeout=SIGTERM_BOUND)
        except subprocess.TimeoutExpired:  # still running after the bound: recorded, killed
            status = None
            worker.kill()
        sigterm_exits.append((slot, time.monotonic() - began, status))

    def holds_all(worker: WorkerProcess, timeout: float) -> bool:
        try:
            wait_until(
                lambda: latest_assignment(worker.stderr, counting.payments) == {0, 1, 2, 3},
                timeout,
                "worker a to hold the four partitions",
            )
        except AssertionError:
            return False
        return True

    produced = threading.Event()

    def producer() -> None:
        for first in range(0, 10_000, 400):
            counting.produce(range(first, first + 400))
            time.sleep(1.0)
        produced.set()

    for slot in CHURN_SLOTS:
        start(slot)
    feeder = threading.Thread(target=producer, daemon=True)
    feeder.start()
    try:
        churn_until = time.monotonic() + 30
        while time.monotonic() < churn_until:
            time.sleep(rng.uniform(2.0, 5.0))
            kills += churn_step(rng, running, start, sigterm)
        feeder.join(60)
        assert produced.is_set(), "the producer did not finish"
        # the end: ``a`` alone finishes the input
        for slot in ("b", "c"):
            if slot in running:
                sigterm(slot)
        if "a" not in running:
            start("a")
        last = running["a"]
        stuck = not holds_all(last, 45)
        if stuck:
            # Tansu can leave the group stuck when a member leaves mid-rebalance: the
            # worker must say so (after 5 session timeouts), and stop on SIGTERM in time.
            # (Tried: SIGTERM it and start it again on the empty group; it was still not
            # assigned 30 s later.)
            wait_until(
                lambda: "has not completed a rebalance" in last.stderr,
                10,
                f"the worker to report the stuck group:\n{last.stderr[-3000:]}",
            )
        else:
            # its tables restored (from the changelogs, or its RocksDB offsets onward)
            wait_until(
                lambda: "recovered " in last.stderr.rsplit("faust.worker: assigned", 1)[-1],
                60,
                "worker a to restore its tables",
            )
            counting.wait_until_done(timeout=60)
        sigterm("a")
    finally:
        for worker in all_workers:
            worker.kill()
    print(f"churn: {sum(starts.values())} starts, {kills} kill -9, SIGTERM exits (s, status): ")
    for slot, seconds, status in sigterm_exits:
        print(f"  {slot}: {seconds:.1f} s, exit {status}")
    logs = "".join(w.stderr for w in all_workers)
    print(f"stuck-group warnings: {logs.count('has not completed a rebalance')}")
    assert kills >= 2 and len(sigterm_exits) >= 3, "the seed churns with both signals"
    # exit 0; or -SIGTERM: signalled before its handler was installed (early in startup)
    assert [
        (slot, status)
        for slot, seconds, status in sigterm_exits
        if status not in (0, -signal.SIGTERM) or seconds > SIGTERM_BOUND
    ] == []
    assert "Traceback" not in logs, logs
    print(f"group stuck: {stuck}")
    if stuck:
        pytest.xfail("the embedded Tansu broker left the group stuck in a rebalance (reported)")
    assert counting.tables("a") == counting.expected_tables()
    receipts = Counter(payment_id for payment_id, _ in counting.receipts())
    assert set(receipts) == set(range(10_000))  # every payment has a receipt
    print(f"receipts sent more than once (at-least-once): {sum(receipts.values()) - 10_000}")
