"""One contract, two transports: the in-memory broker behaves like Kafka where the worker
relies on it. The promises are the named tests of ``tests/transport_contract.py``; each
runs against the memory transport and against the Kafka transport on the embedded broker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from transport_contract import PATIENCE, TransportContract, fresh

from faust.exceptions import DeliveryError
from faust.settings import Settings
from faust.transport.base import TopicSpec, Transport
from faust.transport.kafka import KafkaProducer, KafkaTransport
from faust.transport.memory import MemoryTransport
from faustc.broker import EmbeddedBroker


class TestMemoryTransport(TransportContract):
    @pytest.fixture
    def transport(self) -> Iterator[Transport]:
        yield MemoryTransport.named(fresh("contract"))


class TestKafkaTransport(TransportContract):
    @pytest.fixture
    def transport(self, broker: EmbeddedBroker) -> Iterator[Transport]:
        settings = Settings(
            id="contract", broker=broker.url, broker_session_timeout=6, broker_heartbeat_interval=1
        )
        kafka = KafkaTransport(settings)
        yield kafka
        kafka.close()


class CountedReports(KafkaProducer):
    """Counts the reports of untracked records that reach Python: (successes, failures)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.reports = [0, 0]
        super().__init__(*args, **kwargs)

    def _on_delivery(self, error: Any, message: Any) -> None:
        self.reports[error is not None] += 1
        super()._on_delivery(error, message)


def counted(kafka: KafkaTransport, *, tracked_only: bool) -> CountedReports:
    """A producer with success reports (a worker with tables), built as
    ``KafkaTransport.producer`` builds it."""
    plain = kafka.configs.producer() if tracked_only else None
    config = kafka.configs.producer(track_deliveries=True)
    return CountedReports(config, create=kafka._create, check=kafka.errors.check, plain=plain)


@pytest.fixture
def kafka(broker: EmbeddedBroker) -> Iterator[KafkaTransport]:
    transport = KafkaTransport(Settings(id="split", broker=broker.url))
    yield transport
    transport.close()


@pytest.mark.parametrize("tracked_only", [False, True])
def test_the_plain_sends_of_a_tracking_producer_report_no_success(
    kafka: KafkaTransport, tracked_only: bool
) -> None:
    """With success reports for the changelogs only, a plain send's or a direct produce's
    success is not reported into Python (librdkafka reports every record of a client
    whose successes are on: they go to a client of their own); without ``tracked_only``
    every success is, as before."""
    out, changelog = fresh("split"), fresh("split-changelog")
    kafka.ensure_topics([TopicSpec(out, 2), TopicSpec(changelog, 2)], 15)
    producer = counted(kafka, tracked_only=tracked_only)
    produce, _retry = producer.direct()
    for i in range(50):
        produce(out, b"v", f"k{i}".encode())
        producer.send(out, f"k{i}".encode(), b"v")
    producer.send_tracked_run(changelog, 0, [(b"a", b"1"), (b"b", b"2")])
    producer.flush(PATIENCE)
    assert producer.take_delivered_offsets() == {(changelog, 0): 1}
    # the run's first record is untracked: its success is reported on the tracked client
    assert producer.reports == ([1, 0] if tracked_only else [101, 0])
    producer.close()


def test_a_failed_plain_send_of_a_tracking_producer_stops_the_flush(
    kafka: KafkaTransport,
) -> None:
    """A record of the plain client that cannot be delivered (partition 99 of a topic
    unknown when it is queued: confluent-kafka fails it in its delivery report) fails
    the flush and reaches ``report_failures`` exactly as on a single client; the tracked
    records' offsets are still learned."""
    astray, changelog = fresh("split-astray"), fresh("split-changelog")
    kafka.ensure_topics([TopicSpec(changelog, 1)], 15)
    failures: list[tuple[str, int, str]] = []
    producer = kafka.producer(track_deliveries=True, tracked_only=True)
    producer.report_failures(lambda *failure: failures.append(failure))
    producer.send(astray, None, b"lost", 99)
    producer.send_tracked(changelog, b"k", b"v", 0)
    with pytest.raises(DeliveryError) as raised:
        producer.flush(PATIENCE)
    expected = f"{astray}[99]: Local: Unknown partition"
    assert str(raised.value) == f"1 record(s) were not delivered, first: {expected}"
    assert failures == [(astray, 99, "Local: Unknown partition")]
    assert producer.take_delivered_offsets() == {(changelog, 0): 0}
    with pytest.raises(DeliveryError):  # sticky: no later flush succeeds
        producer.flush(PATIENCE)
