"""The worker loop: consume a batch, run it through the agents, commit when it is durable.

One worker process holds one consumer (group = the app id, as in Faust), one producer and
one runner per agent. Scale-out is Kafka's: start more workers with the same app id.

Commit order (at-least-once):

1. every message of a batch has been processed by every agent on its topic;
2. the producer is flushed: every record those messages caused is acknowledged;
3. the consumer's positions are committed, synchronously.

Commits happen every ``broker_commit_interval`` seconds or ``broker_commit_every``
messages, before partitions are revoked, and at shutdown. When processing or delivery fails,
the worker stops without step 3 for the failed batch, so offsets never pass a message whose
effects are not durable. Example::

    worker = Worker(app, compiled_agents={"wordcount.count": count})
    await worker.run()           # until request_stop() (SIGINT/SIGTERM in the CLI)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from confluent_kafka import TopicPartition

from faust.agents import AgentFun, Task, Timer
from faust.events import TransportMessage
from faust.transport import open_transport
from faust.transport.base import Consumer, Producer, TopicSpec, Transport
from faust.worker.errors import AgentFailure, ErrorPolicy, dead_letter_topic_for
from faust.worker.runner import AgentRunner

if TYPE_CHECKING:
    from faust.app import App

log = logging.getLogger("faust.worker")

#: seconds the consumer blocks when nothing is buffered (bounds timer lateness)
IDLE_POLL_SECONDS = 0.1
#: seconds allowed for connecting, creating topics, flushing at shutdown
ADMIN_TIMEOUT = 15.0
FLUSH_TIMEOUT = 60.0


class Worker:
    """Runs an App's agents against its broker (see the module docstring)."""

    def __init__(
        self,
        app: App,
        *,
        compiled_agents: Mapping[str, AgentFun] | None = None,
        transport: Transport | None = None,
        stop_when_idle: bool = False,
    ) -> None:
        self.app = app
        self.conf = app.conf
        self.compiled_agents = dict(compiled_agents or {})
        unknown = sorted(set(self.compiled_agents) - set(app.agents))
        if unknown:
            raise AgentFailure(
                f"the built worker has agents the app does not define: {', '.join(unknown)} "
                "(rebuild it with `faustc build`)"
            )
        self.transport = transport or open_transport(self.conf.broker)
        #: for tests on the memory transport: stop at the first empty poll
        self.stop_when_idle = stop_when_idle
        self.processed = 0
        self._stopping = False
        self._failed = False
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._runners: dict[str, list[AgentRunner]] = {}
        self._background: list[asyncio.Task[None]] = []
        self._uncommitted = 0
        self._last_commit = time.monotonic()

    # -- lifecycle -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the batch in hand, commit, and return from :meth:`run`."""
        if not self._stopping:
            log.info("stopping: finishing the current batch")
        self._stopping = True

    async def run(self) -> None:
        """Start, loop until stopped, stop. Raises AgentFailure when the policy says fail."""
        await self._start()
        batch: list[TransportMessage] = []
        try:
            while not self._stopping:
                batch = self._consume()
                if batch:
                    await self._process(batch)
                    batch = []
                elif self.stop_when_idle:
                    break
                self._maybe_commit()
                await asyncio.sleep(0)  # let timers and tasks run
        except BaseException:
            self._failed = True
            self._commit_before(batch)
            await self._close(graceful=False)
            raise
        await self._stop()

    async def _start(self) -> None:
        app, conf = self.app, self.conf
        self.transport.check_connection(conf.broker_connect_timeout)
        partitions = self.transport.ensure_topics(self._topic_specs(), ADMIN_TIMEOUT)
        self._producer = self.transport.producer(dict(conf.producer_config))
        app.producer = self._producer
        for agent in app.agents.values():
            fun = self.compiled_agents.get(agent.name, agent.fun)
            runner = AgentRunner(
                agent, fun, ErrorPolicy(agent.error_policy or conf.error_policy, app)
            )
            self._runners.setdefault(runner.topic, []).append(runner)
            runner.start()
        self._consumer = self.transport.consumer(app.id, self._consumer_config())
        sources = sorted(self._runners)
        if sources:
            self._consumer.subscribe(sources, self._on_assign, self._on_revoke)
        for timer in app.timers:
            self._background.append(asyncio.create_task(self._run_timer(timer)))
        for task in app.tasks:
            self._background.append(asyncio.create_task(self._run_task(task)))
        compiled = sum(name in self.compiled_agents for name in app.agents)
        log.info(
            "worker for app %r on %s: %d agent(s) (%d compiled), sources %s, group %r",
            app.id,
            self.transport.description,
            len(app.agents),
            compiled,
            ", ".join(f"{topic} ({partitions[topic]} partitions)" for topic in sources) or "none",
            app.id,
        )

    async def _stop(self) -> None:
        for runners in self._runners.values():
            for runner in runners:
                await runner.stop(timeout=30.0)
        self._commit()
        await self._close(graceful=True)
        log.info("stopped after processing %d message(s)", self.processed)

    async def _close(self, *, graceful: bool) -> None:
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(BaseException):  # cancelled, or failed and logged
                await task
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
        if self._producer is not None:
            if graceful:
                self._producer.close()
            self._producer = None
        self.app.producer = None

    # -- the loop --------------------------------------------------------------------------

    def _consume(self) -> list[TransportMessage]:
        assert self._consumer is not None
        return self._consumer.consume(self.conf.stream_buffer_maxsize, IDLE_POLL_SECONDS)

    async def _process(self, batch: list[TransportMessage]) -> None:
        runners = self._runners
        if len(runners) == 1:
            for runner in next(iter(runners.values())):
                await runner.process(batch)
        else:
            by_topic: dict[str, list[TransportMessage]] = {}
            for message in batch:
                by_topic.setdefault(message.topic() or "", []).append(message)
            for topic, messages in by_topic.items():
                for runner in runners.get(topic, ()):
                    await runner.process(messages)
        assert self._producer is not None
        self._producer.poll()
        self.processed += len(batch)
        self._uncommitted += len(batch)

    def _maybe_commit(self) -> None:
        if self._uncommitted and (
            self._uncommitted >= self.conf.broker_commit_every
            or time.monotonic() - self._last_commit >= self.conf.broker_commit_interval
        ):
            self._commit()

    def _commit(self, partitions: list[TopicPartition] | None = None) -> None:
        """Flush the producer, then commit the positions of ``partitions`` (default: all)."""
        consumer, producer = self._consumer, self._producer
        if consumer is None or producer is None:
            return
        producer.flush(FLUSH_TIMEOUT)
        positions = consumer.position(
            partitions if partitions is not None else consumer.assignment()
        )
        offsets = [tp for tp in positions if tp.offset >= 0]
        if offsets:
            consumer.commit(offsets)
            log.debug("committed %s", _describe(offsets))
        self._uncommitted = 0
        self._last_commit = time.monotonic()

    def _commit_before(self, failed_batch: list[TransportMessage]) -> None:
        """After a failure: commit what completed batches made durable, nothing of the failed one.

        Best effort: when the failure was the producer's, nothing can be committed.
        """
        consumer, producer = self._consumer, self._producer
        if consumer is None or producer is None:
            return
        try:
            producer.flush(FLUSH_TIMEOUT)
            first_failed: dict[tuple[str, int], int] = {}
            for message in failed_batch:
                key = (message.topic() or "", message.partition() or 0)
                first_failed.setdefault(key, message.offset() or 0)
            offsets = []
            for tp in consumer.position(consumer.assignment()):
                offset = first_failed.get((tp.topic, tp.partition), tp.offset)
                if offset >= 0:
                    offsets.append(TopicPartition(tp.topic, tp.partition, offset))
            if offsets:
                consumer.commit(offsets)
                log.info("committed up to the failed batch: %s", _describe(offsets))
        except Exception as exc:
            log.error("could not commit after the failure (%s); nothing committed", exc)

    # -- rebalancing -----------------------------------------------------------------------

    def _on_assign(self, partitions: list[TopicPartition]) -> None:
        log.info("assigned %s", _describe(partitions) or "no partitions")

    def _on_revoke(self, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", _describe(partitions) or "no partitions")
        if not self._failed and partitions:
            self._commit(partitions)

    # -- timers and tasks ------------------------------------------------------------------

    async def _run_timer(self, timer: Timer) -> None:
        while True:
            await asyncio.sleep(timer.interval)
            try:
                await timer.fun()
            except Exception:
                log.exception("timer %s raised", timer.name)

    async def _run_task(self, task: Task) -> None:
        try:
            await task.fun()
        except Exception:
            log.exception("task %s raised", task.name)

    # -- configuration ---------------------------------------------------------------------

    def _topic_specs(self) -> list[TopicSpec]:
        conf = self.conf
        specs: dict[str, TopicSpec] = {}
        for topic in self.app.topics:
            for name in topic.topics:
                specs[name] = TopicSpec(
                    name,
                    topic.partitions or conf.topic_partitions,
                    topic.replicas or conf.topic_replication_factor,
                    tuple(sorted(topic.config.items())),
                )
        for agent in self.app.agents.values():
            if (agent.error_policy or conf.error_policy) == "dead-letter":
                source = agent.channel.get_topic_name()
                name = dead_letter_topic_for(source)
                specs.setdefault(
                    name,
                    TopicSpec(name, specs[source].partitions, conf.topic_replication_factor),
                )
        if not conf.topic_allow_declare:
            return []
        return list(specs.values())

    def _consumer_config(self) -> dict[str, object]:
        conf = self.conf
        config: dict[str, Any] = {
            "auto.offset.reset": conf.consumer_auto_offset_reset,
            "session.timeout.ms": int(conf.broker_session_timeout * 1000),
            "heartbeat.interval.ms": int(conf.broker_heartbeat_interval * 1000),
        }
        config.update(conf.consumer_config)
        return config


def _describe(partitions: list[TopicPartition]) -> str:
    parts = []
    for tp in sorted(partitions, key=lambda tp: (tp.topic, tp.partition)):
        offset = f"@{tp.offset}" if tp.offset >= 0 else ""
        parts.append(f"{tp.topic}[{tp.partition}]{offset}")
    return " ".join(parts)
