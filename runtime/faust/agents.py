"""Agents: ``@app.agent(topic)`` functions that consume a stream, and timers/tasks.

Example::

    @app.agent(orders_topic, sink=[audit_topic])
    async def process(orders: faust.Stream[Order]) -> AsyncIterator[str]:
        async for order in orders.filter(lambda o: o.amount > 1000):
            await big_orders.send(value=order)
            yield order.order_id        # to every sink, and to the asker of agent.ask()

An agent's name is ``<module>.<function>`` (``__main__`` replaced by the script's name, as
Faust does) unless ``name=`` says otherwise; compiled workers find the agent they replace
by this name.

``agent.ask(value)`` sends ``value`` with the headers ``Faust-Ag-ReplyTo`` and
``Faust-Ag-CorrelationId`` (Faust's ``use_reply_headers`` form) and waits until the agent
yields its result for it; the result travels on the reply topic (``app.conf.reply_to``,
default ``<app id>-reply``) as ``{"key", "value", "correlation_id"}``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
)
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union

from faust.exceptions import ImproperlyConfigured
from faust.models.record import Record, canonical_module_name

if TYPE_CHECKING:
    from faust.app import App
    from faust.cron import CronSchedule
    from faust.replies import Waiter
    from faust.streams import Stream
    from faust.topics import Topic

T = TypeVar("T")

AgentFun = Callable[["Stream[Any]"], Coroutine[Any, Any, None] | AsyncIterable[Any]]
#: where an agent's yielded values go: a topic, another agent, or a function
SinkT = Union["Topic[Any, Any]", "Agent[Any]", Callable[[Any], Any]]

REPLY_TO_HEADER = "Faust-Ag-ReplyTo"
CORRELATION_ID_HEADER = "Faust-Ag-CorrelationId"

#: ``deliver(value, key, headers)``: None, or an awaitable when a sink is asynchronous
Deliver = Callable[[Any, Any, Any], Awaitable[None] | None]


def default_agent_name(fun: Callable[..., Any]) -> str:
    """An agent's name when ``name=`` gives none: ``<module>.<qualified function name>``
    (``__main__`` replaced by the script's name, as Faust does)."""
    return f"{canonical_module_name(fun.__module__)}.{fun.__qualname__}"


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
        sink: Iterable[SinkT] | None = None,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
        help: str | None = None,
        use_reply_headers: bool = True,
        isolated_partitions: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if isolated_partitions and concurrency > 1:
            raise ImproperlyConfigured(
                "@app.agent(isolated_partitions=True) cannot have concurrency > 1 (one "
                "instance runs per partition)"
            )
        self.fun = fun
        self.app = app
        self.channel = channel
        self.name = name or default_agent_name(fun)
        #: what the agent is for (Faust's ``help=``, default its docstring)
        self.help = help or fun.__doc__ or ""
        self.concurrency = concurrency
        self.sinks: list[SinkT] = list(sink or ())
        self.error_policy = error_policy
        #: where ``dead-letter`` sends this agent's failed messages (default: the app's)
        self.dead_letter_topic = dead_letter_topic
        #: ``ask()`` puts the reply address in headers (False: in a ``ReqRepRequest``
        #: envelope around the value, Faust's other form; the agent unwraps it)
        self.use_reply_headers = use_reply_headers
        #: one instance per assigned partition, each with its own locals (Faust's)
        self.isolated_partitions = isolated_partitions
        self.__doc__ = fun.__doc__
        self.__wrapped__ = fun

    def add_sink(self, sink: SinkT) -> None:
        """Send what the agent yields to ``sink`` too."""
        if sink not in self.sinks:
            self.sinks.append(sink)

    async def send(
        self,
        *,
        key: Any = None,
        value: T | None = None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send a value to the agent's topic."""
        self.channel.send_soon(key=key, value=value, partition=partition, headers=headers)

    async def cast(
        self,
        value: T | None = None,
        *,
        key: Any = None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send without expecting a reply (Faust's RPC "cast")."""
        self.channel.send_soon(key=key, value=value, partition=partition, headers=headers)

    async def ask(
        self,
        value: T | None = None,
        *,
        key: Any = None,
        partition: int | None = None,
        reply_to: Topic[Any, Any] | str | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send ``value`` and wait for what the agent yields for it.

        Asked from inside another agent, the asking agent's batch stays unfinished while it
        waits and the worker goes on consuming (the request must be consumed too): its
        messages are held back from the commit until it has processed them."""
        waiter = await self._request(key, value, partition, reply_to, correlation_id)
        self.app.waiting_for_replies()
        return await waiter.result(timeout)

    async def join(
        self,
        values: Iterable[Any] | AsyncIterable[Any],
        key: Any = None,
        reply_to: Topic[Any, Any] | str | None = None,
    ) -> list[Any]:
        """Ask the agent about every value; the replies in the order of the values, once
        all have arrived (Faust's RPC ``join``)."""
        return await self.kvjoin([(key, value) async for value in _each(values)], reply_to)

    async def kvjoin(
        self,
        items: Iterable[tuple[Any, Any]] | AsyncIterable[tuple[Any, Any]],
        reply_to: Topic[Any, Any] | str | None = None,
    ) -> list[Any]:
        """:meth:`join` of ``(key, value)`` pairs."""
        waiters = [
            await self._request(key, value, None, reply_to, None)
            async for key, value in _each(items)
        ]
        if waiters:
            self.app.waiting_for_replies()
        return [await waiter.result(None) for waiter in waiters]

    async def map(
        self,
        values: Iterable[Any] | AsyncIterable[Any],
        key: Any = None,
        reply_to: Topic[Any, Any] | str | None = None,
    ) -> AsyncIterator[Any]:
        """Ask the agent about every value; the replies as they arrive (Faust's RPC
        ``map``; :meth:`join` keeps the order)."""
        async for reply in self.kvmap([(key, value) async for value in _each(values)], reply_to):
            yield reply

    async def kvmap(
        self,
        items: Iterable[tuple[Any, Any]] | AsyncIterable[tuple[Any, Any]],
        reply_to: Topic[Any, Any] | str | None = None,
    ) -> AsyncIterator[Any]:
        """:meth:`map` of ``(key, value)`` pairs."""
        waiters = [
            await self._request(key, value, None, reply_to, None)
            async for key, value in _each(items)
        ]
        if waiters:
            self.app.waiting_for_replies()
        for arrived in asyncio.as_completed([waiter.future for waiter in waiters]):
            yield await arrived

    async def _request(
        self,
        key: Any,
        value: Any,
        partition: int | None,
        reply_to: Topic[Any, Any] | str | None,
        correlation_id: str | None,
    ) -> Waiter:
        """Send one request with the reply headers; the waiter of its reply."""
        replies = self.app.replies()
        topic = reply_to if isinstance(reply_to, str) else None
        if reply_to is not None and not isinstance(reply_to, str):
            topic = reply_to.get_topic_name()
        correlation_id = correlation_id or uuid.uuid4().hex
        waiter = await replies.expect(correlation_id, topic)
        if not self.use_reply_headers:  # Faust's envelope form
            request = ReqRepRequest(
                value=value, reply_to=waiter.topic, correlation_id=correlation_id
            )
            self.channel.send_soon(key=key, value=request, partition=partition)
            return waiter
        headers = [
            (REPLY_TO_HEADER, waiter.topic.encode()),
            (CORRELATION_ID_HEADER, correlation_id.encode()),
        ]
        self.channel.send_soon(key=key, value=value, partition=partition, headers=headers)
        return waiter

    def test_context(self) -> Any:
        """Run this agent in-process on the memory transport (see ``faust.testing``)."""
        from faust.testing import AgentTestContext

        return AgentTestContext(self)

    def __repr__(self) -> str:
        return f"<Agent: {self.name}>"

    def deliverer(self) -> Deliver:
        """``deliver(value, key, headers)``: reply to an asker, then feed every sink.

        Returns None, or an awaitable when a sink is an ``async`` function (the compiled
        loop awaits only then).
        """
        app = self.app
        steps: list[Callable[[Any], Any]] = []
        any_async = False
        for sink in self.sinks:
            if isinstance(sink, Agent):
                steps.append(_send_value(sink.channel))
            elif hasattr(sink, "send_soon") and hasattr(sink, "get_topic_name"):
                steps.append(_send_value(sink))
            else:
                any_async = any_async or inspect.iscoroutinefunction(sink)
                steps.append(sink)

        def deliver(value: Any, key: Any, headers: Any) -> Awaitable[None] | None:
            if headers:
                _maybe_reply(app, value, key, headers)
            if not any_async:
                for step in steps:
                    step(value)
                return None
            return _deliver_async(steps, value)

        return deliver


async def _each(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


class ReqRepRequest(Record, serializer="json", namespace="@ReqRepRequest"):
    """Faust's request envelope (``use_reply_headers=False``): the value asked about, and
    where its reply goes."""

    value: Any
    reply_to: str
    correlation_id: str


def unwrap_request(value: Any) -> Any:
    """A stream processor for an agent with ``use_reply_headers=False``: the value inside a
    :class:`ReqRepRequest`, its reply address moved into the event's headers (where the
    agent's ``yield`` looks for it); any other value as it is."""
    if not isinstance(value, ReqRepRequest):
        return value
    from faust.events import current_event

    event = current_event()
    if event is not None:
        event.headers.extend(
            [
                (REPLY_TO_HEADER, value.reply_to.encode()),
                (CORRELATION_ID_HEADER, value.correlation_id.encode()),
            ]
        )
    return value.value


def _send_value(topic: Any) -> Callable[[Any], None]:
    send_soon = topic.send_soon

    def send(value: Any) -> None:
        send_soon(value=value)

    return send


async def _deliver_async(steps: list[Callable[[Any], Any]], value: Any) -> None:
    for step in steps:
        result = step(value)
        if inspect.isawaitable(result):
            await result


def _maybe_reply(app: App, value: Any, key: Any, headers: Any) -> None:
    reply_to = correlation_id = None
    for name, raw in headers:
        if name == REPLY_TO_HEADER:
            reply_to = raw.decode() if isinstance(raw, bytes) else str(raw)
        elif name == CORRELATION_ID_HEADER:
            correlation_id = raw.decode() if isinstance(raw, bytes) else str(raw)
    if reply_to and correlation_id:
        from faust.replies import encode_reply

        app.send_raw(reply_to, None, encode_reply(key, value, correlation_id))


@dataclasses.dataclass
class Timer:
    """``@app.timer(interval)``: call ``fun`` every ``interval`` seconds while the worker runs."""

    fun: Callable[[], Awaitable[None]]
    interval: float
    name: str
    on_leader: bool = False


@dataclasses.dataclass
class Crontab:
    """``@app.crontab("0 20 * * *")``: call ``fun`` at the times the cron expression says."""

    fun: Callable[[], Awaitable[None]]
    schedule: CronSchedule
    name: str
    on_leader: bool = False


@dataclasses.dataclass
class Task:
    """``@app.task``: run ``fun`` once when the worker starts."""

    fun: Callable[[], Awaitable[None]]
    name: str
    on_leader: bool = False
