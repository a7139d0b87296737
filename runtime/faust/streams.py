"""Streams: the reference semantics of an agent's ``async for`` loop.

A Stream reads batches of messages from its source (the worker feeds one per agent),
decodes each message with its topic's schema, makes it the current event, and runs the
chain of ``filter``/``map`` operations in the order they were written::

    async for order in stream.filter(lambda o: o.amount > 1000).map(lambda o: o.account_id):
        ...

This is the meaning that ``faustc build`` compiles: a built worker fuses the same chain into
one loop per batch and must produce the same outputs (see tests/test_differential.py).
Operations may be plain or ``async`` functions, as in Faust.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from faust.events import Event, Message, TransportMessage, set_current_event, set_current_message

if TYPE_CHECKING:
    from faust.topics import Topic

T = TypeVar("T")
U = TypeVar("U")


class BatchSource(Protocol):
    """Where a stream's messages come from: the worker's feed for one agent."""

    #: index in the current batch of the message being processed (for error recovery)
    position: int

    async def next_batch(self) -> list[TransportMessage] | None:
        """The next batch of this agent's messages; None when the worker stops."""
        ...

    def handle_error(self, exc: BaseException, message: TransportMessage, where: str) -> None:
        """Apply the error policy to ``message``: return to go on, raise to stop."""
        ...


_FILTER = "filter"
_MAP = "map"


class Stream(Generic[T]):
    """An asynchronous iterator over the decoded values of a topic."""

    def __init__(
        self,
        channel: Topic[Any, Any],
        *,
        source: BatchSource | None = None,
        operations: tuple[tuple[str, Callable[[Any], Any]], ...] = (),
    ) -> None:
        self.channel = channel
        self.source = source
        self.operations = operations

    # -- building the chain ----------------------------------------------------------------

    def filter(self, fun: Callable[[T], bool | Awaitable[bool]]) -> Stream[T]:
        """Keep the values for which ``fun`` is true."""
        return Stream(
            self.channel, source=self.source, operations=(*self.operations, (_FILTER, fun))
        )

    def map(self, fun: Callable[[T], U | Awaitable[U]]) -> Stream[U]:
        """Replace each value by ``fun(value)``."""
        return Stream(self.channel, source=self.source, operations=(*self.operations, (_MAP, fun)))

    # -- iterating -------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[T]:
        return self._values()

    def items(self) -> AsyncIterator[tuple[Any, T]]:
        """Iterate ``(key, value)`` pairs."""
        return self._items()

    def events(self) -> AsyncIterator[Event[Any, T]]:
        """Iterate the events themselves (``event.key``, ``event.value``, ``event.message``)."""
        return self._events()

    async def batches(self) -> AsyncIterator[list[TransportMessage]]:
        """The raw batches (what a compiled agent loops over)."""
        source = self._require_source()
        while True:
            batch = await source.next_batch()
            if batch is None:
                return
            yield batch

    def handle_error(self, exc: BaseException, message: TransportMessage, where: str) -> None:
        """Give a failed message to the error policy (raises when the policy is ``fail``)."""
        self._require_source().handle_error(exc, message, where)

    async def _values(self) -> AsyncIterator[T]:
        async for _, value in self._run():
            yield value

    async def _items(self) -> AsyncIterator[tuple[Any, T]]:
        async for event, value in self._run():
            yield event.key, value

    async def _events(self) -> AsyncIterator[Event[Any, T]]:
        async for event, _ in self._run():
            yield event

    async def _run(self) -> AsyncIterator[tuple[Event[Any, Any], Any]]:
        """Decode, make current, run the operations; yield what passes."""
        source = self._require_source()
        channel = self.channel
        app = channel.app
        load_key = channel.key_loader()
        load_value = channel.value_loader()
        operations = self.operations
        where = f"stream of {channel!r}"
        while True:
            batch = await source.next_batch()
            if batch is None:
                return
            for index, message in enumerate(batch):
                source.position = index
                set_current_message(message)  # tables write to this message's partition
                try:
                    key = load_key(message.key())
                    value = load_value(message.value())
                    event = Event(
                        app,
                        key,
                        value,
                        list(message.headers() or ()),
                        Message.from_transport(message),
                    )
                    set_current_event(event)
                    keep = True
                    for kind, fun in operations:
                        result = fun(value)
                        if inspect.isawaitable(result):
                            result = await result
                        if kind == _MAP:
                            value = result
                        elif not result:
                            keep = False
                            break
                except Exception as exc:
                    source.handle_error(exc, message, where)
                    continue
                if keep:
                    yield event, value

    def _require_source(self) -> BatchSource:
        if self.source is None:
            raise RuntimeError(
                f"{self!r} is not attached to a running worker: start the app with "
                "`faustc run app.py` or use agent.test_context()"
            )
        return self.source

    def __repr__(self) -> str:
        chain = "".join(f".{kind}(...)" for kind, _ in self.operations)
        return f"<Stream: {self.channel!r}{chain}>"
