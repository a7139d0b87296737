"""The worker loop: consume a batch, run it through the agents, commit when it is durable.

One worker process holds one consumer (group = the app id, as in Faust), one producer and
one runner per agent. Scale-out is Kafka's: start more workers with the same app id.

Commit order (at-least-once):

1. every message of a batch has been processed by every agent on its topic;
2. the producer is flushed: every record those messages caused is acknowledged;
3. the consumer's positions are committed, synchronously.

Commits happen every ``broker_commit_interval`` seconds or ``broker_commit_every``
messages, before partitions are revoked, and at shutdown. A partition's commit never passes
a message a stream still holds (a ``take`` buffer, an un-acked ``noack`` event): the
committed offset is the lower of the consumer's position and the lowest held offset.

Start-up order: create the declared topics, start every agent and task, wait until each
agent has asked for its first batch (by then its stream chain is built, so the topics its
``group_by``/``through`` stages consume are declared), create those topics, subscribe.
A stream that appears later (``app.stream(topic)`` in a task) joins the subscription then.

When processing or delivery fails, the worker stops without step 3 for the failed batch, so
offsets never pass a message whose effects are not durable. Example::

    worker = Worker(app, compiled_agents={"wordcount.count": count})
    await worker.run()           # until request_stop() (SIGINT/SIGTERM in the CLI)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from confluent_kafka import TopicPartition

from faust.agents import Crontab, Task, Timer
from faust.events import TransportMessage
from faust.replies import Replies
from faust.transport import open_transport
from faust.transport.base import Consumer, Producer, TopicSpec, Transport
from faust.worker.errors import AgentFailure, ErrorPolicy, dead_letter_topic_for
from faust.worker.runner import AgentRunner, ConcurrentAgent, TaskFeed

if TYPE_CHECKING:
    from faust.app import App
    from faust.streams import BatchSource, Stream

log = logging.getLogger("faust.worker")

#: seconds the consumer blocks when nothing is buffered (bounds timer lateness)
IDLE_POLL_SECONDS = 0.1
#: seconds allowed for connecting, creating topics, flushing at shutdown
ADMIN_TIMEOUT = 15.0
FLUSH_TIMEOUT = 60.0
#: seconds the worker waits for every agent to reach its stream loop before subscribing
READY_TIMEOUT = 15.0


class StreamConsumer(Protocol):
    """What the worker feeds: an agent's runner(s), or an ``app.stream()`` loop's feed."""

    name: str
    topics: list[str]

    async def process(self, batch: list[TransportMessage]) -> None: ...

    def held_offsets(self) -> dict[tuple[str, int], int]: ...

    async def stop(self, timeout: float) -> None: ...


class Worker:
    """Runs an App's agents against its broker (see the module docstring)."""

    def __init__(
        self,
        app: App,
        *,
        compiled_agents: Mapping[str, Any] | None = None,
        transport: Transport | None = None,
        stop_when_idle: bool = False,
    ) -> None:
        self.app = app
        self.conf = app.conf
        #: compiled replacements of agents (and of tasks that loop over app.stream), by name
        self.compiled_agents = dict(compiled_agents or {})
        task_names = {task.name for task in app.tasks}
        unknown = sorted(set(self.compiled_agents) - set(app.agents) - task_names)
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
        #: every stream consumer, and by topic the ones that take its messages
        self._consumers_all: list[StreamConsumer] = []
        self._runners: dict[str, list[StreamConsumer]] = {}
        self._subscribed: list[str] = []
        self._resubscribe = False
        self._background: list[asyncio.Task[None]] = []
        self._uncommitted = 0
        self._held_back = False
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
                if self._resubscribe:
                    self._subscribe()
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
        self.transport.ensure_topics(self._topic_specs(), ADMIN_TIMEOUT)
        self._producer = self.transport.producer(dict(conf.producer_config))
        app.producer = self._producer
        app.stream_attacher = self._attach_stream
        app.reply_consumer = Replies(app, self.transport)
        runners: list[AgentRunner | ConcurrentAgent] = []
        for agent in app.agents.values():
            fun = self.compiled_agents.get(agent.name, agent.fun)
            policy = ErrorPolicy(agent.error_policy or conf.error_policy, app)
            instances = [AgentRunner(agent, fun, policy) for _ in range(agent.concurrency)]
            for instance in instances:
                instance.on_new_topic = self._on_new_topic
            runner = instances[0] if len(instances) == 1 else ConcurrentAgent(instances)
            runners.append(runner)
            self._add_consumer(runner)
            runner.start()
        for task in app.tasks:
            fun = self.compiled_agents.get(task.name, task.fun)
            self._background.append(asyncio.create_task(self._run_task(task, fun)))
        await self._wait_until_ready(runners)
        self._consumer = self.transport.consumer(app.id, self._consumer_config())
        partitions = self._subscribe()
        for timer in app.timers:
            self._background.append(asyncio.create_task(self._run_timer(timer)))
        for crontab in app.crontabs:
            self._background.append(asyncio.create_task(self._run_crontab(crontab)))
        sources = self._subscribed
        compiled = sum(name in self.compiled_agents for name in app.agents)
        log.info(
            "worker for app %r on %s: %d agent(s) (%d compiled), sources %s, group %r",
            app.id,
            self.transport.description,
            len(app.agents),
            compiled,
            ", ".join(f"{topic} ({partitions.get(topic, '?')} partitions)" for topic in sources)
            or "none",
            app.id,
        )

    async def _wait_until_ready(self, runners: list[AgentRunner | ConcurrentAgent]) -> None:
        """Let every agent (and task) run up to its stream loop, so its topics are known."""
        waits = [
            runner.wait_ready() if isinstance(runner, ConcurrentAgent) else runner.ready.wait()
            for runner in runners
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), READY_TIMEOUT)
        except TimeoutError:
            log.warning("some agents did not reach their stream loop within %.0fs", READY_TIMEOUT)
        for _ in range(3):  # tasks that open app.stream() right away
            await asyncio.sleep(0)

    def _add_consumer(self, consumer: StreamConsumer) -> None:
        self._consumers_all.append(consumer)
        for topic in consumer.topics:
            routes = self._runners.setdefault(topic, [])
            if consumer not in routes:
                routes.append(consumer)

    def _on_new_topic(self, topic: str) -> None:
        for consumer in self._consumers_all:
            if topic in consumer.topics:
                routes = self._runners.setdefault(topic, [])
                if consumer not in routes:
                    routes.append(consumer)
        if topic not in self._subscribed:
            self._resubscribe = True

    def _attach_stream(self, stream: Stream[Any]) -> BatchSource:
        """``app.stream(topic)`` in a task: a feed of its own, subscribed to the topic."""
        topic = stream.channel.get_topic_name()
        feed = TaskFeed(f"stream of {topic}", topic, ErrorPolicy(self.conf.error_policy, self.app))
        feed.on_new_topic = self._on_new_topic
        self._add_consumer(feed)
        if self._consumer is not None and topic not in self._subscribed:
            self._resubscribe = True
        return feed

    def _subscribe(self) -> dict[str, int]:
        """Create the topics streams consume that do not exist yet; (re)subscribe to all."""
        self._resubscribe = False
        partitions = self.transport.ensure_topics(self._topic_specs(), ADMIN_TIMEOUT)
        sources = sorted(self._runners)
        if sources and sources != self._subscribed and self._consumer is not None:
            self._consumer.subscribe(sources, self._on_assign, self._on_revoke)
            self._subscribed = sources
        return partitions

    async def _stop(self) -> None:
        for consumer in self._consumers_all:
            await consumer.stop(timeout=30.0)
        self._commit()
        await self._close(graceful=True)
        log.info("stopped after processing %d message(s)", self.processed)

    async def _close(self, *, graceful: bool) -> None:
        if self.app.reply_consumer is not None:
            await self.app.reply_consumer.close()
            self.app.reply_consumer = None
        self.app.stream_attacher = None
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
        if len(runners) == 1 and len(self._subscribed) == 1:
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
        if (self._uncommitted or self._held_back) and (
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
        ready = [tp for tp in positions if tp.offset >= 0]
        offsets = self._below_holds(ready)
        # a stream held messages back: commit again later, when it has let them go
        self._held_back = [tp.offset for tp in offsets] != [tp.offset for tp in ready]
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
            offsets = self._below_holds(offsets)
            if offsets:
                consumer.commit(offsets)
                log.info("committed up to the failed batch: %s", _describe(offsets))
        except Exception as exc:
            log.error("could not commit after the failure (%s); nothing committed", exc)

    def _below_holds(self, offsets: list[TopicPartition]) -> list[TopicPartition]:
        """``offsets``, each lowered to the lowest offset a stream still holds, if any."""
        held: dict[tuple[str, int], int] = {}
        for consumer in self._consumers_all:
            for tp, offset in consumer.held_offsets().items():
                held[tp] = min(offset, held.get(tp, offset))
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

    async def _run_crontab(self, crontab: Crontab) -> None:
        while True:
            await asyncio.sleep(crontab.schedule.seconds_until_next(time.time()))
            try:
                await crontab.fun()
            except Exception:
                log.exception("crontab %s raised", crontab.name)

    async def _run_task(self, task: Task, fun: Any) -> None:
        try:
            await fun()
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
                sources = {agent.channel.get_topic_name()}
                for consumer in self._consumers_all:
                    if consumer.name == agent.name:
                        sources.update(consumer.topics)
                for source in sorted(sources):
                    name = dead_letter_topic_for(source)
                    partitions = specs[source].partitions if source in specs else 1
                    specs.setdefault(
                        name, TopicSpec(name, partitions, conf.topic_replication_factor)
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
