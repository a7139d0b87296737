"""Channels: in-memory streams inside one worker (Faust's ``app.channel()``).

A channel is a topic that never reaches Kafka: what is sent to it stays in this process and
goes to the agents (or ``app.stream(channel)`` loops) that read it, as the Python objects
that were sent (no serializer). Example::

    cleaned = app.channel(value_type=str)

    @app.agent(lines_topic)
    async def clean(lines):
        async for line in lines:
            await cleaned.send(value=line.strip())

    @app.agent(cleaned)
    async def count(lines):
        async for line in lines:
            ...

The worker hands a channel's messages to its readers after each consumed batch (and
whenever its loop goes round), until no channel has any left. Like Faust's channels,
nothing about them is durable: a message sent to a channel and not yet read when the
worker stops is lost, and no offset of a channel is committed.
"""

from __future__ import annotations

import collections
import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from faust.delivery import FutureMessage, PendingMessage
from faust.serializers.schemas import Loader
from faust.topics import Topic

if TYPE_CHECKING:
    from faust.app import App

KT = TypeVar("KT")
VT = TypeVar("VT")

_numbers = itertools.count(1)


class ChannelMessage:
    """One message on a channel: the transport message interface over Python objects."""

    __slots__ = ("_headers", "_key", "_offset", "_timestamp", "_topic", "_value")

    def __init__(
        self,
        topic: str,
        offset: int,
        key: Any,
        value: Any,
        headers: list[tuple[str, bytes]] | None,
        timestamp_ms: int,
    ) -> None:
        self._topic = topic
        self._offset = offset
        self._key = key
        self._value = value
        self._headers = headers
        self._timestamp = timestamp_ms

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> Any:
        return self._key

    def value(self) -> Any:
        return self._value

    def headers(self) -> list[tuple[str, bytes]] | None:
        return self._headers

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp)  # TIMESTAMP_CREATE_TIME

    def error(self) -> None:
        return None

    def __len__(self) -> int:
        return 0


def _as_is(data: Any, headers: Any = None, /) -> Any:
    return data


class Channel(Topic[KT, VT]):
    """``app.channel(key_type=, value_type=, maxsize=)``: see the module docstring.

    A channel is a :class:`~faust.topics.Topic` (so ``ChannelT`` annotations and
    ``@app.agent(channel)`` take it) whose name is its own (``channel:<n>``, never a
    Kafka topic's) and whose sends stay in the process.
    """

    def __init__(
        self,
        app: App,
        *,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        maxsize: int | None = None,
    ) -> None:
        super().__init__(
            app, topics=(f"channel:{next(_numbers)}",), key_type=key_type, value_type=value_type
        )
        #: accepted as in Faust; a channel here is never full (its readers run after each
        #: consumed batch, in the worker's loop)
        self.maxsize = maxsize
        self._pending: collections.deque[ChannelMessage] = collections.deque()
        self._offsets = itertools.count()

    def key_loader(self) -> Loader:
        return _as_is

    def value_loader(self, *, fields_only: bool = False) -> Loader:
        return _as_is

    def send_soon(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        callback: Callable[[FutureMessage], Any] | None = None,
    ) -> FutureMessage | None:
        """Put the value (and key) on the channel, as they are; with ``callback``, a
        FutureMessage resolved at once (the message is on the channel)."""
        name = self.topics[0]
        offset = next(self._offsets)
        stamp = int((time.time() if timestamp is None else timestamp) * 1000)
        self._pending.append(ChannelMessage(name, offset, key, value, headers, stamp))
        if callback is None:
            return None
        future = FutureMessage(
            PendingMessage(self, key, value, partition, timestamp, headers, callback, name)
        )
        future.delivered(name, 0, offset, stamp)
        return future

    def take(self) -> list[ChannelMessage]:
        """Every message sent and not yet taken (the worker hands them to the readers)."""
        taken = list(self._pending)
        self._pending.clear()
        return taken

    def __repr__(self) -> str:
        return f"<Channel: {self.topics[0]}>"
