"""The contract every transport meets: a consumer, a producer, topic administration, and
a changelog reader for restoring tables.

The shapes follow confluent-kafka's so the Kafka transport is a thin wrapper and the memory
transport can be checked against it with one contract test suite: every promise the worker
relies on is a named test of ``tests/transport_contract.py``, run against both transports
(``tests/test_transport.py``).
Offsets and assignments use ``confluent_kafka.TopicPartition`` on both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from confluent_kafka import TopicPartition

from faust.delivery import DeliveryFailure, DeliveryReport
from faust.events import TransportMessage

Rebalance = Callable[[list[TopicPartition]], None]


@dataclasses.dataclass(frozen=True)
class TopicSpec:
    """A topic the app needs: created when missing, checked when present."""

    name: str
    partitions: int
    replicas: int = 1
    config: tuple[tuple[str, str], ...] = ()


class Consumer(Protocol):
    def subscribe(
        self,
        topics: list[str],
        on_assign: Rebalance,
        on_revoke: Rebalance,
        on_lost: Rebalance | None = None,
    ) -> None:
        """Join the group for ``topics``; callbacks run inside :meth:`consume`. ``on_lost``
        (default: ``on_revoke``) hears of partitions the group took away without a
        revocation (the member's session expired): they may be someone else's already."""

    def consume(self, max_messages: int, timeout: float) -> list[TransportMessage]:
        """Up to ``max_messages``: what is buffered now, else the first to arrive within
        ``timeout`` seconds plus whatever came with it. Never waits to fill a batch."""
        ...

    def assignment(self) -> list[TopicPartition]: ...

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Offset after the last message :meth:`consume` returned, per partition."""
        ...

    def committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]: ...

    def commit(self, offsets: list[TopicPartition]) -> None:
        """Commit synchronously (raises on failure; AssignmentLost when the group refused
        it because this member left the generation owning the partitions)."""

    def seek(self, partition: TopicPartition) -> None:
        """Fetch an assigned partition from ``partition.offset`` on."""

    def pause(self, partitions: list[TopicPartition]) -> None:
        """Stop returning messages of ``partitions`` (assigned ones) until :meth:`resume`."""

    def resume(self, partitions: list[TopicPartition]) -> None: ...

    def high_watermark(self, topic: str, partition: int) -> int | None:
        """The end of ``topic[partition]`` as the last fetch response reported it (no
        request to the broker; None before any fetch): the consumer lag's upper end."""
        ...

    def group_metadata(self) -> Any:
        """What ``Producer.commit_transaction`` needs to commit offsets for this group."""

    def close(self) -> None: ...


class DirectProduce(Protocol):
    """``produce(topic, value, key, headers=None)``: a client's own produce call
    (librdkafka's argument order)."""

    def __call__(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None,
        *,
        headers: Any = None,  # a list of (name, bytes) pairs, as the client takes them
    ) -> None: ...


#: ``cell(topic)``: the one-item list a compiled loop adds each record it produced to
#: ``topic`` to (``faust.worker.sensors``: the counts of ``/metrics``)
SendCell = Callable[[str], list[int]]


def unread_cell(topic: str) -> list[int]:
    """A :data:`SendCell` nobody reads: where nothing counts the loop's records (a new
    list each time: the counts of two loops never meet)."""
    return [0]


def produce_through(send: Callable[..., None]) -> DirectProduce:
    """A :class:`DirectProduce` for a producer without a produce call of its own: it calls
    ``send(topic, key, value, headers=headers)``."""

    def produce(topic: str, value: bytes | None, key: bytes | None, *, headers: Any = None) -> None:
        send(topic, key, value, headers=headers)

    return produce


