"""Routes: which of the worker's stream consumers take the messages of each topic.

A stream consumer is an agent's runner (or the runners of a ``concurrency=N`` agent) or the
feed of an ``app.stream(topic)`` loop in a task; it takes the messages of the topics its
stream reads (its own, then those of its ``group_by``/``through`` stages as the stream
declares them). The worker hands each consumed batch to :meth:`Routes.process`, which
splits it by topic and waits until every consumer of a topic has processed its part;
:meth:`Routes.held_offsets` is what the streams still hold (the commit stays below it).
When a stream adds a topic the worker does not subscribe to yet, ``resubscribe`` is set
and the worker subscribes again before its next poll. Example::

    routes = Routes(app)
    routes.add(runner)                    # an agent's runner, started by the worker
    feed = routes.attach(stream)          # app.stream(topic) in a task: a feed of its own
    await routes.process(batch)           # every message processed by every consumer
    routes.topics()                       # ['orders', 'shop.count-orders-...-repartition']
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from faust.events import TransportMessage
from faust.worker.errors import ErrorPolicy
from faust.worker.runner import AgentRunner, TaskFeed
from faust.worker.sensors import CurrentMessages, Sensor

if TYPE_CHECKING:
    from faust.app import App
    from faust.streams import BatchSource, Stream

#: ``(topic, partition)``, as the worker keys offsets
TP = tuple[str, int]


class StreamConsumer(Protocol):
    """What the worker feeds: an agent's runner(s), or an ``app.stream()`` loop's feed."""

    name: str
    topics: list[str]

    async def process(self, batch: list[TransportMessage]) -> None: ...

    def held_offsets(self) -> dict[TP, int]: ...

    async def stop(self, timeout: float) -> None: ...


class Routes:
    """The stream consumers and their topics (see the module docstring)."""

    def __init__(
        self,
        app: App,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sensor: Sensor | None = None,
    ) -> None:
        self.app = app
        #: the worker's clock, handed to every feed (``take(within=)`` reads it)
        self.monotonic = monotonic
        #: told how long each consumer took over its part of a batch (None: nobody asks)
        self.sensor = sensor
        #: every stream consumer, in the order they were added
        self.consumers: list[StreamConsumer] = []
        #: by topic, the consumers that take its messages
        self.by_topic: dict[str, list[StreamConsumer]] = {}
        #: the topics the worker's consumer is subscribed to
        self.subscribed: list[str] = []
        #: a stream added a topic not in ``subscribed``: subscribe again
        self.resubscribe = False

    def add(self, consumer: StreamConsumer) -> None:
        self.consumers.append(consumer)
        for topic in consumer.topics:
            self._route(topic, consumer)

    def on_new_topic(self, topic: str) -> None:
        """A stream added ``topic`` (a stage after a boundary): route it, subscribe to it."""
        for consumer in self.consumers:
            if topic in consumer.topics:
                self._route(topic, consumer)
        if topic not in self.subscribed:
            self.resubscribe = True

    def attach(self, stream: Stream[Any]) -> BatchSource:
        """``app.stream(topic)`` in a task: a feed of its own, subscribed to the topic."""
        topic = stream.channel.get_topic_name()
        policy = ErrorPolicy(self.app.conf.error_policy, self.app)
        feed = TaskFeed(f"stream of {topic}", topic, policy)
        feed.monotonic = self.monotonic
        feed.on_new_topic = self.on_new_topic
        self.add(feed)
        if topic not in self.subscribed:
            self.resubscribe = True
        return feed

    def _route(self, topic: str, consumer: StreamConsumer) -> None:
        routes = self.by_topic.setdefault(topic, [])
        if consumer not in routes:
            routes.append(consumer)

    def topics(self) -> list[str]:
        """Every topic some consumer takes, sorted: what the worker subscribes to (the
        app's channels are fed in memory, not subscribed)."""
        channels = {channel.topics[0] for channel in self.app.channels}
        return sorted(topic for topic in self.by_topic if topic not in channels)

    async def process_channels(self) -> int:
        """Hand the messages sent to the app's channels to their readers, until none is
        left (a reader may send to a channel in turn); return how many there were."""
        handed = 0
        while True:
            messages: list[TransportMessage] = [
                message for channel in self.app.channels for message in channel.take()
            ]
            if not messages:
                return handed
            handed += len(messages)
            await self.process(messages)

    async def process(self, batch: list[TransportMessage]) -> None:
        """Hand each consumer its topics' messages of ``batch``; return when all of them
        have processed them."""
        by_topic, sensor = self.by_topic, self.sensor
        if len(by_topic) == 1 and len(self.subscribed) == 1:
            for consumer in next(iter(by_topic.values())):
                if sensor is None:
                    await consumer.process(batch)
                else:
                    await self._sensed(consumer, batch, sensor)
            return
        # runs of one topic, found at C speed (the messages' own topic() method)
        parts: dict[str, list[TransportMessage]] = {}
        for topic, run in itertools.groupby(batch, key=type(batch[0]).topic):
            parts.setdefault(topic or "", []).extend(run)
        for topic, messages in parts.items():
            for consumer in by_topic.get(topic, ()):
                if sensor is None:
                    await consumer.process(messages)
                else:
                    await self._sensed(consumer, messages, sensor)

    @staticmethod
    async def _sensed(
        consumer: StreamConsumer, messages: list[TransportMessage], sensor: Sensor
    ) -> None:
        sensor.on_stream_start(consumer.name, messages)
        started = time.perf_counter()
        if sensor.wants_headers:  # tracing: agents mark each message current
            await consumer.process(CurrentMessages(messages, consumer.name, sensor))
        else:
            await consumer.process(messages)
        sensor.on_stream_batch(consumer.name, messages, time.perf_counter() - started)

    async def process_empty(self) -> None:
        """Hand every consumer an empty batch, as a poll that timed out would: a stream
        holding a ``take(within=)`` list looks at its deadline."""
        for consumer in self.consumers:
            await consumer.process([])

    def detach_current(self) -> None:
        """The running agent is about to wait on ``ask()`` replies: stop waiting for its
        batch (``AgentRunner.detach``), so the worker consumes the requests it sent."""
        task = asyncio.current_task()
        for consumer in self.consumers:
            for runner in getattr(consumer, "runners", [consumer]):
                if isinstance(runner, AgentRunner) and runner.runs(task):
                    runner.detach()
                    return

    def in_flight(self) -> bool:
        """Does an agent still work on a batch the worker stopped waiting for (``ask()``)?"""
        return any(
            isinstance(runner, AgentRunner) and runner.in_flight()
            for consumer in self.consumers
            for runner in getattr(consumer, "runners", [consumer])
        )

    def held_offsets(self) -> dict[TP, int]:
        """The lowest offset any stream still holds, per partition (``take`` buffers,
        un-acked ``noack`` events): the commit must not pass it."""
        held: dict[TP, int] = {}
        for consumer in self.consumers:
            for tp, offset in consumer.held_offsets().items():
                held[tp] = min(offset, held.get(tp, offset))
        return held

    async def stop(self, timeout: float) -> None:
        """End every stream (code after an agent's loop runs) and wait for them."""
        for consumer in self.consumers:
            await consumer.stop(timeout=timeout)
