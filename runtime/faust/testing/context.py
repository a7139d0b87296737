"""Running one agent in-process, as Faust's ``agent.test_context()`` does.

Example::

    async with count_words.test_context() as agent:
        event = await agent.put("hello")       # processed when put() returns
        assert word_counts["hello"] == 1
        agent.results[0]                       # what the agent yielded (or, when it does
                                               # not yield, the value it was given)
        agent.records("other-topic")           # what the agent sent, decoded
        await agent.ask("hi")                  # what the agent yields for "hi"

The agent runs exactly as in a worker (the same runner and error policy) over a private
memory broker: what it sends lands there, and what lands on the topics its stream reads
(its ``group_by``/``through`` stages, its own topic) is fed back to it before ``put()``
returns. Every table of the app starts empty in each context. A crash under the ``fail``
policy raises the agent's own exception from ``put()``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from faust.agents import CORRELATION_ID_HEADER, REPLY_TO_HEADER
from faust.contract import reply_topic_name
from faust.events import Event, Message, TransportMessage
from faust.models.record import maybe_model
from faust.running import Running
from faust.serializers.codecs import json_loads
from faust.transport.memory import MemoryBroker, MemoryProducer
from faust.worker.errors import AgentFailure, ErrorPolicy
from faust.worker.runner import AgentRunner

if TYPE_CHECKING:
    from faust.agents import Agent
    from faust.topics import Topic


class AgentTestContext:
    """``async with agent.test_context() as agent: await agent.put(value)``."""

    __test__ = False  # not a pytest test class

    def __init__(self, agent: Agent[Any]) -> None:
        self.agent = agent
        self.app = agent.app
        self.broker = MemoryBroker()
        self.broker.auto_create = self._partitions_of
        self.runner: AgentRunner | None = None
        #: by the order values were processed (0, 1, ...): what the agent yielded; for an
        #: agent that does not yield, the values it was given (as in Faust)
        self.results: dict[int, Any] = {}
        self.sent_offset = 0
        self.processed_offset = 0
        self._positions: dict[tuple[str, int], int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.agent, name)  # the agent's own attributes (name, channel ...)

    async def __aenter__(self) -> AgentTestContext:
        app = self.app
        if app.running is not None:
            raise RuntimeError(f"app {app.id!r} is already running: one test context at a time")
        for topic in app.topics:
            for name in topic.topics:
                self.broker.create_topic(name, topic.partitions or 1)
        for table in app.tables.values():
            table.reset_state()
        app.running = Running(MemoryProducer(self.broker))
        policy = ErrorPolicy(self.agent.error_policy or app.conf.error_policy, app)
        self.agent.add_sink(self._record_result)
        self.runner = AgentRunner(self.agent, self.agent.fun, policy)
        self.runner.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self.runner is not None:
                await self.runner.stop(timeout=10.0)
        finally:
            if self._record_result in self.agent.sinks:
                self.agent.sinks.remove(self._record_result)
            self.app.running = None

    async def put(
        self,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        *,
        reply_to: str | None = None,
        correlation_id: str | None = None,
    ) -> Event[Any, Any]:
        """Encode ``value`` as the agent's topic would, deliver it (to ``partition``, 0
        by default, as in Faust), and return once it and everything it led to on the
        agent's own topics is processed. ``timestamp`` in seconds (default: now)."""
        runner = self.runner
        assert runner is not None, "use `async with agent.test_context() as agent:`"
        if reply_to is not None:
            headers = [
                *(headers or ()),
                (REPLY_TO_HEADER, reply_to.encode()),
                (CORRELATION_ID_HEADER, (correlation_id or uuid.uuid4().hex).encode()),
            ]
        channel = self.agent.channel
        message = self.broker.append(
            channel.get_topic_name(),
            channel.schema.dumps_key(key),
            channel.schema.dumps_value(value),
            partition=0 if partition is None else partition,
            headers=headers,
            timestamp_ms=None if timestamp is None else int(timestamp * 1000),
        )
        self.sent_offset += 1
        event = Event(
            self.app,
            channel.schema.loads_key(message.key(), headers),
            channel.schema.loads_value(message.value(), headers),
            list(headers or ()),
            Message.from_transport(message),
        )
        try:
            await self._drain()
        except AgentFailure as failure:
            cause = failure.__cause__
            if isinstance(cause, Exception) and not isinstance(cause, AgentFailure):
                cause.add_note(f"faust: {failure}")
                raise cause from None
            raise
        if runner.yields is False:
            self._record_result(event.value)
        return event

    async def ask(self, value: Any = None, key: Any = None) -> Any:
        """What the agent yields for ``value`` (``agent.ask()``, answered in-process)."""
        reply_to = reply_topic_name(self.app.id, self.app.conf.reply_to)
        correlation_id = uuid.uuid4().hex
        await self.put(value, key, reply_to=reply_to, correlation_id=correlation_id)
        for message in self.broker.records(reply_to):
            reply = json_loads(message.value() or b"null")
            if isinstance(reply, dict) and reply.get("correlation_id") == correlation_id:
                return maybe_model(reply.get("value"))
        raise LookupError(f"agent {self.agent.name} yielded nothing for {value!r}")

    def records(self, topic: str | Topic[Any, Any]) -> list[Any]:
        """The values sent to ``topic`` so far, decoded with that topic's schema."""
        name = topic if isinstance(topic, str) else topic.get_topic_name()
        declared = self.app.find_topic(name)
        messages = self.broker.records(name)
        if declared is None:
            return [message.value() for message in messages]
        return [declared.schema.loads_value(m.value(), m.headers()) for m in messages]

    # -- inside -----------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Feed the agent what is new on every topic its stream reads, until nothing is."""
        runner, broker, positions = self.runner, self.broker, self._positions
        assert runner is not None
        progressed = True
        while progressed:
            progressed = False
            for topic in list(runner.topics):
                for partition, log in enumerate(broker.topics.get(topic, ())):
                    start = positions.get((topic, partition), 0)
                    if start < len(log):
                        positions[(topic, partition)] = len(log)
                        batch: list[TransportMessage] = list(log[start:])
                        await runner.process(batch)
                        progressed = True

    def _record_result(self, value: Any) -> None:
        self.results[self.processed_offset] = value
        self.processed_offset += 1

    def _partitions_of(self, name: str) -> int:
        declared = self.app.find_topic(name)
        return (declared.partitions if declared is not None else None) or 1
