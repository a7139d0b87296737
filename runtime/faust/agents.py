"""Agents: ``@app.agent(topic)`` functions that consume a stream, and timers/tasks.

Example::

    @app.agent(orders_topic)
    async def process(orders: faust.Stream[Order]) -> None:
        async for order in orders.filter(lambda o: o.amount > 1000):
            await big_orders.send(value=order)

An agent's name is ``<module>.<function>`` (``__main__`` replaced by the script's name, as
Faust does); compiled workers find the agent they replace by this name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from faust.models.record import canonical_module_name

if TYPE_CHECKING:
    from faust.app import App
    from faust.streams import Stream
    from faust.topics import Topic

T = TypeVar("T")

AgentFun = Callable[["Stream[Any]"], Coroutine[Any, Any, None] | AsyncIterator[Any]]


class Agent(Generic[T]):
    """A stream processor registered on an App."""

    def __init__(
        self,
        fun: AgentFun,
        *,
        app: App,
        channel: Topic[Any, T],
        name: str | None = None,
        concurrency: int = 1,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
    ) -> None:
        self.fun = fun
        self.app = app
        self.channel = channel
        self.name = name or f"{canonical_module_name(fun.__module__)}.{fun.__qualname__}"
        self.concurrency = concurrency
        self.error_policy = error_policy
        #: where ``dead-letter`` sends this agent's failed messages (default: the app's)
        self.dead_letter_topic = dead_letter_topic
        self.__doc__ = fun.__doc__
        self.__wrapped__ = fun

    async def send(
        self,
        *,
        key: Any = None,
        value: T | None = None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send a value to the agent's topic."""
        await self.channel.send(key=key, value=value, partition=partition, headers=headers)

    def cast(
        self,
        *,
        key: Any = None,
        value: T | None = None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send without waiting (fire and forget)."""
        self.channel.send_soon(key=key, value=value, partition=partition, headers=headers)

    def test_context(self) -> Any:
        """Run this agent in-process on the memory transport (see ``faust.testing``)."""
        from faust.testing import AgentTestContext

        return AgentTestContext(self)

    def __repr__(self) -> str:
        return f"<Agent: {self.name}>"


@dataclasses.dataclass
class Timer:
    """``@app.timer(interval)``: call ``fun`` every ``interval`` seconds while the worker runs."""

    fun: Callable[[], Awaitable[None]]
    interval: float
    name: str
    on_leader: bool = False


@dataclasses.dataclass
class Task:
    """``@app.task``: run ``fun`` once when the worker starts."""

    fun: Callable[[], Awaitable[None]]
    name: str
