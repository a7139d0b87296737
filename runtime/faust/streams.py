"""Streams: the reference semantics of an agent's ``async for`` loop.

A Stream reads batches of messages from its source (the worker feeds one per agent),
decodes each message with its topic's schema, makes it the current event, and runs the
chain of operations in the order they were written::

    async for order in stream.filter(lambda o: o.amount > 1000).map(lambda o: o.account_id):
        ...

This is the meaning that ``faustc build`` compiles: a built worker fuses the same chain into
one loop per batch and must produce the same outputs (see tests/test_differential.py).
Operations may be plain or ``async`` functions, as in Faust.

The operations, and where we differ from Faust on purpose:

- ``filter(fun)``, ``map(fun)``, ``add_processor(fun)`` (in place, like Faust; a processor
  returns the new value) and ``processors=[...]`` (run first);
- ``echo(*topics)``: send each value (no key, as Faust) to every topic, then go on;
- ``rate_limit(rate, per=1.0)``: let at most ``rate`` values through per ``per`` seconds,
  delaying (never dropping) the rest;
- ``group_by(Record.field | fun, name=, partitions=)`` and ``through(topic)``: a stage
  boundary. The value, as computed by the operations written *before* the boundary, is
  sent to the repartition (or ``through``) topic, keyed by the new key (or the message's
  key); the operations after the boundary run on what is consumed back from that topic.
  Faust moves the earlier operations after the repartition (faust-streaming#553); we run
  them where they are written. The repartition topic is named as Faust names it:
  ``<agent name>-<topic>-<name>-repartition``, where ``name`` defaults to
  ``<Record>.<field>``;
- ``noack()``: events reaching the loop body are held back from the commit until
  ``event.ack()``; messages the chain filtered out are done;
- terminal: iterate values, ``items()``, ``events()``, ``enumerate(start=0)``, or
  ``take(max_, within=None)``. ``take`` gathers values across consumer batches into lists
  of ``max_``; a partial list is handed over once ``within`` seconds have passed since its
  first value (checked when a batch ends or the wait for one times out), and when the
  stream ends. Messages in a ``take`` buffer are held back from the commit until the loop
  body has processed their list.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from faust.contract import changes_value, group_by_name, repartition_topic_name
from faust.events import Event, Message, TransportMessage, set_current_event, set_current_message
from faust.exceptions import ImproperlyConfigured
from faust.models.fields import FieldDescriptor

if TYPE_CHECKING:
    from faust.app import App
    from faust.topics import Topic

T = TypeVar("T")
U = TypeVar("U")

#: ``(topic, partition)``, as the worker keys offsets
TP = tuple[str, int]


class Holds:
    """Messages a stream has taken but not finished with (``take`` buffers, ``noack`` events).

    The worker never commits a partition past the lowest offset held here. Example::

        holds = Holds()
        held = holds.message_list()      # a list the stream appends messages to
        holds.lowest()                   # {("orders", 0): 17}
    """

    def __init__(self) -> None:
        self._lists: list[list[TransportMessage]] = []
        self._events: dict[Event[Any, Any], None] = {}

    def message_list(self) -> list[TransportMessage]:
        """A new list whose messages are held until removed from it."""
        held: list[TransportMessage] = []
        self._lists.append(held)
        return held

    def hold_event(self, event: Event[Any, Any]) -> None:
        self._events[event] = None

    def release_event(self, event: Event[Any, Any]) -> None:
        self._events.pop(event, None)

    def clear(self) -> None:
        """Forget everything (the stream that held it is gone)."""
        for held in self._lists:
            held.clear()
        self._lists.clear()
        self._events.clear()

    def lowest(self) -> dict[TP, int]:
        """The lowest held offset of each partition."""
        lowest: dict[TP, int] = {}
        for held in self._lists:
            for message in held:
                tp = (message.topic() or "", message.partition() or 0)
                offset = message.offset() or 0
                if offset < lowest.get(tp, offset + 1):
                    lowest[tp] = offset
        for event in self._events:
            m = event.message
            if m.offset < lowest.get((m.topic, m.partition), m.offset + 1):
                lowest[(m.topic, m.partition)] = m.offset
        return lowest


class RateLimiter:
    """At most ``rate`` values per window of ``per`` seconds (``stream.rate_limit``).

    ``delay()`` counts one value and says how long to wait before it may go on (0.0: now).
    The clock is injectable for tests. Example::

        limiter = RateLimiter(100, per=1.0)
        wait = limiter.delay()
        if wait:
            await asyncio.sleep(wait)
    """

    def __init__(
        self,
        rate: float,
        per: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError("rate_limit(rate, per=...) needs a positive rate and period")
        self.rate = rate
        self.per = per
        self.clock = clock
        self.window_end = float("-inf")
        self.count = 0

    def delay(self) -> float:
        now = self.clock()
        if now >= self.window_end:
            self.window_end = now + self.per
            self.count = 1
            return 0.0
        if self.count < self.rate:
            self.count += 1
            return 0.0
        wait = self.window_end - now
        self.window_end += self.per
        self.count = 1
        return wait


class BatchSource(Protocol):
    """Where a stream's messages come from: the worker's feed for one agent or task."""

    #: the agent's (or task's) name: prefixes repartition topics
    name: str
    #: index in the current batch of the message being processed (for error recovery)
    position: int
    #: messages of the ``take`` list in the loop body's hands (for error recovery)
    chunk: list[TransportMessage] | None
    holds: Holds
    #: the clock ``take(within=)`` deadlines are kept by (the worker's)
    monotonic: Callable[[], float]

    async def next_batch(self, timeout: float | None = None) -> list[TransportMessage] | None:
        """The next batch; ``[]`` when ``timeout`` seconds pass first; None at the end."""
        ...

    def handle_error(self, exc: BaseException, message: TransportMessage, where: str) -> None:
        """Apply the error policy to ``message``: return to go on, raise to stop."""
        ...

    def add_topic(self, topic: Topic[Any, Any]) -> None:
        """Also feed this source the messages of ``topic`` (a stage after a boundary)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class Operation:
    """One step of a chain: ``filter``, ``map``, ``processor``, ``echo`` or ``rate_limit``."""

    kind: str
    fun: Callable[[Any], Any] | None = None
    topics: tuple[Topic[Any, Any], ...] = ()
    limiter: RateLimiter | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Boundary:
    """The end of a stage: values go to ``topic``, keyed by ``key(value)`` (None: same key).
    ``forward_value``: the stage left the value as it was decoded and ``topic`` carries the
    same type with the same serializer, so the message's own value bytes go on unchanged
    (a ``group_by`` without ``map`` before it: nothing is encoded again)."""

    kind: str  # "group_by" | "through"
    topic: Topic[Any, Any]
    key: Callable[[Any], Any] | None
    forward_value: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Stage:
    topic: Topic[Any, Any]
    operations: tuple[Operation, ...]
    boundary: Boundary


