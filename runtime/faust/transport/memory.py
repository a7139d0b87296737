"""An in-process broker with the transport contract, for tests and ``test_context()``.

Topics are lists of partitions of records; consumer groups keep committed offsets; keys are
partitioned with Kafka's murmur2, so a record lands in the same partition number as it would
on Kafka. A consumer of the memory broker is the only member of its group and is assigned
every partition of the topics it subscribes to. A producer with a ``transactional.id`` holds
its records until the transaction commits (an abort drops them, as read_committed consumers
of Kafka would see it), and a newer producer with the same id fences the older. Example::

    transport = MemoryTransport.named("test-1")
    transport.ensure_topics([TopicSpec("words", 2)], timeout=1)
    producer = transport.producer()
    producer.send("words", b"k", b'"hello"')
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from confluent_kafka import TopicPartition

from faust.delivery import DeliveryFailure, DeliveryReport
from faust.exceptions import ImproperlyConfigured, TransactionFailed
from faust.transport.base import (
    ChangelogBatch,
    DirectProduce,
    Rebalance,
    TopicSpec,
    produce_through,
)
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
        #: the current epoch of each transactional id (a newer producer fences older ones)
        self.producer_epochs: dict[str, int] = {}
        self._round_robin = itertools.count()
        #: creates a topic a producer writes to before anyone declared it (its partition
        #: count), as a broker with ``auto.create.topics.enable``; None: unknown is an error
        self.auto_create: Callable[[str], int] | None = None

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
        if topic not in self.topics and self.auto_create is not None:
            self.create_topic(topic, self.auto_create(topic))
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

    def close(self) -> None:
        return None

    def ensure_topics(
        self, specs: list[TopicSpec], timeout: float, *, create: bool = True
    ) -> dict[str, int]:
        for spec in specs:
            if create:
                self.broker.create_topic(spec.name, spec.partitions)
        topics = self.broker.topics
        return {spec.name: len(topics[spec.name]) for spec in specs if spec.name in topics}

    def topic_configs(self, names: list[str], timeout: float) -> dict[str, dict[str, str]]:
        return {}  # the memory broker keeps no topic configuration

    def consumer(self, group_id: str) -> MemoryConsumer:
        return MemoryConsumer(self.broker, group_id, "earliest")

    def reply_consumer(self, group_id: str) -> MemoryConsumer:
        return MemoryConsumer(self.broker, group_id, "latest")

    def producer(
        self,
        *,
        transactional_id: str | None = None,
        track_deliveries: bool = False,
        tracked_only: bool = False,
    ) -> MemoryProducer:
        return MemoryProducer(self.broker, transactional_id)

    def changelog_reader(self) -> MemoryChangelogReader:
        return MemoryChangelogReader(self.broker)


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
        self._paused: set[tuple[str, int]] = set()
        self._assigned = False

    def subscribe(
        self,
        topics: list[str],
        on_assign: Rebalance,
        on_revoke: Rebalance,
        on_lost: Rebalance | None = None,
    ) -> None:
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
            if (topic, partition) in self._paused:
                continue
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

    def seek(self, partition: TopicPartition) -> None:
        key = (partition.topic, partition.partition)
        if key in self._positions:
            self._positions[key] = partition.offset

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._paused.update((tp.topic, tp.partition) for tp in partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._paused.difference_update((tp.topic, tp.partition) for tp in partitions)

    def high_watermark(self, topic: str, partition: int) -> int | None:
        return self.broker.end_offsets(topic)[partition] if topic in self.broker.topics else None

    def group_metadata(self) -> str:
        return self.group_id

    def close(self) -> None:
        if self._assigned and self._on_revoke is not None:
            self._on_revoke(self.assignment())
        self._positions.clear()
        self._paused.clear()
        self._assigned = False


class MemoryChangelogReader:
    """Reads assigned partitions and reports reaching their end, as the Kafka reader does."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker
        self._positions: dict[tuple[str, int], int] = {}
        self._at_end: set[tuple[str, int]] = set()

    def assign(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            offset = tp.offset if tp.offset >= 0 else 0  # OFFSET_BEGINNING and friends
            self._positions[(tp.topic, tp.partition)] = offset
            self._at_end.discard((tp.topic, tp.partition))

    def unassign(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._positions.pop((tp.topic, tp.partition), None)
            self._at_end.discard((tp.topic, tp.partition))

    def read(self, max_records: int, timeout: float) -> ChangelogBatch:
        records: list[Any] = []
        eof: list[tuple[str, int, int]] = []
        out_of_range: list[tuple[str, int]] = []
        for (topic, partition), position in list(self._positions.items()):
            log = self.broker.topics[topic][partition]
            if position > len(log):
                out_of_range.append((topic, partition))
                del self._positions[(topic, partition)]
                continue
            taken = log[position : position + max(0, max_records - len(records))]
            if taken:
                records.extend(taken)
                position += len(taken)
                self._positions[(topic, partition)] = position
                self._at_end.discard((topic, partition))
            if position == len(log) and (topic, partition) not in self._at_end:
                self._at_end.add((topic, partition))
                eof.append((topic, partition, position))
        return ChangelogBatch(records, eof, out_of_range)

    def high_watermark(self, topic: str, partition: int) -> int | None:
        return len(self.broker.topics[topic][partition])

    def close(self) -> None:
        self._positions.clear()


_Record = tuple[
    str, bytes | None, bytes | None, int | None, list[tuple[str, bytes]] | None, int | None
]


class MemoryProducer:
    """Appends straight to the broker (every send is durable at once), or, with a
    transactional id, when the transaction commits."""

    def __init__(self, broker: MemoryBroker, transactional_id: str | None = None) -> None:
        self.broker = broker
        self.transactional_id = transactional_id
        self._epoch = 0
        self._in_transaction = False
        self._pending: list[_Record] = []
        self._tracked: set[int] = set()  # indexes in _pending of tracked records
        self._reported: dict[int, DeliveryReport] = {}  # indexes in _pending of reported ones
        #: acknowledged reported sends, served by poll() and flush()
        self._reports: list[tuple[DeliveryReport, MemoryMessage]] = []
        self._delivered: dict[tuple[str, int], int] = {}

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        timestamp_ms = None if timestamp is None else int(timestamp * 1000)
        if self.transactional_id is not None:
            self._check_transaction()
            self._pending.append((topic, key, value, partition, headers, timestamp_ms))
            return
        self.broker.append(
            topic, key, value, partition=partition, headers=headers, timestamp_ms=timestamp_ms
        )

    def direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        return produce_through(self.send), ()  # send() itself: nothing to retry

    def send_tracked(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        if self.transactional_id is not None:
            self._tracked.add(len(self._pending))
            self.send(topic, key, value, partition, headers=headers)
            return
        message = self.broker.append(topic, key, value, partition=partition, headers=headers)
        self._delivered[(topic, partition)] = message.offset()

    def send_tracked_run(
        self,
        topic: str,
        partition: int,
        records: Iterable[tuple[bytes, bytes | None]],
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        last: tuple[bytes, bytes | None] | None = None
        for record in records:
            if last is not None:
                self.send(topic, last[0], last[1], partition)
            last = record
        if last is not None:
            self.send_tracked(topic, last[0], last[1], partition, headers)

    def send_reported(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]] | None,
        report: DeliveryReport,
    ) -> None:
        if self.transactional_id is not None:
            self._reported[len(self._pending)] = report
            self.send(topic, key, value, partition, timestamp, headers)
            return
        timestamp_ms = None if timestamp is None else int(timestamp * 1000)
        message = self.broker.append(
            topic, key, value, partition=partition, headers=headers, timestamp_ms=timestamp_ms
        )
        self._reports.append((report, message))
        # durable at once: report soon, also where nobody polls (agent.test_context());
        # without a running loop, poll() or flush() reports it
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().call_soon(self.poll)

    def take_delivered_offsets(self) -> dict[tuple[str, int], int]:
        delivered, self._delivered = self._delivered, {}
        return delivered

    def poll(self) -> None:
        reports, self._reports = self._reports, []
        for report, message in reports:
            report(message.topic(), message.partition(), message.offset(), message.timestamp()[1])

    def queued(self) -> int:
        return len(self._pending)

    def report_failures(self, report: DeliveryFailure | None) -> None:
        """The memory broker takes every record: nothing to report."""

    def delivery_errors(self) -> int:
        return 0

    def flush(self, timeout: float) -> None:
        self.poll()

    # -- transactions ------------------------------------------------------------------------

    def init_transactions(self, timeout: float) -> None:
        assert self.transactional_id is not None, "init_transactions needs a transactional.id"
        epochs = self.broker.producer_epochs
        self._epoch = epochs[self.transactional_id] = epochs.get(self.transactional_id, 0) + 1

    def begin_transaction(self) -> None:
        self._check_fenced()
        self._in_transaction = True

    def commit_transaction(
        self, offsets: list[TopicPartition], group_metadata: Any, timeout: float
    ) -> None:
        self._check_transaction()
        for index, (topic, key, value, partition, headers, timestamp_ms) in enumerate(
            self._pending
        ):
            message = self.broker.append(
                topic, key, value, partition=partition, headers=headers, timestamp_ms=timestamp_ms
            )
            if index in self._tracked:
                self._delivered[(topic, message.partition())] = message.offset()
            report = self._reported.get(index)
            if report is not None:
                self._reports.append((report, message))
        for tp in offsets:
            self.broker.committed[(str(group_metadata), tp.topic, tp.partition)] = tp.offset
        self._end_transaction()

    def abort_transaction(self, timeout: float) -> None:
        self._end_transaction()

    def _end_transaction(self) -> None:
        self._pending = []
        self._tracked = set()
        self._reported = {}
        self._in_transaction = False

    def _check_fenced(self) -> None:
        assert self.transactional_id is not None
        if self.broker.producer_epochs.get(self.transactional_id) != self._epoch:
            raise TransactionFailed(
                f"producer {self.transactional_id!r} was fenced "
                "(a newer worker with the same transactional id took over)"
            )

    def _check_transaction(self) -> None:
        self._check_fenced()
        if not self._in_transaction:
            raise TransactionFailed("send outside a transaction (call begin_transaction first)")

    def close(self) -> None:
        return None
