"""Rebalancing: what a worker does when the group gives it partitions or takes them away.

The consumer calls :meth:`Rebalance.on_assigned` and :meth:`Rebalance.on_revoked` from
inside its poll, as Kafka's group protocol moves partitions between the workers of an app:

- an assigned source partition whose tables must be restored first is paused; the worker
  loop calls :meth:`Rebalance.recover_step` while anything restores, and a partition is
  resumed once every table partition it writes has been restored from its changelog to
  the true end (other partitions keep flowing meanwhile);
- a revoked partition is committed first (everything processed made durable, then its
  offset committed: ``faust.worker.commit``), then forgotten by the commit protocol
  (another worker commits it from now on) and its table stores are closed.

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

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        log.info("assigned %s", describe(partitions) or "no partitions")
        if self.sensor is not None:
            self.sensor.on_assigned(partitions)
        if self.tables is None:
            return
        pause = self.tables.on_assigned(partitions)
        if pause:
            self.consumer.pause(pause)
            self.paused.update((tp.topic, tp.partition) for tp in pause)
            log.info(
                "restoring tables for partition(s) %s before processing them",
                sorted({tp.partition for tp in pause}),
            )

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", describe(partitions) or "no partitions")
        if not partitions:
            return
        if not self.failed:
            self.commits.commit()
        self.commits.forget(partitions)
        if self.sensor is not None:
            self.sensor.on_revoked(partitions)
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self.paused -= revoked
        if self.closing:
            return  # shutting down: the stores close with the worker (memory ones stay readable)
        if self.tables is not None:
            still = {
                tp.partition
                for tp in self.consumer.assignment()
                if (tp.topic, tp.partition) not in revoked
            }
            self.tables.on_revoked(still)

    async def recover_step(self) -> None:
        """Restore a little more; resume the source partitions whose tables are complete."""
        if self.tables is None:
            return
        ready = await self.tables.recover_step()
        if ready:
            resume = [key for key in self.paused if key[1] in ready]
            self.consumer.resume([TopicPartition(topic, p) for topic, p in resume])
            self.paused.difference_update(resume)
            log.info("partition(s) %s restored: processing resumes", sorted(ready))
