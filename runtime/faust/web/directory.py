"""Where the other workers of an app are: their web URLs and the partitions they hold.

Faust's workers learn this from its own partition assignor, which carries each worker's
URL in the group protocol's metadata; librdkafka's assignors cannot carry anything of
ours. So each worker publishes what the group gave it to a small compacted topic of the
app, ``<app id>-__router`` (:func:`faust.contract.router_topic_name`, one partition),
and reads everyone's records from it:

- key: the worker's web URL (``app.web.url``); value: JSON ``{"url", "assigned":
  {topic: [partitions]}, "generation"}``, ``generation`` counting this worker's
  publications; a worker that stops publishes a tombstone (a null value);
- the owner of a partition is the worker whose *latest* record claims it, latest by
  offset in the topic (one partition: one order for all). A worker that died without a
  tombstone keeps its last record, but the workers that took its partitions published
  later claims, which win;
- a worker never asks the directory about itself: its own assignment is its consumer's.

The worker's rebalance events reach the directory as a worker sensor
(:meth:`on_assigned`/:meth:`on_revoked`), which only records the new assignment; one
thread of the directory's own does the Kafka I/O (creates the topic, publishes the latest
assignment, reads the others'), so the poll loop pays nothing. Example::

    directory = WorkerDirectory(app)
    worker = Worker(app, sensors=[metrics, directory])
    directory.start(worker.transport)     # its thread starts at the first assignment
    ...
    directory.owner(topic_partitions={("shop-counts-changelog", 2)})  # 'http://host-b:6066/'
    directory.stop()                      # publishes the tombstone
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from faust.contract import router_topic_name
from faust.exceptions import FaustError, NotAuthorized
from faust.transport.base import TopicSpec
from faust.worker.sensors import Sensor

if TYPE_CHECKING:
    from faust.app import App
    from faust.transport.base import Transport

log = logging.getLogger("faust.web")

#: seconds the directory's reader waits for records in one poll (how late a stop is seen)
POLL_SECONDS = 0.2
#: seconds between two attempts to create the topic while the broker is unreachable
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class Member:
    """One worker's latest record: its URL, what it holds, and where the record sits."""

    url: str
    assigned: dict[str, list[int]]
    generation: int
    offset: int

    @property
    def partition_numbers(self) -> set[int]:
        """The partition numbers it holds in any topic: the table partitions it holds
        (a table partition is numbered like the source partitions that write it)."""
        return {p for partitions in self.assigned.values() for p in partitions}


