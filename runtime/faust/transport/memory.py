"""An in-process broker with the transport contract, for tests and ``test_context()``.

Topics are lists of partitions of records; consumer groups keep committed offsets; keys are
partitioned with Kafka's murmur2, so a record lands in the same partition number as it would
on Kafka. A consumer of the memory broker is the only member of its group and is assigned
every partition of the topics it subscribes to. Example::

    transport = MemoryTransport.named("test-1")
    transport.ensure_topics([TopicSpec("words", 2)], timeout=1)
    producer = transport.producer({})
    producer.send("words", b"k", b'"hello"')
"""

from __future__ import annotations

import itertools
import time
from typing import Any, ClassVar

from confluent_kafka import TopicPartition

from faust.exceptions import ImproperlyConfigured
from faust.transport.base import Rebalance, TopicSpec
from faust.transport.partitioner import partition_for_key


class MemoryMessage:
    """One stored record; the same methods as confluent-kafka's Message."""

    __slots__ = ("_headers", "_key", "_offset", "_partition", "_timestamp", "_topic", "_value")

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None,
        timestamp_ms: int,
    ) -> None:
        self._topic = topic
        self._partition = partition
        self._offset = offset
        self._key = key
        self._value = value
        self._headers = headers
        self._timestamp = timestamp_ms

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp)  # 1 = TIMESTAMP_CREATE_TIME

    def error(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<MemoryMessage {self._topic}[{self._partition}]@{self._offset}>"


class MemoryBroker:
    """Topics, partitions and committed offsets, all in memory."""

    def __init__(self) -> None:
        self.topics: dict[str, list[list[MemoryMessage]]] = {}
        self.committed: dict[tuple[str, str, int], int] = {}
        self._round_robin = itertools.count()

    def create_topic(self, name: str, partitions: int) -> None:
        self.topics.setdefault(name, [[] for _ in range(partitions)])

    def append(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        timestamp_ms: int | None = None,
    ) -> MemoryMessage:
        if topic not in self.topics:
            raise ImproperlyConfigured(f"memory broker: unknown topic {topic!r}")
        partitions = self.topics[topic]
        if partition is None:
            if key is None:
                partition = next(self._round_robin) % len(partitions)
            else:
                partition = partition_for_key(key, len(partitions))
        log = partitions[partition]
        message = MemoryMessage(
            topic,
            partition,
            len(log),
            key,
            value,
            headers,
            int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        )
        log.append(message)
        return message

    def records(self, topic: str) -> list[MemoryMessage]:
        """Every record of ``topic``, partition by partition."""
        return [message for log in self.topics.get(topic, []) for message in log]

    def end_offsets(self, topic: str) -> list[int]:
        return [len(log) for log in self.topics[topic]]


class MemoryTransport:
    """The transport over a :class:`MemoryBroker` (``memory://<name>``)."""

    _brokers: ClassVar[dict[str, MemoryBroker]] = {}

    def __init__(self, broker: MemoryBroker, name: str = "default") -> None:
        self.broker = broker
        self.description = f"memory://{name}"

    @classmethod
    def named(cls, name: str) -> MemoryTransport:
        """The transport of the broker called ``name`` (created on first use)."""
        broker = cls._brokers.setdefault(name, MemoryBroker())
        return cls(broker, name)

    def check_connection(self, timeout: float) -> None:
        return None

    def ensure_topics(self, specs: list[TopicSpec], timeout: float) -> dict[str, int]:
        for spec in specs:
            self.broker.create_topic(spec.name, spec.partitions)
        return {spec.name: len(self.broker.topics[spec.name]) for spec in specs}

    def consumer(self, group_id: str, config: dict[str, object]) -> MemoryConsumer:
        return MemoryConsumer(
            self.broker, group_id, str(config.get("auto.offset.reset", "earliest"))
        )

    def producer(self, config: dict[str, object]) -> MemoryProducer:
        return MemoryProducer(self.broker)


class MemoryConsumer:
    """The only member of its group: assigned every partition it subscribes to."""

    def __init__(self, broker: MemoryBroker, group_id: str, offset_reset: str) -> None:
        self.broker = broker
        self.group_id = group_id
        self.offset_reset = offset_reset
        self._topics: list[str] = []
        self._on_assign: Rebalance | None = None
        self._on_revoke: Rebalance | None = None
        self._positions: dict[tuple[str, int], int] = {}
        self._assigned = False

    def subscribe(self, topics: list[str], on_assign: Rebalance, on_revoke: Rebalance) -> None:
        """Subscribe (again): partitions of topics still subscribed keep their position,
        those of dropped topics are revoked, new ones are assigned on the next consume."""
        dropped = [tp for tp in self._positions if tp[0] not in topics]
        if dropped and self._on_revoke is not None:
            self._on_revoke([TopicPartition(topic, partition) for topic, partition in dropped])
        for tp in dropped:
            del self._positions[tp]
        self._topics = list(topics)
        self._on_assign = on_assign
        self._on_revoke = on_revoke
        self._assigned = False

    def _assign_all(self) -> None:
        self._assigned = True
        added = []
        for topic in self._topics:
            for partition, log in enumerate(self.broker.topics[topic]):
                if (topic, partition) in self._positions:
                    continue
                committed = self.broker.committed.get((self.group_id, topic, partition))
                if committed is None:
                    committed = 0 if self.offset_reset == "earliest" else len(log)
                self._positions[(topic, partition)] = committed
                added.append(TopicPartition(topic, partition))
        if self._on_assign is not None and added:
            self._on_assign(added)

    def consume(self, max_messages: int, timeout: float) -> list[Any]:
        if not self._assigned:
            self._assign_all()
        batch: list[MemoryMessage] = []
        for (topic, partition), position in self._positions.items():
            room = max_messages - len(batch)
            if room <= 0:
                break
            taken = self.broker.topics[topic][partition][position : position + room]
            batch.extend(taken)
            self._positions[(topic, partition)] = position + len(taken)
        return batch

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(topic, partition) for topic, partition in self._positions]

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [
            TopicPartition(
                tp.topic, tp.partition, self._positions.get((tp.topic, tp.partition), -1001)
            )
            for tp in partitions
        ]

    def committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [
            TopicPartition(
                tp.topic,
                tp.partition,
                self.broker.committed.get((self.group_id, tp.topic, tp.partition), -1001),
            )
            for tp in partitions
        ]

    def commit(self, offsets: list[TopicPartition]) -> None:
        for tp in offsets:
            self.broker.committed[(self.group_id, tp.topic, tp.partition)] = tp.offset

    def close(self) -> None:
        if self._assigned and self._on_revoke is not None:
            self._on_revoke(self.assignment())
        self._positions.clear()
        self._assigned = False


class MemoryProducer:
    """Appends straight to the broker: every send is durable at once."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.broker.append(
            topic,
            key,
            value,
            partition=partition,
            headers=headers,
            timestamp_ms=None if timestamp is None else int(timestamp * 1000),
        )

    def poll(self) -> None:
        return None

    def flush(self, timeout: float) -> None:
        return None

    def close(self) -> None:
        return None
