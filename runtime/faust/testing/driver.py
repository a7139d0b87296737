"""Driving a whole App in a test: the real worker on an in-memory broker, time by hand.

An :class:`AppDriver` starts the App's worker (the same ``faust.worker.Worker`` a
deployment runs: runners, error policies, tables, timers, commits) on a private
:class:`~faust.transport.memory.MemoryTransport`, with a
:class:`~faust.testing.clock.ManualClock`. A test sends records, runs the worker until
nothing is left to do, and reads what came out: decoded records, tables, dead letters,
the error policies' counts. Time moves only by :meth:`AppDriver.advance_time`, which fires
timers and crontabs at their times, hands over ``take(within=)`` lists and expires windows
(``on_window_close``), without sleeping. Example::

    with AppDriver(app) as driver:                      # the reference runtime
        driver.send("orders", key="a", value=Order("o1", "a", 1500.0))
        driver.run()                                     # until every agent is idle
        assert driver.records("big-orders") == [("a", Order("o1", "a", 1500.0))]
        assert driver.table("totals")["a"] == 1500.0
        driver.advance_time(60)

``AppDriver(app, compiled_agents=worker.COMPILED_AGENTS)`` runs a built worker's fused
agents instead; ``faustc.testing.TestDriver`` builds the worker and does that. Each driver
starts from nothing: a new broker, tables emptied when its worker takes them over, a new
data directory. The worker runs on an event loop of its own, in a thread, so the driver's
methods are plain calls, from a test function that is ``async`` or not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import shutil
import tempfile
import threading
import uuid
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from faust.agents import CORRELATION_ID_HEADER, REPLY_TO_HEADER
from faust.contract import reply_topic_name
from faust.models.record import maybe_model
from faust.serializers import generated
from faust.serializers.codecs import json_loads
from faust.testing.clock import ManualClock
from faust.transport.memory import MemoryMessage, MemoryTransport
from faust.worker.errors import AgentFailure
from faust.worker.worker import Worker

if TYPE_CHECKING:
    from faust.agents import Agent
    from faust.app import App
    from faust.tables.base import Table
    from faust.topics import Topic
    from faust.worker.errors import ErrorPolicy

T = TypeVar("T")

#: seconds a call waits for the worker before it says the app does not become idle
DEFAULT_TIMEOUT = 60.0

HeadersArg = Mapping[str, str | bytes] | list[tuple[str, str | bytes]] | None

_drivers = itertools.count()


@dataclasses.dataclass(frozen=True)
class SentMessage:
    """A record some agent (or the test) wrote to a topic, decoded with that topic's
    schema when the app declares the topic (else the raw bytes)."""

    topic: str
    partition: int
    offset: int
    key: Any
    value: Any
    headers: list[tuple[str, bytes]]
    #: seconds since the epoch
    timestamp: float


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    """A message the ``dead-letter`` policy sent away: its original bytes and why."""

    #: where it was consumed
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    #: ``ValueError: amount must be positive``
    error: str
    #: the agent, and the user's source line (``shop.py:31``)
    agent: str
    source: str
    #: the dead-letter topic it went to
    dead_letter_topic: str


class AppDriver:
    """Runs ``app`` broker-free for a test (see the module docstring).

    ``compiled_agents``: a built worker's ``COMPILED_AGENTS`` (None: the app's own agents,
    with the reference codecs). ``store``: the tables' store for this driver (``memory://``
    or ``rocksdb://``, in a temporary data directory). ``start_time``: the clock's time at
    the start (default: now). ``timeout``: seconds a call waits for the worker.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: App,
        *,
        compiled_agents: Mapping[str, Any] | None = None,
        store: str | None = "memory://",
        start_time: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.app = app
        self.compiled = compiled_agents is not None
        self.clock = ManualClock(start_time)
        self.transport = MemoryTransport.named(f"driver-{app.id}-{next(_drivers)}")
        self.broker = self.transport.broker
        self.timeout = timeout
        self.worker = Worker(
            app, compiled_agents=compiled_agents, transport=self.transport, clock=self.clock
        )
        self._store = store
        self._saved: dict[str, Any] = {}
        self._data_directory: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._suspended: Any = None
        self._failed: BaseException | None = None
        self._closed = False

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> Self:
        """Start the worker (``with AppDriver(app) as driver`` calls it)."""
        app = self.app
        if app.running is not None:
            raise RuntimeError(
                f"app {app.id!r} is already running (another driver or test context is "
                "open): close it first"
            )
        self._data_directory = tempfile.mkdtemp(prefix=f"faust-driver-{app.id}-")
        conf = app.conf
        self._saved = {"datadir": conf.datadir, "store": conf.store}
        conf.datadir = self._data_directory
        if self._store is not None:
            conf.store = self._store
        if not self.compiled:
            self._suspended = generated.suspended(app)
            self._suspended.__enter__()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"faust driver {app.id}", daemon=True
        )
        self._thread.start()
        try:
            self._call(self.worker.start())
        except BaseException:
            self._shutdown()
            raise
        return self

    def close(self) -> None:
        """Stop the worker (it commits and closes, as at a clean shutdown); tables stay
        readable. Called by the ``with`` block."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._failed is None and self._loop is not None:
                self._call(self.worker.stop())
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None:
            # what a failed worker left running (its agents), then the loop's generators
            asyncio.run_coroutine_threadsafe(_cancel_tasks(), loop).result(self.timeout)
            asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(self.timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
        self._loop = self._thread = None
        if self._suspended is not None:
            self._suspended.__exit__(None, None, None)
            self._suspended = None
        for name, value in self._saved.items():
            setattr(self.app.conf, name, value)
        self._saved = {}
        if self._data_directory is not None:
            shutil.rmtree(self._data_directory, ignore_errors=True)
            self._data_directory = None
        self._closed = True

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- input ------------------------------------------------------------------------------

    def send(
        self,
        topic: str | Topic[Any, Any],
        key: Any = None,
        value: Any = None,
        *,
        partition: int | None = None,
        headers: HeadersArg = None,
        timestamp: float | None = None,
    ) -> SentMessage:
        """Write a record to ``topic`` as a producer would: key and value encoded with the
        topic's schema (bytes go as they are: what a producer in another language sends,
        or a message that will not decode; a topic the app does not declare takes bytes
        or text), partitioned by the key unless ``partition`` is given; ``timestamp`` in
        seconds (default: the clock's time). Returns where it went, with the key and
        value as given. Nothing is processed until :meth:`run`."""
        name = topic if isinstance(topic, str) else topic.get_topic_name()
        declared = self.app.find_topic(name)
        if declared is not None:
            raw_key = declared.schema.dumps_key(key)
            raw_value = declared.schema.dumps_value(value)
        else:
            raw_key, raw_value = _as_bytes(key, "key"), _as_bytes(value, "value")
            self.broker.create_topic(name, self.app.conf.topic_partitions)
        if name not in self.broker.topics:
            raise KeyError(f"topic {name!r} does not exist (the worker creates declared topics)")
        stamp = self.clock.time() if timestamp is None else timestamp
        message = self.broker.append(
            name,
            raw_key,
            raw_value,
            partition=partition,
            headers=_headers(headers),
            timestamp_ms=int(stamp * 1000),
        )
        return SentMessage(
            topic=name,
            partition=message.partition(),
            offset=message.offset(),
            key=key,
            value=value,
            headers=list(message.headers() or ()),
            timestamp=stamp,
        )

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Process until every agent is idle: no message left on any topic the app reads
        (repartition topics, agent-to-agent sends included) and the timers and tasks that
        woke have run. A crash under the ``fail`` policy raises the agent's own exception,
        with a note naming the agent, its source line and the message."""
        self._call(self.worker.run_until_idle())

    def advance_time(self, seconds: float) -> None:
        """Move the clock ``seconds`` ahead, stopping at every timer's and crontab's time on
        the way (each fires at its own time, and what it sends is processed), then hand
        over the ``take(within=)`` lists that are due, expire the windows that are due
        (``on_window_close``) and run until idle."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._call(self._advance(seconds))

    async def _advance(self, seconds: float) -> None:
        clock, worker = self.clock, self.worker
        target = clock.now + seconds
        while True:
            wakeup = clock.next_wakeup()
            if wakeup is None or wakeup > target:
                break
            clock.now = max(clock.now, wakeup)
            clock.wake_due()
            await worker.run_until_idle()
        clock.now = target
        clock.wake_due()
        await worker.tick()
        await worker.run_until_idle()

    def ask(self, agent: Agent[Any] | str, value: Any = None, *, key: Any = None) -> Any:
        """``agent.ask(value)`` from outside: send the request, run until idle, and return
        what the agent yielded for it (LookupError when it yielded nothing)."""
        found = self.app.agents[agent] if isinstance(agent, str) else agent
        reply_to = reply_topic_name(self.app.id, self.app.conf.reply_to)
        self.broker.create_topic(reply_to, 1)
        correlation_id = uuid.uuid4().hex
        headers: list[tuple[str, str | bytes]] = [
            (REPLY_TO_HEADER, reply_to),
            (CORRELATION_ID_HEADER, correlation_id),
        ]
        self.send(found.channel, key=key, value=value, headers=headers)
        self.run()
        for message in self.broker.records(reply_to):
            reply = json_loads(message.value() or b"null")
            if isinstance(reply, dict) and reply.get("correlation_id") == correlation_id:
                return maybe_model(reply.get("value"))
        raise LookupError(f"agent {found.name} yielded nothing for {value!r}")

    # -- output -----------------------------------------------------------------------------

    def records(self, topic: str | Topic[Any, Any]) -> list[tuple[Any, Any]]:
        """``(key, value)`` of every record on ``topic``, decoded with its schema,
        partition by partition, each partition in order."""
        return [(m.key, m.value) for m in self.messages(topic)]

    def messages(self, topic: str | Topic[Any, Any]) -> list[SentMessage]:
        """Every record on ``topic`` with its partition, offset, headers and timestamp."""
        name = topic if isinstance(topic, str) else topic.get_topic_name()
        return [self._decoded(message) for message in self.broker.records(name)]

    def table(self, name: str) -> Table[Any, Any]:
        """The app's table called ``name``: what the agents wrote (a ``memory://`` table
        stays readable after :meth:`close`)."""
        try:
            return self.app.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.app.tables)) or "none"
            raise KeyError(f"app {self.app.id!r} has no table {name!r} (tables: {known})") from None

    def dead_letters(self, topic: str | None = None) -> list[DeadLetter]:
        """The messages the ``dead-letter`` policy sent away (those consumed from ``topic``
        only, when given), with their original bytes and the error."""
        letters = []
        for name in sorted(self.broker.topics):
            for message in self.broker.records(name):
                headers = dict(message.headers() or ())
                if "faust.error" not in headers:
                    continue
                letter = DeadLetter(
                    topic=headers["faust.topic"].decode(),
                    partition=int(headers["faust.partition"]),
                    offset=int(headers["faust.offset"]),
                    key=message.key(),
                    value=message.value(),
                    error=headers["faust.error"].decode(),
                    agent=headers["faust.agent"].decode(),
                    source=headers["faust.source"].decode(),
                    dead_letter_topic=name,
                )
                if topic is None or letter.topic == topic:
                    letters.append(letter)
        return letters

    @property
    def policies(self) -> dict[str, ErrorPolicy]:
        """Each agent's error policy, with its counts (``skipped``, ``dead_lettered``,
        ``decode_errors``, ``agent_errors``)."""
        return self.worker.policies

    def _decoded(self, message: MemoryMessage) -> SentMessage:
        declared = self.app.find_topic(message.topic())
        headers = list(message.headers() or ())
        key: Any = message.key()
        value: Any = message.value()
        if declared is not None:
            key = declared.schema.loads_key(key, headers)
            value = declared.schema.loads_value(value, headers)
        return SentMessage(
            topic=message.topic(),
            partition=message.partition(),
            offset=message.offset(),
            key=key,
            value=value,
            headers=headers,
            timestamp=message.timestamp()[1] / 1000,
        )

    # -- the worker's thread ----------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the worker's loop and wait for it."""
        if self._failed is not None or self._loop is None:
            coroutine.close()
            raise RuntimeError(
                "this driver is closed"
                + (f" (the app failed: {self._failed})" if self._failed is not None else "")
            )
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            self._failed = TimeoutError("it did not become idle")
            raise TimeoutError(
                f"app {self.app.id!r} did not become idle within {self.timeout:.0f} s "
                "(an agent or timer that never finishes?)"
            ) from None
        except AgentFailure as failure:
            self._failed = failure
            raise _user_error(failure) from None


async def _cancel_tasks() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _user_error(failure: AgentFailure) -> BaseException:
    """The agent's own exception, noted with where it happened; else the failure."""
    cause = failure.__cause__
    if isinstance(cause, Exception) and not isinstance(cause, AgentFailure):
        cause.add_note(f"faust: {failure}")
        return cause
    return failure


def _as_bytes(data: Any, what: str) -> bytes | None:
    if data is None or isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode()
    raise TypeError(f"a {what} sent to a topic the app does not declare must be bytes or str")


def _headers(headers: HeadersArg) -> list[tuple[str, bytes]] | None:
    if headers is None:
        return None
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(name, value.encode() if isinstance(value, str) else value) for name, value in items]