def repartition_topic(
    app: App,
    prefix: str,
    source: Topic[Any, Any],
    name: str,
    *,
    partitions: int | None,
    key_type: Any,
    same_value_type: bool,
) -> Topic[Any, Any]:
    """The repartition topic of a ``group_by`` (declared on ``app`` on first use).

    Keys of type str/bytes travel raw, other keys as JSON. The value keeps the source
    topic's type and serializer unless operations before ``group_by`` may have changed it;
    then it travels as JSON, Records with their ``__faust`` metadata.
    """
    topic_name = repartition_topic_name(prefix, source.get_topic_name(), name)
    existing = app.find_topic(topic_name)
    if existing is not None:
        if same_value_type and not carries_values_of(existing, source):
            # a group_by forwards its source's value bytes to this topic (Boundary)
            raise ImproperlyConfigured(
                f"topic {topic_name!r} is the repartition topic of a group_by on "
                f"{source.get_topic_name()!r}, but it is declared with another value type "
                "or serializer"
            )
        return existing
    simple_key = key_type if key_type in (str, bytes, int, float) else None
    return app.topic(
        topic_name,
        key_type=simple_key,
        value_type=source.value_type if same_value_type else None,
        key_serializer="raw" if simple_key in (str, bytes) else "json",
        value_serializer=source.value_serializer if same_value_type else "json",
        partitions=partitions or app.conf.topic_partitions,
        internal=True,
    )


