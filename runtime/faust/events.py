"""Events: one consumed message with its decoded key and value, and ``current_event()``.

Inside an agent, ``faust.current_event()`` is the event being processed::

    async for order in stream:
        event = faust.current_event()
        print(event.message.topic, event.message.partition, event.message.offset)

Tables need less than an event: the partition (and timestamp) of the message being
processed. The stream sets it with ``set_current_message(message)`` once per message (one
cheap call, also emitted by compiled agents whose app has tables); ``current_message()``
reads it. Both are per asyncio task, so a timer never sees an agent's message.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from faust.app import App
    from faust.topics import Topic

KT = TypeVar("KT")
VT = TypeVar("VT")


class TransportMessage(Protocol):
    """What the worker reads from a consumer: confluent-kafka's Message has this shape."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def headers(self) -> Any: ...
    def timestamp(self) -> tuple[int, int]: ...
    def error(self) -> Any: ...


class EventHolds(Protocol):
    """Where a ``noack()`` stream keeps its events until they are acked."""

    def release_event(self, event: Event[Any, Any]) -> None: ...


class Message:
    """A consumed record as Faust exposes it: plain attributes, raw bytes."""

    __slots__ = ("headers", "key", "offset", "partition", "timestamp", "topic", "value")

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp: float,
        key: bytes | None,
        value: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers

    @classmethod
    def from_transport(cls, message: TransportMessage) -> Message:
        _, timestamp_ms = message.timestamp()
        return cls(
            message.topic() or "",
            message.partition() or 0,
            message.offset() or 0,
            timestamp_ms / 1000.0,
            message.key(),
            message.value(),
            list(message.headers() or ()),
        )

    def __repr__(self) -> str:
        return f"<Message: {self.topic}[{self.partition}]@{self.offset}>"


class Event(Generic[KT, VT]):
    """A message being processed, with its decoded ``key`` and ``value``."""

    __slots__ = ("_holds", "app", "headers", "key", "message", "value")

    def __init__(
        self,
        app: App,
        key: KT,
        value: VT,
        headers: list[tuple[str, bytes]],
        message: Message,
        *,
        holds: EventHolds | None = None,
    ) -> None:
        self.app = app
        self.key = key
        self.value = value
        self.headers = headers
        self.message = message
        self._holds = holds

    def ack(self) -> bool:
        """Mark the event processed.

        On an ordinary stream this is a no-op (offsets are committed per batch, after the
        batch is processed). On a ``stream.noack()`` stream the event's offset is held back
        from the commit until this is called.
        """
        holds = self._holds
        if holds is not None:
            self._holds = None
            holds.release_event(self)
        return True

    async def send(
        self,
        channel: Topic[Any, Any],
        key: Any = None,
        value: Any = None,
        *,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Send ``key``/``value`` (default: this event's) to ``channel``."""
        await channel.send(
            key=self.key if key is None else key,
            value=self.value if value is None else value,
            partition=partition,
            headers=headers,
        )

    async def forward(self, channel: Topic[Any, Any], **kwargs: Any) -> None:
        """Send this event's original bytes and headers to ``channel`` unchanged."""
        channel.app.send_raw(
            channel.get_topic_name(),
            self.message.key,
            self.message.value,
            partition=kwargs.get("partition"),
            headers=self.message.headers,
        )

    def __repr__(self) -> str:
        return f"<Event: key={self.key!r} value={self.value!r} {self.message!r}>"


_current_event: contextvars.ContextVar[Event[Any, Any] | None] = contextvars.ContextVar(
    "faust_current_event", default=None
)

#: ``set_current_event(event)``: the worker and compiled agents mark the event in hand.
set_current_event = _current_event.set


def current_event() -> Event[Any, Any] | None:
    """The event the calling agent is processing (None outside an agent)."""
    return _current_event.get()


_current_message: contextvars.ContextVar[TransportMessage | None] = contextvars.ContextVar(
    "faust_current_message", default=None
)

#: ``set_current_message(message)``: the raw message the calling agent is processing.
set_current_message = _current_message.set

#: ``current_message()``: that message, or None outside an agent (timers, tasks, the worker).
current_message = _current_message.get
