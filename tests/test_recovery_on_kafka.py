"""Table recovery that meets an open transaction on a changelog (real broker).

A producer that died inside a transaction holds the changelog partition's last stable
offset (LSO) below its end; the changelog reader reads committed records only, so it stops
at the LSO (an EOF below the high watermark), or reads nothing at all when the store's
offset is past the LSO. The restorer says so and waits a bounded time
(``table_recovery_transaction_wait``) for the transaction to end, instead of waiting
forever or stopping silently at the LSO.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from confluent_kafka import Producer

from faust.settings import Settings
from faust.tables.recovery import Restorer
from faust.tables.stores import MemoryStore, TableCodec
from faust.transport.kafka import KafkaTransport
from faustc.broker import EmbeddedBroker
from kafka_helpers import create_topic, produce

pytestmark = pytest.mark.broker


class Probe:
    name = "probe"


def changelog_with_an_open_transaction(broker: EmbeddedBroker, topic: str) -> Producer:
    """``topic[0]``: k0..k4 committed, then a transaction left open (z0..z2), then a
    committed transaction of another producer (s0..s3). Returns the open one's producer."""
    create_topic(broker.bootstrap, topic, 1)
    produce(broker.bootstrap, topic, [(b'"k%d"' % i, b"%d" % i, None, 0) for i in range(5)])
    zombie = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"{topic}-z"})
    zombie.init_transactions(10)
    zombie.begin_transaction()
    for i in range(3):
        zombie.produce(topic, b"%d" % (10 + i), b'"z%d"' % i, partition=0)
    assert zombie.flush(10) == 0
    other = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"{topic}-s"})
    other.init_transactions(10)
    other.begin_transaction()
    for i in range(4):
        other.produce(topic, b"%d" % (20 + i), b'"s%d"' % i, partition=0)
    other.commit_transaction(10)
    return zombie


def restore(
    broker: EmbeddedBroker, topic: str, store: MemoryStore, wait: float, on_step: Any = None
) -> None:
    transport = KafkaTransport(Settings(id="probe", broker=broker.url))
    restorer = Restorer(transport.changelog_reader(), what="probe", transaction_wait=wait)
    restorer.add(Probe(), store, topic, 0)  # type: ignore[arg-type]
    deadline = time.monotonic() + 60
    try:
        while restorer.active:
            assert time.monotonic() < deadline, "the restore never finished"
            restorer.step()
            if on_step is not None:
                on_step()
    finally:
        restorer.close()


def test_a_restore_held_by_an_open_transaction_says_so_and_gives_up_in_time(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    topic = "recovery-open-txn-changelog"
    zombie = changelog_with_an_open_transaction(broker, topic)
    try:
        # from scratch: readable up to the LSO (after k4), not the committed s0..s3
        store = MemoryStore(TableCodec(str, int, "json", "json"), None)
        with caplog.at_level(logging.INFO, logger="faust.recovery"):
            restore(broker, topic, store, wait=2.0)
        assert store.data == {f"k{i}": i for i in range(5)}
        assert "an open transaction holds its last stable offset" in caplog.text
        assert "did not end within 2s" in caplog.text
        assert "restored up to offset 5 only" in caplog.text

        # a store whose offset is past the LSO already: nothing is readable, no EOF comes
        caplog.clear()
        ahead = MemoryStore(TableCodec(str, int, "json", "json"), None)
        ahead.offsets[0] = 7
        with caplog.at_level(logging.INFO, logger="faust.recovery"):
            restore(broker, topic, ahead, wait=1.0)
        assert "an open transaction holds its last stable offset" in caplog.text
        assert "restored up to offset 8 only" in caplog.text
    finally:
        zombie.abort_transaction(10)


def test_a_restore_goes_on_when_the_open_transaction_ends(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    topic = "recovery-ended-txn-changelog"
    zombie = changelog_with_an_open_transaction(broker, topic)
    store = MemoryStore(TableCodec(str, int, "json", "json"), None)
    committed = []

    def commit_once_blocked() -> None:
        if not committed and "an open transaction holds" in caplog.text:
            zombie.commit_transaction(10)  # it ends: the rest becomes readable
            committed.append(True)

    with caplog.at_level(logging.INFO, logger="faust.recovery"):
        restore(broker, topic, store, wait=50.0, on_step=commit_once_blocked)
    assert committed, "the restore was never held"
    expected: dict[str, Any] = {f"k{i}": i for i in range(5)}
    expected.update({f"z{i}": 10 + i for i in range(3)})
    expected.update({f"s{i}": 20 + i for i in range(4)})
    assert store.data == expected
    assert "did not end within" not in caplog.text
