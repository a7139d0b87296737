"""Fencing dead predecessors under exactly-once, whatever the successor's disk holds.

A worker's transactional id is ``<app id>-<worker id>``, and the worker id lives in its
data directory: a worker restarted on its own directory fences its predecessor (its
``init_transactions`` aborts what the predecessor left open). A replacement on a fresh
directory has a new id, and the transaction its predecessor died in stays open, holding
the last stable offset of every partition it wrote (changelogs, outputs), until the broker
aborts it after ``transaction.timeout.ms`` (Apache Kafka: 30 s, as the worker sets it) or
never (Tansu has no transaction timeout). So every exactly-once worker says which id it
uses, every third of ``broker_session_timeout``, in a compacted one-partition topic
(``faust.contract.transactional_registry_topic_name``), and follows that topic: an id
that has said nothing for a whole session timeout belongs to a worker the group has
dropped by then too, and is fenced (``init_transactions`` with that id, which aborts its
open transaction) and tombstoned. A live worker says its id three times per session
timeout; one silent that long is a zombie, and fencing it is right. Example::

    registry = TransactionalRegistry(transport, "counting", "counting-5f0c...",
                                     silence=45.0, clock=SYSTEM_CLOCK)
    registry.start()       # create the topic, read it, say our id
    registry.tick()        # in the poll loop: say it again when due, fence the silent
    registry.close()
"""

from __future__ import annotations

import logging

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from faust.contract import transactional_registry_topic_name
from faust.transport.base import ChangelogReader, Producer, TopicSpec, Transport
from faust.worker.clock import Clock

log = logging.getLogger("faust.worker")

#: seconds allowed for creating the topic and for fencing one id
ADMIN_TIMEOUT = 15.0


class TransactionalRegistry:
    """See the module docstring."""

    def __init__(
        self,
        transport: Transport,
        app_id: str,
        own_id: str,
        *,
        silence: float,
        clock: Clock,
        replicas: int = 1,
    ) -> None:
        self.transport = transport
        self.topic = transactional_registry_topic_name(app_id)
        self.own_id = own_id
        #: seconds without a word after which an id is a dead worker's
        self.silence = silence
        self.clock = clock
        self.replicas = replicas
        #: id -> (offset of its last word, when this worker read it)
        self.heard: dict[str, tuple[int, float]] = {}
        #: ids this worker fenced
        self.fenced: list[str] = []
        self._reader: ChangelogReader | None = None
        self._producer: Producer | None = None
        self._last_said = 0.0

    def start(self) -> None:
        self.transport.ensure_topics(
            [TopicSpec(self.topic, 1, self.replicas, (("cleanup.policy", "compact"),))],
            ADMIN_TIMEOUT,
        )
        self._reader = self.transport.changelog_reader()
        self._reader.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        self._producer = self.transport.producer()
        self._say()

    def _say(self) -> None:
        assert self._producer is not None
        self._producer.send(self.topic, self.own_id.encode(), b"alive", 0)
        self._producer.poll()
        self._last_said = self.clock.monotonic()

    def tick(self) -> None:
        """Say our id when due; read what the others said; fence the silent."""
        reader = self._reader
        if reader is None:
            return
        now = self.clock.monotonic()
        if now - self._last_said >= self.silence / 3:
            self._say()
        batch = reader.read(1000, 0)
        for record in batch.records:
            key = (record.key() or b"").decode(errors="replace")
            if key == self.own_id:
                continue
            if record.value() is None:
                self.heard.pop(key, None)  # fenced already
            else:
                self.heard[key] = (record.offset() or 0, now)
        for worker_id, (_, heard_at) in list(self.heard.items()):
            if now - heard_at >= self.silence:
                self.fence(worker_id)

    def fence(self, transactional_id: str) -> None:
        """Abort what ``transactional_id``'s producer left open, and fence it."""
        del self.heard[transactional_id]
        log.warning(
            "transactional id %s has not been heard of for %.0fs (its worker died or was "
            "dropped by the group): fencing it, which aborts the transaction it left open",
            transactional_id,
            self.silence,
        )
        producer = self.transport.producer(transactional_id=transactional_id)
        try:
            producer.init_transactions(ADMIN_TIMEOUT)
        finally:
            producer.close()
        assert self._producer is not None
        self._producer.send(self.topic, transactional_id.encode(), None, 0)
        self._producer.poll()
        self.fenced.append(transactional_id)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