class Producer(Protocol):
    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue one record (returns at once)."""

    def direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        """``(produce, retry)`` for a compiled loop: the client's own produce call, without
        :meth:`send`'s Python frame, and the errors after which the loop calls
        :meth:`send` with the same record instead (it waits for room in a full queue and
        turns a failed producer into DeliveryError). Example::

            produce, retry = producer.direct()
            try:
                produce("out", value, key)
            except retry:
                producer.send("out", key, value)
        """
        ...

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
        """Queue one record and call ``report(topic, partition, offset, timestamp_ms)``
        once it is acknowledged, from :meth:`poll` or :meth:`flush` (``Topic.send(
        callback=)``). A producer without success reports (no table, no callback seen at
        start) reports it after the next successful flush, with offset -1."""

    def poll(self) -> None:
        """Serve delivery reports without waiting."""

    def report_failures(self, report: DeliveryFailure | None) -> None:
        """From now on call ``report(topic, partition, reason)`` for each record the
        brokers did not take, from :meth:`poll` or :meth:`flush` (which still raises
        DeliveryError after them). A delivered record calls nothing."""

    def send_tracked(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue one record whose offset :meth:`take_delivered_offsets` reports once it is
        acknowledged (changelog records: a table stores the offset it has applied)."""

    def send_tracked_run(
        self,
        topic: str,
        partition: int,
        records: Iterable[tuple[bytes, bytes | None]],
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue ``records`` (key, value) to one partition, in order, as :meth:`send`
        would, and the last one (with ``headers``) as :meth:`send_tracked`: its offset,
        once acknowledged, is the partition's after all of them (an idempotent producer
        writes a partition's records in order). A commit's changelog records, with one
        delivery report to read instead of one per record; ``records`` may be a
        generator (each record is queued as the next one comes)."""

    def take_delivered_offsets(self) -> dict[tuple[str, int], int]:
        """The offset of the last acknowledged tracked record per (topic, partition) since
        the previous call."""
        ...

    def flush(self, timeout: float) -> None:
        """Wait until every queued record is acknowledged; raise DeliveryError otherwise."""

    def queued(self) -> int:
        """Records queued or in flight, not yet acknowledged (for metrics)."""
        ...

    def delivery_errors(self) -> int:
        """Records the brokers did not take since the producer started (for metrics)."""
        ...

    # -- transactions (a producer created with a ``transactional.id``) ---------------------

    def init_transactions(self, timeout: float) -> None:
        """Register the transactional id; fences older producers with the same id and
        aborts their open transaction."""

    def begin_transaction(self) -> None: ...

    def commit_transaction(
        self, offsets: list[TopicPartition], group_metadata: Any, timeout: float
    ) -> None:
        """Add the consumer ``offsets`` to the transaction and commit it (raises
        TransactionFailed; the worker must then stop)."""

    def abort_transaction(self, timeout: float) -> None: ...

    def close(self) -> None: ...


class ProducerProxy:
    """A :class:`Producer` that forwards every call to :attr:`producer`: the base of the
    wrappers that change a few calls and keep the rest (the worker's
    ``SensedProducer``, the command line's ``OnDemandProducer``)."""

    @property
    def producer(self) -> Producer:
        """The producer the calls go to."""
        raise NotImplementedError

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.producer.send(topic, key, value, partition, timestamp, headers)

    def direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        return self.producer.direct()

    def counting_direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...], SendCell]:
        """:meth:`direct` and the cells a compiled loop counts its records in
        (``faust.running.Running.counting_sender``); nobody reads them here."""
        return (*self.direct(), unread_cell)

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
        self.producer.send_reported(topic, key, value, partition, timestamp, headers, report)

    def poll(self) -> None:
        self.producer.poll()

    def report_failures(self, report: DeliveryFailure | None) -> None:
        self.producer.report_failures(report)

    def send_tracked(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.producer.send_tracked(topic, key, value, partition, headers)

    def send_tracked_run(
        self,
        topic: str,
        partition: int,
        records: Iterable[tuple[bytes, bytes | None]],
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self.producer.send_tracked_run(topic, partition, records, headers)

    def take_delivered_offsets(self) -> dict[tuple[str, int], int]:
        return self.producer.take_delivered_offsets()

    def flush(self, timeout: float) -> None:
        self.producer.flush(timeout)

    def queued(self) -> int:
        return self.producer.queued()

    def delivery_errors(self) -> int:
        return self.producer.delivery_errors()

    def init_transactions(self, timeout: float) -> None:
        self.producer.init_transactions(timeout)

    def begin_transaction(self) -> None:
        self.producer.begin_transaction()

    def commit_transaction(
        self, offsets: list[TopicPartition], group_metadata: Any, timeout: float
    ) -> None:
        self.producer.commit_transaction(offsets, group_metadata, timeout)

    def abort_transaction(self, timeout: float) -> None:
        self.producer.abort_transaction(timeout)

    def close(self) -> None:
        self.producer.close()


@dataclasses.dataclass
class ChangelogBatch:
    """What one :meth:`ChangelogReader.read` returned."""

    records: list[TransportMessage]
    #: partitions that reached their end: (topic, partition, end offset)
    eof: list[tuple[str, int, int]]
    #: partitions whose start offset is past their end (the topic lost data: start over)
    out_of_range: list[tuple[str, int]]


class ChangelogReader(Protocol):
    """A consumer outside any group that reads changelog partitions to their true end.

    The end is where a fetch reports the partition exhausted (the high watermark in fetch
    responses), never ListOffsets: some brokers under-report ListOffsets(latest).
    """

    def assign(self, partitions: list[TopicPartition]) -> None:
        """Start reading ``partitions`` at their offsets (``OFFSET_BEGINNING`` allowed)."""

    def unassign(self, partitions: list[TopicPartition]) -> None: ...

    def read(self, max_records: int, timeout: float) -> ChangelogBatch: ...

    def high_watermark(self, topic: str, partition: int) -> int | None:
        """The end offset from the last fetch response (None until one arrived)."""
        ...

    def close(self) -> None: ...


class Transport(Protocol):
    description: str

    def check_connection(self, timeout: float) -> None:
        """Raise BrokerUnavailable with a one-line reason when no broker answers."""

    def ensure_topics(
        self, specs: list[TopicSpec], timeout: float, *, create: bool = True
    ) -> dict[str, int]:
        """Create the missing topics, wait until the broker shows them all, and return
        each topic's partition count. ``create=False`` (``topic_allow_declare=False``):
        create nothing, wait for nothing; the partition counts of those that exist."""
        ...

    def topic_configs(self, names: list[str], timeout: float) -> dict[str, dict[str, str]]:
        """The configuration the broker reports for each of the topics ``names`` (a topic
        it says nothing of is left out; a setting it leaves out has the broker's default)."""
        ...

    def consumer(self, group_id: str) -> Consumer:
        """The worker's consumer, in group ``group_id`` (the app id)."""
        ...

    def reply_consumer(self, group_id: str) -> Consumer:
        """A consumer of ``agent.ask()`` replies, in a group of its own, from the end."""
        ...

    def producer(
        self,
        *,
        transactional_id: str | None = None,
        track_deliveries: bool = False,
        tracked_only: bool = False,
    ) -> Producer:
        """The producer; transactional with ``transactional_id``; ``track_deliveries``: for
        :meth:`Producer.send_tracked` (tables learn the offsets of their changelog records);
        ``tracked_only``: only those need success reports (no ``send_reported`` wants its
        offset), so the other sends may go where only their failures are reported."""
        ...

    def changelog_reader(self) -> ChangelogReader: ...

    def close(self) -> None:
        """The worker is closing its clients: release what the transport itself holds (its
        admin client) and stop raising client errors from callbacks."""