class WorkerDirectory(Sensor):
    """This worker's assignment, published; every worker's, read (module docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.topic = router_topic_name(app.conf.id)
        #: what the group gave this worker, by topic (the consumer's view, kept current)
        self.assigned: dict[str, set[int]] = {}
        #: every other worker's latest record, by URL (tombstoned workers removed)
        self.members: dict[str, Member] = {}
        self._generation = 0
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._transport: Transport | None = None
        self._lock = threading.Lock()

    # -- the worker's side (sensor events, on the worker's thread) --------------------------

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self.assigned.setdefault(tp.topic, set()).add(tp.partition)
        self._changed.set()
        if self._thread is None and self._transport is not None:
            # the group answered: the broker is reachable, the directory can start
            self._thread = threading.Thread(
                target=self._run, args=(self._transport,), name="faust-router", daemon=True
            )
            self._thread.start()

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self.assigned.get(tp.topic, set()).discard(tp.partition)
        self._changed.set()

    def holds(self, partition: int) -> bool:
        """Whether this worker holds partition number ``partition`` (of any source topic:
        the table partition of that number is here)."""
        with self._lock:
            return any(partition in partitions for partitions in self.assigned.values())

    def owner(self, partition: int) -> str | None:
        """The URL of the other worker holding partition number ``partition``: the one
        whose latest record claims it (None: no other worker claims it)."""
        me = self.app.web.url
        with self._lock:
            claims = [
                m for m in self.members.values() if m.url != me and partition in m.partition_numbers
            ]
        if not claims:
            return None
        return max(claims, key=lambda member: member.offset).url

    def snapshot(self) -> dict[str, dict[str, list[int]]]:
        """Every worker's assignment by URL, this one's from its own consumer."""
        me = self.app.web.url
        with self._lock:
            found = {url: m.assigned for url, m in self.members.items() if url != me}
            found[me] = {t: sorted(ps) for t, ps in self.assigned.items() if ps}
        # a partition claimed twice (a stale record) goes to the later claim
        claimed: dict[int, str] = {}
        for url in sorted(found, key=lambda u: self._offset_of(u, me)):
            for partitions in found[url].values():
                for partition in partitions:
                    claimed[partition] = url
        return {
            url: {
                topic: [p for p in partitions if claimed.get(p) == url]
                for topic, partitions in assigned.items()
            }
            for url, assigned in found.items()
        }

    def _offset_of(self, url: str, me: str) -> float:
        if url == me:
            return float("inf")  # this worker's own assignment is current
        member = self.members.get(url)
        return member.offset if member is not None else -1

    # -- the directory's thread --------------------------------------------------------------

    def start(self, transport: Transport) -> None:
        """Publish and read through ``transport`` once the group first assigns this
        worker partitions (then the broker is known to be reachable); Kafka transports
        only: an in-memory broker has one worker, which holds everything."""
        from faust.transport.kafka import KafkaTransport

        if isinstance(transport, KafkaTransport):
            self._transport = transport

    def stop(self, timeout: float = 5.0) -> None:
        """Publish the tombstone of this worker and stop the thread."""
        self._transport = None
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._changed.set()
        thread.join(timeout)

    def _run(self, transport: Any) -> None:
        try:
            self._serve(transport)
        except Exception as exc:  # the worker goes on; its table routes answer locally only
            log.warning("the directory of workers stopped (table routes answer here only): %r", exc)

    def _serve(self, transport: Any) -> None:
        spec = TopicSpec(self.topic, 1, self.app.conf.topic_replication_factor, _COMPACTED)
        while not self._stopping.is_set():
            try:
                transport.ensure_topics([spec], RETRY_SECONDS * 5)
                break
            except NotAuthorized as exc:
                log.warning(
                    "table routes answer on this worker only: %s (create %s, compacted, one "
                    "partition, and grant the app READ and WRITE on it)",
                    exc,
                    self.topic,
                )
                return
            except FaustError as exc:  # the worker reports an unreachable broker itself
                log.debug("cannot create the routing topic %s yet: %s", self.topic, exc)
                self._stopping.wait(RETRY_SECONDS)
        else:
            return
        producer = transport.producer()
        reader = transport.router_reader()
        reader.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        try:
            while not self._stopping.is_set():
                if self._changed.is_set():
                    self._changed.clear()
                    self._publish(producer)
                producer.poll()
                for message in reader.consume(500, POLL_SECONDS):
                    if message.error() is None:
                        self._read(message)
        except FaustError as exc:  # refused credentials: the worker reports them itself
            log.debug("the routing topic's clients stopped: %s", exc)
        finally:
            try:
                self._publish(producer, tombstone=True)
                producer.flush(5.0)
            except FaustError as exc:
                log.warning("could not publish this worker's leaving to %s: %s", self.topic, exc)
            reader.close()

    def _publish(self, producer: Any, *, tombstone: bool = False) -> None:
        url = self.app.web.url
        if tombstone:
            producer.send(self.topic, url.encode(), None)
            return
        with self._lock:
            self._generation += 1
            record = {
                "url": url,
                "assigned": {t: sorted(ps) for t, ps in sorted(self.assigned.items()) if ps},
                "generation": self._generation,
                "published": time.time(),
            }
        producer.send(self.topic, url.encode(), json.dumps(record).encode())

    def _read(self, message: Any) -> None:
        key, value = message.key(), message.value()
        if key is None:
            return
        url = key.decode(errors="replace")
        with self._lock:
            if value is None:
                self.members.pop(url, None)
                return
            try:
                record = json.loads(value)
                assigned = {str(t): [int(p) for p in ps] for t, ps in record["assigned"].items()}
                member = Member(url, assigned, int(record.get("generation", 0)), message.offset())
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("ignored a malformed record in %s at %d", self.topic, message.offset())
                return
            self.members[url] = member


#: the routing topic keeps each worker's latest record only
_COMPACTED = (("cleanup.policy", "compact"),)