def carries_values_of(topic: Topic[Any, Any], source: Topic[Any, Any]) -> bool:
    """Does ``topic`` read and write values as ``source`` does (same type, same
    serializer)? Then a value's bytes from ``source`` may go to ``topic`` unchanged."""
    return (
        topic.value_type is source.value_type and topic.value_serializer == source.value_serializer
    )


def derived_topic(app: App, source: Topic[Any, Any], name: str) -> Topic[Any, Any]:
    """``through("name")``: a topic with the source's types and serializers."""
    existing = app.find_topic(name)
    if existing is not None:
        return existing
    return app.topic(
        name,
        key_type=source.key_type,
        value_type=source.value_type,
        key_serializer=source.key_serializer,
        value_serializer=source.value_serializer,
    )


class Stream(Generic[T]):
    """An asynchronous iterator over the decoded values of a topic."""

    def __init__(
        self,
        channel: Topic[Any, Any],
        *,
        source: BatchSource | None = None,
        operations: Iterable[Operation] = (),
        processors: Iterable[Callable[[Any], Any]] | None = None,
        stages: tuple[Stage, ...] = (),
        prefix: str = "",
        enable_acks: bool = True,
    ) -> None:
        self.channel = channel
        self.source = source
        self.operations: tuple[Operation, ...] = (
            *(Operation("processor", fun) for fun in processors or ()),
            *operations,
        )
        self.stages = stages
        self.prefix = prefix
        self.enable_acks = enable_acks

    @property
    def app(self) -> App:
        return self.channel.app

    def _derive(self, operation: Operation) -> Stream[Any]:
        return Stream(
            self.channel,
            source=self.source,
            operations=(*self.operations, operation),
            stages=self.stages,
            prefix=self.prefix,
            enable_acks=self.enable_acks,
        )

    # -- building the chain ----------------------------------------------------------------

    def filter(self, fun: Callable[[T], bool | Awaitable[bool]]) -> Stream[T]:
        """Keep the values for which ``fun`` is true."""
        return self._derive(Operation("filter", fun))

    @overload
    def map(self, fun: Callable[[T], Awaitable[U]]) -> Stream[U]: ...
    @overload
    def map(self, fun: Callable[[T], U]) -> Stream[U]: ...
    def map(self, fun: Callable[[T], Any]) -> Stream[Any]:
        """Replace each value by ``fun(value)`` (awaited when ``fun`` is ``async``)."""
        return self._derive(Operation("map", fun))

    def add_processor(self, processor: Callable[[T], Any]) -> None:
        """Add a processor to this stream, in place: ``value = processor(value)``."""
        self.operations = (*self.operations, Operation("processor", processor))

    def echo(self, *topics: Topic[Any, Any] | str) -> Stream[T]:
        """Send each value to ``topics`` (without a key, as Faust does), and go on."""
        resolved = tuple(
            derived_topic(self.app, self.channel, t) if isinstance(t, str) else t for t in topics
        )
        return self._derive(Operation("echo", topics=resolved))

    def rate_limit(self, rate: float, *, per: float = 1.0) -> Stream[T]:
        """Let at most ``rate`` values per ``per`` seconds through; delay the others."""
        return self._derive(Operation("rate_limit", limiter=RateLimiter(rate, per)))

    def noack(self) -> Stream[T]:
        """A stream whose events are committed only after ``event.ack()``."""
        return Stream(
            self.channel,
            source=self.source,
            operations=self.operations,
            stages=self.stages,
            prefix=self.prefix,
            enable_acks=False,
        )

    @overload
    def group_by(
        self, key: Callable[[T], Any], *, name: str, partitions: int | None = None
    ) -> Stream[T]: ...
    @overload
    def group_by(
        self, key: object, *, name: str | None = None, partitions: int | None = None
    ) -> Stream[T]: ...
    def group_by(
        self,
        key: object,
        *,
        name: str | None = None,
        partitions: int | None = None,
    ) -> Stream[T]:
        """Repartition by a new key: a Record field (``Order.account_id``, which mypy sees
        as the field's value) or a function of the value (then ``name=`` is required)."""
        key_fun: Callable[[Any], Any]
        if isinstance(key, FieldDescriptor):
            field = key.field
            name = name or group_by_name(key.model.__name__ if key.model else "?", field)
            key_type: Any = key.type

            def key_fun(value: Any) -> Any:
                return getattr(value, field)

        elif callable(key):
            if not name:
                raise TypeError("group_by(<function>) needs name=<topic suffix>")
            key_type = None
            key_fun = key
        else:
            raise TypeError(f"group_by key must be a Record field or a function, not {key!r}")
        same_value_type = not any(changes_value(op.kind) for op in self.operations)
        topic = repartition_topic(
            self.app,
            self.prefix,
            self.channel,
            name,
            partitions=partitions,
            key_type=key_type,
            same_value_type=same_value_type,
        )
        forward = same_value_type and carries_values_of(topic, self.channel)
        return self._boundary(Boundary("group_by", topic, key_fun, forward))

    def through(self, topic: Topic[Any, Any] | str) -> Stream[T]:
        """Send each value (with its key) to ``topic``; go on with what is consumed from it."""
        resolved = derived_topic(self.app, self.channel, topic) if isinstance(topic, str) else topic
        return self._boundary(Boundary("through", resolved, None))

    def _boundary(self, boundary: Boundary) -> Stream[Any]:
        stage = Stage(self.channel, self.operations, boundary)
        return Stream(
            boundary.topic,
            source=self.source,
            stages=(*self.stages, stage),
            prefix=self.prefix,
            enable_acks=self.enable_acks,
        )

    # -- iterating -------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[T]:
        return self._values()

    def items(self) -> AsyncIterator[tuple[Any, T]]:
        """Iterate ``(key, value)`` pairs."""
        return self._items()

    def events(self) -> AsyncIterator[Event[Any, T]]:
        """Iterate the events themselves (``event.key``, ``event.value``, ``event.message``)."""
        return self._events()

    def enumerate(self, start: int = 0) -> AsyncIterator[tuple[int, T]]:
        """Iterate ``(index, value)`` pairs, counting the values that reach the loop."""
        return self._enumerate(start)

    def take(self, max_: int, within: float | None = None) -> AsyncIterator[list[T]]:
        """Iterate lists of up to ``max_`` values (see the module docstring)."""
        if max_ < 1:
            raise ValueError("take(max_) needs max_ >= 1")
        return self._take(max_, within)

    # -- what compiled agents use ----------------------------------------------------------

    async def batches(self) -> AsyncIterator[list[TransportMessage]]:
        """The raw batches (what a compiled agent loops over)."""
        source = self._require_source()
        while True:
            batch = await source.next_batch()
            if batch is None:
                return
            yield batch

    async def next_batch(self, timeout: float | None = None) -> list[TransportMessage] | None:
        """The next raw batch; ``[]`` when ``timeout`` seconds pass first; None at the end."""
        return await self._require_source().next_batch(timeout)

    def handle_error(self, exc: BaseException, message: TransportMessage, where: str) -> None:
        """Give a failed message to the error policy (raises when the policy is ``fail``)."""
        self._require_source().handle_error(exc, message, where)

    def handle_chunk_error(
        self, exc: BaseException, messages: list[TransportMessage], where: str
    ) -> None:
        """Give every message of a failed ``take`` list to the error policy."""
        source = self._require_source()
        for message in messages:
            source.handle_error(exc, message, where)

    def consume_topic(self, topic: Topic[Any, Any]) -> None:
        """Have this stream's source deliver the messages of ``topic`` too."""
        self._require_source().add_topic(topic)

    @property
    def holds(self) -> Holds:
        return self._require_source().holds

    def clock(self) -> Callable[[], float]:
        """The monotonic clock of the worker feeding this stream (``take(within=)``)."""
        return self._require_source().monotonic

    # -- the reference loop ----------------------------------------------------------------

    async def _values(self) -> AsyncIterator[T]:
        async for _, _, value in self._run():
            yield value

    async def _items(self) -> AsyncIterator[tuple[Any, T]]:
        async for _, event, value in self._run():
            yield event.key, value

    async def _events(self) -> AsyncIterator[Event[Any, T]]:
        async for _, event, _ in self._run():
            yield event

    async def _enumerate(self, start: int) -> AsyncIterator[tuple[int, T]]:
        index = start
        async for _, _, value in self._run():
            yield index, value
            index += 1

    async def _take(self, max_: int, within: float | None) -> AsyncIterator[list[T]]:
        source = self._require_source()
        clock = source.monotonic
        buffer: list[T] = []
        held = source.holds.message_list()
        deadline = 0.0

        def wait() -> float | None:
            if not buffer or within is None:
                return None
            return max(0.0, deadline - clock())

        async for message, _, value in self._run(wait, batch_ends=True):
            if message is not None:
                if not buffer and within is not None:
                    deadline = clock() + within
                buffer.append(value)
                held.append(message)
                if len(buffer) < max_:
                    continue
            elif not buffer or within is None or clock() < deadline:
                continue
            chunk, buffer = buffer, []
            source.chunk = held[:]
            yield chunk
            source.chunk = None
            held.clear()
        if buffer:
            source.chunk = held[:]
            yield buffer
            source.chunk = None
            held.clear()

    async def _run(
        self,
        wait: Callable[[], float | None] = lambda: None,
        *,
        batch_ends: bool = False,
    ) -> AsyncIterator[tuple[TransportMessage | None, Event[Any, Any], Any]]:
        """Decode, make current, run the operations of the message's stage; yield what
        reaches the loop. With ``batch_ends``, also yield ``(None, None, None)`` after each
        batch and each timed-out wait."""
        source = self._require_source()
        app = self.app
        holds = None if self.enable_acks else source.holds
        stages = [*self.stages, Stage(self.channel, self.operations, _LAST)]
        plans: dict[str, _StagePlan] = {}
        for index, stage in enumerate(stages):
            if index:
                source.add_topic(stage.topic)
            plans[stage.topic.get_topic_name()] = _StagePlan(stage)
        where = f"stream of {self.channel!r}"
        while True:
            batch = await source.next_batch(wait())
            if batch is None:
                return
            for index, message in enumerate(batch):
                source.position = index
                set_current_message(message)  # tables write to this message's partition
                plan = plans[message.topic() or ""]
                try:
                    # loaders read headers when their codec wants them (the avro-confluent
                    # header form carries the schema id there)
                    raw_headers = message.headers()
                    key = plan.load_key(message.key(), raw_headers)
                    value = plan.load_value(message.value(), raw_headers)
                    headers = list(raw_headers or ())
                    event: Event[Any, Any] = Event(
                        app, key, value, headers, Message.from_transport(message), holds=holds
                    )
                    set_current_event(event)
                    keep = True
                    for operation in plan.operations:
                        kind = operation.kind
                        if kind == "filter":
                            assert operation.fun is not None
                            result = operation.fun(value)
                            if inspect.isawaitable(result):
                                result = await result
                            if not result:
                                keep = False
                                break
                        elif kind == "echo":
                            for topic in operation.topics:
                                topic.send_soon(value=value)
                        elif kind == "rate_limit":
                            assert operation.limiter is not None
                            delay = operation.limiter.delay()
                            if delay:
                                await asyncio.sleep(delay)
                        else:
                            assert operation.fun is not None
                            value = operation.fun(value)
                            if inspect.isawaitable(value):
                                value = await value
                    boundary = plan.boundary
                    if keep and boundary is not _LAST:
                        keep = False
                        new_key = key
                        if boundary.key is not None:
                            new_key = boundary.key(value)
                            if inspect.isawaitable(new_key):
                                new_key = await new_key
                        boundary.topic.send_soon(
                            key=new_key,
                            value=message.value() if boundary.forward_value else value,
                            headers=headers or None,
                        )
                except Exception as exc:
                    source.handle_error(exc, message, where)
                    continue
                if keep:
                    if holds is not None:
                        holds.hold_event(event)
                    yield message, event, value
            if batch_ends:
                yield None, None, None  # type: ignore[misc]

    def _require_source(self) -> BatchSource:
        if self.source is None:
            self.source = self.app.attach_stream(self)
        return self.source

    def __repr__(self) -> str:
        chain = "".join(f".{op.kind}(...)" for op in self.operations)
        return f"<Stream: {self.channel!r}{chain}>"


#: the boundary of the last stage: values go to the loop body
_LAST = Boundary("loop", None, None)  # type: ignore[arg-type]


class _StagePlan:
    __slots__ = ("boundary", "load_key", "load_value", "operations")

    def __init__(self, stage: Stage) -> None:
        self.load_key = stage.topic.key_loader()
        self.load_value = stage.topic.value_loader()
        self.operations = stage.operations
        self.boundary = stage.boundary
