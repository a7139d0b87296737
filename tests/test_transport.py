"""One contract, two transports: the in-memory broker behaves like Kafka where the worker
relies on it (partitioning, batch consume, positions, commits, resuming a group)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import TopicPartition

from faust.settings import Settings
from faust.transport.base import TopicSpec, Transport
from faust.transport.kafka import KafkaTransport
from faust.transport.memory import MemoryTransport
from faust.transport.partitioner import partition_for_key
from faustc.broker import EmbeddedBroker

_ids = itertools.count()


@pytest.fixture(params=["memory", "kafka"])
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    if request.param == "memory":
        yield MemoryTransport.named(f"contract-{next(_ids)}")
    else:
        broker: EmbeddedBroker = request.getfixturevalue("broker")
        settings = Settings(
            id="contract", broker=broker.url, broker_session_timeout=6, broker_heartbeat_interval=1
        )
        yield KafkaTransport(settings)


def consume_until(consumer: object, count: int, timeout: float = 30.0) -> list[object]:
    messages: list[object] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count and time.monotonic() < deadline:
        messages += consumer.consume(500, 0.2)  # type: ignore[attr-defined]
    return messages


def test_contract(transport: Transport) -> None:
    topic = f"contract-{next(_ids)}"
    group = f"contract-{topic}"
    assert transport.ensure_topics([TopicSpec(topic, 3)], 15) == {topic: 3}
    assert transport.ensure_topics([TopicSpec(topic, 3)], 15) == {topic: 3}  # idempotent

    producer = transport.producer()
    keys = [f"key-{i % 17}".encode() for i in range(300)]
    for i, key in enumerate(keys):
        producer.send(topic, key, str(i).encode())
    producer.flush(30)

    assigned: list[TopicPartition] = []
    consumer = transport.consumer(group)
    consumer.subscribe([topic], assigned.extend, lambda partitions: None)
    messages = consume_until(consumer, 300)
    assert len(messages) == 300
    assert sorted(tp.partition for tp in assigned) == [0, 1, 2]
    per_partition: dict[int, list[int]] = {}
    for message in messages:
        key = message.key()  # type: ignore[attr-defined]
        assert message.partition() == partition_for_key(key, 3)  # type: ignore[attr-defined]
        per_partition.setdefault(message.partition(), []).append(message.offset())  # type: ignore[attr-defined]
    for offsets in per_partition.values():
        assert offsets == list(range(len(offsets)))  # in order, no gaps

    positions = consumer.position(consumer.assignment())
    ends = {p: len(offsets) for p, offsets in per_partition.items()}
    assert {tp.partition: tp.offset for tp in positions} == ends
    consumer.commit(positions)
    assert {tp.partition: tp.offset for tp in consumer.committed(positions)} == ends
    consumer.close()

    # a new member of the group resumes after the committed offsets
    producer.send(topic, b"late", b"late")
    producer.flush(30)
    resumed = transport.consumer(group)
    resumed.subscribe([topic], lambda partitions: None, lambda partitions: None)
    later = consume_until(resumed, 1)
    time.sleep(0.5)
    later += resumed.consume(500, 0.5)
    assert [m.value() for m in later] == [b"late"]  # type: ignore[attr-defined]
    resumed.close()
    producer.close()
