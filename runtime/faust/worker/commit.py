"""The commit protocol: when a worker commits, and in which order, so that offsets never
pass a message whose effects are not durable.

One object per worker, chosen by ``processing_guarantee``: :class:`AtLeastOnce` or
:class:`ExactlyOnce`. The worker tells it how many messages each batch processed
(:meth:`CommitProtocol.count`), asks whether a commit is due after each batch
(:meth:`CommitProtocol.due`), and calls :meth:`CommitProtocol.commit` then, before
partitions are revoked and at shutdown; after a failure, :meth:`CommitProtocol.abandon`.

Commit order, at-least-once (the default):

1. every message up to the positions being committed has been processed by every agent
   on its topic; a partition's commit never passes a message a stream still holds (a
   ``take`` buffer, an un-acked ``noack`` event): it stops at the lowest held offset;
2. the tables send one changelog record per key written since the last commit;
3. the producer is flushed: every output and changelog record is acknowledged;
4. the table stores write those changes with the offset of the last changelog record,
   one RocksDB ``WriteBatch`` per table partition;
5. the consumer's positions are committed, synchronously.

Exactly-once (``processing_guarantee="exactly_once"``): one transactional producer per
worker process (``transactional.id`` from ``faust.contract.transactional_id``); outputs,
dead letters and changelog records all go into the open transaction, and
``read_committed`` consumers see them only when it commits:

1. as above;
2. as above, inside the transaction;
3. the consumer's positions are added to the transaction (``send_offsets_to_transaction``)
   and the transaction commits: outputs, changelog records and offsets, all or nothing;
4. only then do the table stores write the changes (table writes apply on commit);
5. the next transaction begins.

A commit the group refuses because this worker is no longer a member of the generation
that owns its partitions (its session expired while the broker stalled; UNKNOWN_MEMBER_ID,
ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS...: :class:`~faust.exceptions.AssignmentLost`)
is not a failure: the assignment is lost, as Kafka Streams' TaskMigratedException says.
The protocol stops committing (exactly-once aborts the open transaction, and keeps
aborting at every commit) until the group has assigned partitions again; the worker drops
what the lost partitions hold uncommitted (their stores close), rejoins, and resumes where
their tables are. At-least-once writes, with every commit's changelog records and table
stores, the source positions the commit covers (``faust.tables.stores.Positions``), so a
commit whose changes are durable but whose offsets were refused is not replayed: the next
owner resumes from those positions (``Rebalance.recover_step``). Exactly-once needs none of
this: changes and offsets commit together or not at all.

Commits happen every ``broker_commit_interval`` seconds (0.1 s under exactly-once unless
set) or ``broker_commit_every`` messages, when something changed (under exactly-once, at
every interval: the open transaction may hold what timers and tasks sent). When
processing, delivery or a commit fails, the worker stops without the last step for the
failed batch: at-least-once commits what the batches before it made durable, never past
the failed batch's first message in any partition; exactly-once aborts the open
transaction, and a restart resumes from the last committed one. When a table store cannot
be written (a full disk, a file-size limit, an I/O error: ``StoreFailed``), the step that
failed is step 4 and at-least-once commits nothing more at all: the offsets committed
last are the last whose effects every store holds (the changelog records of the failed
commit, durable, carry their source positions: a restart restores them and resumes
from there, counting nothing twice). Example::

    commits = commit_protocol(app.conf, producer, clock=SYSTEM_CLOCK)
    commits.begin()                      # exactly-once: fence older producers, begin
    ...                                  # agents start; the consumer subscribes
    commits.attach(consumer, tables=tables, held=routes.held_offsets)
    commits.count(len(batch))            # after each processed batch
    if commits.due():
        commits.commit()
    commits.abandon(failed_batch)        # after a failure, instead of commit()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from confluent_kafka import TopicPartition

from faust.events import TransportMessage
from faust.exceptions import AssignmentLost
from faust.transport.base import Consumer, Producer
from faust.worker.clock import Clock
from faust.worker.sensors import Sensor

if TYPE_CHECKING:
    from faust.settings import Settings
    from faust.tables.manager import Pending, TableManager

log = logging.getLogger("faust.worker")

#: seconds a commit waits for the producer's acknowledgements (or the transaction's)
FLUSH_TIMEOUT = 60.0
#: seconds allowed for registering a transactional id and aborting a transaction
TRANSACTION_TIMEOUT = 15.0

#: ``(topic, partition)``, as the worker keys offsets
TP = tuple[str, int]


def no_holds() -> dict[TP, int]:
    return {}


class CommitProtocol:
    """What both guarantees share: when a commit is due, which offsets it commits (the
    consumer's positions, below what streams hold, those that changed), the tables'
    changelog records. Subclasses make them durable in their order (module docstring)."""

    #: commit at every interval even when nothing was processed
    idle_commits = False
    #: tables learn the source positions each commit covers (at-least-once)
    tracks_positions = False

    def __init__(
        self,
        producer: Producer,
        *,
        commit_every: int,
        commit_interval: float,
        clock: Clock,
        sensor: Sensor | None = None,
    ) -> None:
        self.producer = producer
        #: told of every commit (None: nothing to tell)
        self.sensor = sensor
        self.commit_every = commit_every
        self.commit_interval = commit_interval
        self.clock = clock
        #: set by :meth:`attach` once the worker has subscribed
        self.consumer: Consumer | None = None
        self.tables: TableManager | None = None
        #: the lowest offset streams still hold, per partition
        self.held: Callable[[], dict[TP, int]] = no_holds
        #: topics read but never committed (the leader topic)
        self.ignored: frozenset[str] = frozenset()
        #: the offsets last committed, per partition (only changes are committed again)
        self.committed: dict[TP, int] = {}
        #: messages processed since the last commit
        self.uncommitted = 0
        #: the last commit stopped below a stream's holds: commit again once released
        self.held_back = False
        self.last_commit = clock.monotonic()
        #: the group refused a commit (this worker left it): nothing is committed until
        #: it assigns partitions again (:meth:`lose`, :meth:`regained`)
        self.lost = False

    def begin(self) -> None:
        """Before any agent runs (and may send)."""

    def attach(
        self,
        consumer: Consumer,
        *,
        tables: TableManager | None,
        held: Callable[[], dict[TP, int]],
        ignored: frozenset[str] = frozenset(),
    ) -> None:
        """The worker's consumer (whose positions are committed), its tables (whose
        changes are made durable first), the streams' holds, and the topics the consumer
        reads but never commits (the leader topic, which elects and carries nothing)."""
        self.consumer = consumer
        self.tables = tables
        self.held = held
        self.ignored = ignored

    def count(self, messages: int) -> None:
        """``messages`` more were processed (a commit is due after ``commit_every``)."""
        self.uncommitted += messages

    def due(self) -> bool:
        """Is it time to commit (``commit_every`` messages or ``commit_interval`` seconds
        since the last commit), and is there anything to commit?"""
        if (
            self.uncommitted < self.commit_every
            and self.clock.monotonic() - self.last_commit < self.commit_interval
        ):
            return False
        tables = self.tables
        return bool(
            self.uncommitted
            or self.held_back
            or self.idle_commits
            or (tables is not None and tables.has_changes())
        )

    def commit(self) -> None:
        """Make everything processed so far durable, then commit it (module docstring)."""
        consumer = self.consumer
        if consumer is None:
            return
        if self.lost:
            self.discard()
            return
        if self.sensor is not None:
            self.sensor.on_commit_start()
        ignored = self.ignored
        ready = [
            tp
            for tp in consumer.position(consumer.assignment())
            if tp.offset >= 0 and tp.topic not in ignored
        ]
        below = self.below_holds(ready)
        # a stream held messages back: commit again later, when it has let them go
        self.held_back = [tp.offset for tp in below] != [tp.offset for tp in ready]
        committed = self.committed
        offsets = [tp for tp in below if committed.get((tp.topic, tp.partition)) != tp.offset]
        tables = self.tables
        sources: dict[int, dict[str, int]] | None = None
        if self.tracks_positions and tables is not None:
            sources = {}
            for tp in below:
                sources.setdefault(tp.partition, {})[tp.topic] = tp.offset
        pending = tables.produce_changes(self.producer, sources) if tables is not None else []
        try:
            self.publish(consumer, offsets, pending)
        except AssignmentLost as exc:
            self.lose(str(exc))
            return
        for tp in offsets:
            committed[(tp.topic, tp.partition)] = tp.offset
        if offsets:
            log.debug("committed %s", describe(offsets))
        self.uncommitted = 0
        self.last_commit = self.clock.monotonic()
        if self.sensor is not None:
            self.sensor.on_commit(offsets)

    def publish(self, consumer: Consumer, offsets: list[TopicPartition], pending: Pending) -> None:
        """Steps 3-5 of the guarantee's order: outputs, changelog records, table writes
        and ``offsets`` durable, in that order."""
        raise NotImplementedError

    def abandon(self, failed_batch: list[TransportMessage], *, stored: bool = True) -> None:
        """After a failure: keep what is durable, nothing of ``failed_batch``. ``stored``
        False: a table store could not be written, so what was processed is not all
        stored (``faust.exceptions.StoreFailed``)."""
        raise NotImplementedError

    def lose(self, reason: str) -> None:
        """The group dropped this worker (``reason``): its partitions are lost; commit
        nothing more until :meth:`regained` (module docstring)."""
        if not self.lost:
            log.warning(
                "the group no longer counts this worker as a member (%s): its partitions "
                "are lost; it drops what they hold uncommitted, rejoins, and resumes where "
                "their tables are",
                reason,
            )
        self.lost = True
        self.committed.clear()
        self.uncommitted = 0
        self.held_back = False
        self.last_commit = self.clock.monotonic()

    def discard(self) -> None:
        """A commit while the assignment is lost: nothing is committed."""
        self.uncommitted = 0
        self.last_commit = self.clock.monotonic()

    def regained(self) -> None:
        """The group has assigned partitions again: commits resume."""
        if self.lost:
            log.info("the group assigned partitions again: commits resume")
        self.lost = False

    def advance(self, offsets: list[TopicPartition]) -> None:
        """Commit ``offsets`` now: the tables hold every effect of the messages before
        them already (a restored partition resumes past what its tables applied)."""
        consumer = self.consumer
        if consumer is None or self.lost:
            return
        try:
            consumer.commit(offsets)
        except AssignmentLost as exc:
            self.lose(str(exc))
            return
        for tp in offsets:
            self.committed[(tp.topic, tp.partition)] = tp.offset
        log.debug("committed %s", describe(offsets))

    def forget(self, partitions: list[TopicPartition]) -> None:
        """``partitions`` were revoked: another worker may commit them from now on."""
        for tp in partitions:
            self.committed.pop((tp.topic, tp.partition), None)

    def below_holds(self, offsets: list[TopicPartition]) -> list[TopicPartition]:
        """``offsets``, each lowered to the lowest offset a stream still holds, if any."""
        held = self.held()
        if not held:
            return offsets
        return [
            TopicPartition(
                tp.topic,
                tp.partition,
                min(tp.offset, held.get((tp.topic, tp.partition), tp.offset)),
            )
            for tp in offsets
        ]


class AtLeastOnce(CommitProtocol):
    """Flush, write the tables, commit the positions (module docstring)."""

    tracks_positions = True

    def publish(self, consumer: Consumer, offsets: list[TopicPartition], pending: Pending) -> None:
        producer, tables = self.producer, self.tables
        producer.flush(FLUSH_TIMEOUT)
        if tables is not None:
            tables.persist(pending, producer.take_delivered_offsets())
        if offsets:
            consumer.commit(offsets)

    def abandon(self, failed_batch: list[TransportMessage], *, stored: bool = True) -> None:
        """Commit what completed batches made durable, nothing of the failed one.

        Best effort: when the failure was the producer's, nothing can be committed. When
        a table store could not be written (``stored`` False) nothing is: the failed
        commit's changes may be stored in some stores and not in others, and the offsets
        committed last are the last whose effects every store holds.
        """
        consumer, producer, tables = self.consumer, self.producer, self.tables
        if consumer is None:
            return
        if not stored:
            log.error("the worker's state could not be stored: nothing more is committed")
            return
        try:
            pending = tables.produce_changes(producer) if tables is not None else []
            producer.flush(FLUSH_TIMEOUT)
            if tables is not None:
                tables.persist(pending, producer.take_delivered_offsets())
            first_failed: dict[TP, int] = {}
            for message in failed_batch:
                key = (message.topic() or "", message.partition() or 0)
                first_failed.setdefault(key, message.offset() or 0)
            offsets = []
            for tp in consumer.position(consumer.assignment()):
                offset = first_failed.get((tp.topic, tp.partition), tp.offset)
                if offset >= 0 and tp.topic not in self.ignored:
                    offsets.append(TopicPartition(tp.topic, tp.partition, offset))
            offsets = self.below_holds(offsets)
            if offsets:
                consumer.commit(offsets)
                log.info("committed up to the failed batch: %s", describe(offsets))
        except Exception as exc:
            log.error("could not commit after the failure (%s); nothing committed", exc)


class ExactlyOnce(CommitProtocol):
    """One transaction per commit: outputs, changelog records and offsets together
    (module docstring)."""

    idle_commits = True

    def begin(self) -> None:
        # fences any older producer with our id and aborts what it left open
        self.producer.init_transactions(TRANSACTION_TIMEOUT)
        self.producer.begin_transaction()

    def publish(self, consumer: Consumer, offsets: list[TopicPartition], pending: Pending) -> None:
        producer, tables = self.producer, self.tables
        producer.commit_transaction(offsets, consumer.group_metadata(), FLUSH_TIMEOUT)
        try:
            if tables is not None:
                tables.persist(pending, producer.take_delivered_offsets())
        finally:
            # (after a store failed too: abandon() then aborts an open, empty transaction)
            producer.begin_transaction()

    def lose(self, reason: str) -> None:
        """Abort the open transaction (outputs, changelog records and offsets of the
        refused commit, or of anything since), then begin the next one."""
        super().lose(reason)
        self.discard()

    def discard(self) -> None:
        super().discard()
        self.producer.abort_transaction(TRANSACTION_TIMEOUT)
        self.producer.begin_transaction()

    def abandon(self, failed_batch: list[TransportMessage], *, stored: bool = True) -> None:
        """Abort the open transaction: a restart resumes from the last committed one
        (committed transactions hold the changelog records a store failed to write:
        the restart restores them)."""
        if self.consumer is None:
            return
        try:
            self.producer.abort_transaction(TRANSACTION_TIMEOUT)
            log.info("aborted the open transaction; a restart resumes from the last commit")
        except Exception as exc:
            log.error("could not abort the open transaction (%s)", exc)


def commit_protocol(
    settings: Settings, producer: Producer, *, clock: Clock, sensor: Sensor | None = None
) -> CommitProtocol:
    """The protocol of the app's ``processing_guarantee``."""
    protocol = ExactlyOnce if settings.exactly_once else AtLeastOnce
    return protocol(
        producer,
        commit_every=settings.broker_commit_every,
        commit_interval=settings.broker_commit_interval,
        clock=clock,
        sensor=sensor,
    )


def describe(partitions: list[TopicPartition]) -> str:
    """``orders[0]@17 orders[1]@4``: partitions and offsets for the log."""
    parts = []
    for tp in sorted(partitions, key=lambda tp: (tp.topic, tp.partition)):
        offset = f"@{tp.offset}" if tp.offset >= 0 else ""
        parts.append(f"{tp.topic}[{tp.partition}]{offset}")
    return " ".join(parts)
