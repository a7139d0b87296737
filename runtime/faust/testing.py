"""Running one agent in-process, as Faust's ``agent.test_context()`` does.

Example::

    async with count_words.test_context() as agent:
        await agent.put("hello")
        assert word_counts["hello"] == 1
        agent.records("other-topic")      # what the agent sent, decoded

The agent runs exactly as in a worker (the same runner and error policy) over a private
memory broker, so sends from the agent land there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faust.events import Event, Message
from faust.running import Running
from faust.transport.memory import MemoryBroker, MemoryProducer
from faust.worker.errors import ErrorPolicy
from faust.worker.runner import AgentRunner

if TYPE_CHECKING:
    from faust.agents import Agent


class AgentTestContext:
    """``async with agent.test_context() as agent: await agent.put(value)``."""

    def __init__(self, agent: Agent[Any]) -> None:
        self.agent = agent
        self.app = agent.app
        self.broker = MemoryBroker()
        self.runner: AgentRunner | None = None

    async def __aenter__(self) -> AgentTestContext:
        for topic in self.app.topics:
            for name in topic.topics:
                self.broker.create_topic(name, topic.partitions or 1)
        self.app.running = Running(MemoryProducer(self.broker))
        policy = ErrorPolicy(self.agent.error_policy or self.app.conf.error_policy, self.app)
        self.runner = AgentRunner(self.agent, self.agent.fun, policy)
        self.runner.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.runner is not None:
            await self.runner.stop(timeout=10.0)
        self.app.running = None

    async def put(
        self,
        value: Any = None,
        key: Any = None,
        *,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Event[Any, Any]:
        """Encode ``value`` as the agent's topic would, deliver it, wait until processed."""
        assert self.runner is not None, "use `async with agent.test_context() as agent:`"
        channel = self.agent.channel
        message = self.broker.append(
            channel.get_topic_name(),
            channel.schema.dumps_key(key),
            channel.schema.dumps_value(value),
            partition=partition,
            headers=headers,
        )
        await self.runner.process([message])
        return Event(
            self.app,
            channel.key_loader()(message.key()),
            channel.value_loader()(message.value()),
            list(headers or ()),
            Message.from_transport(message),
        )

    def records(self, topic: str) -> list[Any]:
        """The values sent to ``topic`` so far, decoded with that topic's schema."""
        for declared in self.app.topics:
            if topic in declared.topics:
                loads = declared.value_loader()
                return [loads(message.value()) for message in self.broker.records(topic)]
        return [message.value() for message in self.broker.records(topic)]
