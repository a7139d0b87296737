"""A worker that survives a broker stall: the broker paused (SIGSTOP), then resumed.

While the broker is stopped, the worker's consumer session expires; when it comes back
the group has dropped the worker, so its next offset commit is refused
(UNKNOWN_MEMBER_ID and the like). That refusal means the assignment was lost, not that the
worker must die: it rejoins, gets its partitions back, and resumes where its tables really
are (the changes of the refused commit are in the changelog and RocksDB already), so no
payment is counted twice and none is lost. Each test runs its own broker (it is the one
paused) and tests/apps/counting.py, built (see tests/test_tables_on_kafka.py).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_tables_on_kafka import STALL_AT, CountingApp

from faustc.broker import EmbeddedBroker

pytestmark = pytest.mark.broker


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of the test's own: the test stops and resumes it."""
    embedded = EmbeddedBroker(log_file=tmp_path / "tansu.log").start()
    try:
        yield embedded
    finally:
        if embedded.process is not None and embedded.process.poll() is None:
            embedded.process.send_signal(signal.SIGCONT)
        embedded.stop()


@pytest.mark.parametrize(
    ("guarantee", "pause"),
    [("at_least_once", 5.0), ("at_least_once", 20.0), ("exactly_once", 20.0)],
)
def test_a_worker_survives_a_broker_stall(
    own_broker: EmbeddedBroker, tmp_path: Path, guarantee: str, pause: float
) -> None:
    counting = CountingApp(own_broker, tmp_path, f"stall{int(pause)}")
    counting.hold()
    env = {"FAUST_PROCESSING_GUARANTEE": guarantee}
    worker = counting.start("worker", stall_at=STALL_AT, env=env)
    try:
        counting.produce_in_two_halves()
        assert counting.wait_for_stall() == worker.process.pid
        assert own_broker.process is not None
        own_broker.process.send_signal(signal.SIGSTOP)
        try:
            counting.release()  # the worker finishes its batch and commits into the stall
            time.sleep(pause)
        finally:
            own_broker.process.send_signal(signal.SIGCONT)
        counting.wait_until_done(timeout=120)
        assert worker.process.poll() is None, f"the worker died:\n{worker.stderr}"
        assert worker.stop() == 0, worker.stderr
    finally:
        worker.kill()
    # every payment counted once, in the tables and their changelogs; every receipt sent
    assert counting.tables("worker") == counting.expected_tables()
    assert set(Counter(payment_id for payment_id, _ in counting.receipts())) == set(
        range(len(counting.payments_sent))
    )
    assert "Traceback" not in worker.stderr, worker.stderr
