"""Rebalancing: what a worker does when the group gives it partitions or takes them away.

The consumer calls :meth:`Rebalance.on_assigned` and :meth:`Rebalance.on_revoked` from
inside its poll, as Kafka's group protocol moves partitions between the workers of an app:

- an assigned source partition whose tables must be restored first is paused; the worker
  loop calls :meth:`Rebalance.recover_step` while anything restores, and a partition is
  resumed once every table partition it writes has been restored from its changelog to
  the true end (other partitions keep flowing meanwhile);
- a revoked partition is committed first (everything processed made durable, then its
  offset committed: ``faust.worker.commit``), then forgotten by the commit protocol
  (another worker commits it from now on) and its table stores are closed;
- a lost partition (the group dropped this worker: its session expired, or a commit was
  refused) is not committed (it may be another worker's already): it is forgotten and its
  stores close, dropping what they held uncommitted;
- under at-least-once, a restored partition resumes where its tables are when they hold
  the effects of messages past its committed offset (a commit whose changes were durable
  but whose offsets the group refused): ``TableManager.resume_positions``.

After a failure the worker has already committed what it could (``abandon``): a revocation
then commits nothing more. While the worker closes, the stores close with it (memory
stores stay readable). Example::

    rebalance = Rebalance(consumer, tables=tables, commits=commits, sensor=None)
    consumer.subscribe(topics, rebalance.on_assigned, rebalance.on_revoked)
    ...
    if tables.restoring:
        await rebalance.recover_step()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from confluent_kafka import TopicPartition

from faust.transport.base import Consumer
from faust.worker.commit import CommitProtocol, describe
from faust.worker.sensors import Sensor

if TYPE_CHECKING:
    from faust.tables.manager import TableManager

log = logging.getLogger("faust.worker")


class Rebalance:
    """The worker's side of partition moves (see the module docstring)."""

    def __init__(
        self,
        consumer: Consumer,
        *,
        tables: TableManager | None,
        commits: CommitProtocol,
        sensor: Sensor | None,
    ) -> None:
        self.consumer = consumer
        self.tables = tables
        self.commits = commits
        self.sensor = sensor
        #: source partitions paused while their tables restore
        self.paused: set[tuple[str, int]] = set()
        #: the worker failed: it committed what it could, revocations commit nothing
        self.failed = False
        #: the worker is closing: table stores close with it
        self.closing = False
        #: the group has given this worker an assignment (possibly empty) at least once
        self.assigned_once = False

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        log.info("assigned %s", describe(partitions) or "no partitions")
        self.assigned_once = True
        self.commits.regained()
        sensor = self.sensor
        if sensor is not None:
            sensor.on_assigned(partitions)
        pause = self.tables.on_assigned(partitions) if self.tables is not None else []
        if sensor is not None:
            paused = {(tp.topic, tp.partition) for tp in pause}
            sensor.on_recovered([tp for tp in partitions if (tp.topic, tp.partition) not in paused])
        if pause:
            self.consumer.pause(pause)
            self.paused.update((tp.topic, tp.partition) for tp in pause)
            log.info(
                "restoring tables for partition(s) %s before processing them",
                sorted({tp.partition for tp in pause}),
            )

    def on_lost(self, partitions: list[TopicPartition]) -> None:
        """The group took ``partitions`` away without a revocation: commit nothing."""
        log.warning(
            "lost %s (the group dropped this worker: its session expired); rejoining",
            describe(partitions) or "no partitions",
        )
        if partitions and not self.failed:
            self.commits.lose("its session expired")
        self.on_revoked(partitions)

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", describe(partitions) or "no partitions")
        if not partitions:
            return
        if not self.failed:
            self.commits.commit()  # (nothing, when the assignment was lost)
        self.commits.forget(partitions)
        if self.sensor is not None:
            self.sensor.on_revoked(partitions)
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self.paused -= revoked
        if self.closing:
            return  # shutting down: the stores close with the worker (memory ones stay readable)
        if self.tables is not None:
            ignored = self.commits.ignored  # (the leader topic: it holds no table)
            still = {
                tp.partition
                for tp in self.consumer.assignment()
                if (tp.topic, tp.partition) not in revoked and tp.topic not in ignored
            }
            self.tables.on_revoked(still)

    async def recover_step(self) -> None:
        """Restore a little more; resume the source partitions whose tables are complete."""
        if self.tables is None:
            return
        ready = await self.tables.recover_step()
        if ready:
            resume = [key for key in self.paused if key[1] in ready]
            resumed = [TopicPartition(topic, p) for topic, p in resume]
            if self.commits.tracks_positions:
                self.skip_applied(resumed)
            self.consumer.resume(resumed)
            self.paused.difference_update(resume)
            if self.sensor is not None:
                self.sensor.on_recovered(resumed)
            log.info("partition(s) %s restored: processing resumes", sorted(ready))

    def skip_applied(self, partitions: list[TopicPartition]) -> None:
        """Seek each of ``partitions`` (restored, still paused) past what its tables
        already hold, when that is beyond its committed offset."""
        assert self.tables is not None
        targets = {}
        for tp in partitions:
            offset = self.tables.resume_positions(tp.partition).get(tp.topic)
            if offset is not None:
                targets[(tp.topic, tp.partition)] = offset
        if not targets:
            return
        committed = self.consumer.committed(
            [TopicPartition(topic, partition) for topic, partition in targets]
        )
        skipped = []
        for tp in committed:
            offset = targets[(tp.topic, tp.partition)]
            if offset > tp.offset:
                log.info(
                    "%s[%d]: its tables hold the effects of messages up to offset %d, past "
                    "the committed offset %s (a commit whose offsets were refused or never sent): "
                    "resuming there",
                    tp.topic,
                    tp.partition,
                    offset,
                    tp.offset if tp.offset >= 0 else "(none)",
                )
                skipped.append(TopicPartition(tp.topic, tp.partition, offset))
        for tp in skipped:
            self.consumer.seek(tp)
        if skipped:
            self.commits.advance(skipped)
