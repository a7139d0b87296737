"""Exactly-once survives a lost data directory (real broker, real processes).

A worker killed inside a transaction leaves it open; a replacement on a fresh data
directory has a new transactional id, so its own start fences nothing. It finds the dead
worker's id in the app's registry of transactional ids (it fell silent), fences it, which
aborts the open transaction, and the partitions' last stable offsets move on: every output
becomes readable by read_committed consumers, exactly once (see faust.worker.fencing).
tests/apps/counting.py, built (see tests/test_tables_on_kafka.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_tables_on_kafka import STALL_AT, CountingApp, N

from faustc.broker import EmbeddedBroker
from kafka_helpers import wait_until

pytestmark = pytest.mark.broker


def test_exactly_once_resumes_on_a_fresh_data_directory(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    counting = CountingApp(broker, tmp_path, "eos-fresh")
    env = {"FAUST_PROCESSING_GUARANTEE": "exactly_once"}
    counting.hold()
    first = counting.start("first", stall_at=STALL_AT, env=env, datadir="first")
    try:
        counting.produce_in_two_halves()
        assert counting.wait_for_stall() == first.process.pid
    finally:
        first.kill()  # inside a transaction: the receipts of its batch so far are in it
    counting.release()
    visible_before = counting.receipts()

    second = counting.start("second", env=env, datadir="second")  # a new transactional id
    try:
        counting.wait_until_done()
        wait_until(lambda: "fencing it" in second.stderr, 60, "the dead worker to be fenced")
        receipts = counting.receipts()  # read_committed, to the end: nothing holds it now
        assert second.stop() == 0, second.stderr
    finally:
        second.kill()
    assert "Traceback" not in second.stderr, second.stderr
    # The committed transactions: what was visible before the replacement, and everything
    # the replacement sent. Tansu also shows the receipts of the aborted transaction
    # (Apache Kafka hides them): they are the first worker's.
    from_first = Counter(r for r in receipts if r[1] == first.process.pid)
    assert from_first >= Counter(visible_before)
    exactly_once = Counter(payment_id for payment_id, _ in visible_before)
    exactly_once.update(payment_id for payment_id, pid in receipts if pid == second.process.pid)
    assert exactly_once == Counter(range(N))
    assert counting.tables("second") == counting.expected_tables()
