"""Feeds and runners: how the worker hands batches to agents and to ``app.stream()`` loops.

A :class:`Feed` is a stream's ``BatchSource``. The contract::

    await feed.process(batch)     # returns once the stream asks for the next batch,
                                  # i.e. when every message of ``batch`` has been processed

so the worker knows when a batch is done without per-message bookkeeping. What a stream
keeps past that point (a ``take`` buffer, ``noack`` events) is in ``feed.holds``, and the
worker commits below it (:meth:`Feed.held_offsets`).

An :class:`AgentRunner` is a feed that runs one instance of an agent as an asyncio task.
A compiled agent loops over ``stream.batches()`` and catches per-message errors itself;
an uncompiled agent that raises is restarted on the rest of the batch when the policy says
go on (its local variables start afresh, as when Faust restarts a crashed agent). What an
agent yields goes to its sinks and to the asker (``agent.ask``). ``concurrency=N`` runs N
instances (:class:`ConcurrentAgent`); each message goes to the instance chosen by its key,
so the order of each key is kept.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import traceback
import zlib
from collections.abc import AsyncIterable, Callable
from typing import TYPE_CHECKING, Any

from faust.agents import Agent, AgentFun, unwrap_request
from faust.events import TransportMessage, current_event
from faust.streams import Holds, Stream
from faust.worker.errors import AgentFailure, ErrorPolicy
from faust.worker.sensors import CurrentMessages, current_agent

if TYPE_CHECKING:
    from faust.topics import Topic

log = logging.getLogger("faust.agents")

#: what the worker's wait for a batch ends with when the agent detached it (``ask()``)
_DETACHED = object()

TP = tuple[str, int]


class Feed:
    """A queue of batches between the worker and one consuming stream."""

    def __init__(self, name: str, topic: str, policy: ErrorPolicy) -> None:
        self.name = name
        self.policy = policy
        #: the topics whose messages this feed takes (a boundary adds its topic)
        self.topics: list[str] = [topic]
        #: called with a topic name when a stream adds one (the worker subscribes to it)
        self.on_new_topic: Callable[[str], None] | None = None
        self.holds = Holds()
        #: index in the batch in hand of the message being processed (uncompiled agents)
        self.position = 0
        #: the messages of the ``take`` list the loop body holds (uncompiled agents)
        self.chunk: list[TransportMessage] | None = None
        #: the worker's clock (``faust.worker.clock``): ``take(within=)`` deadlines
        self.monotonic: Callable[[], float] = time.monotonic
        #: set once the stream has asked for its first batch (its topics are known)
        self.ready = asyncio.Event()
        self._batch: list[TransportMessage] = []
        #: each queued batch travels with the future that says "processed"
        self._queue: asyncio.Queue[tuple[list[TransportMessage] | None, asyncio.Future[None]]]
        self._queue = asyncio.Queue()
        #: the future of the batch the worker is waiting on (queued or in the stream's hands)
        self._done: asyncio.Future[None] | None = None
        #: the future of the batch the stream holds; resolved when it asks for the next one
        self._holding: asyncio.Future[None] | None = None

    # -- the stream's side (BatchSource) ---------------------------------------------------

    async def next_batch(self, timeout: float | None = None) -> list[TransportMessage] | None:
        self.ready.set()
        holding = self._holding
        if holding is not None and not holding.done():
            holding.set_result(None)
        self._holding = None
        if timeout is None:
            batch, done = await self._queue.get()
        else:
            try:
                batch, done = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                self._batch = []
                return []
        self._holding = done
        self._batch = batch or []
        self.position = 0
        return batch

    def handle_error(self, exc: BaseException, message: TransportMessage, where: str) -> None:
        self.policy.handle(exc, message, self.name, where)

    def add_topic(self, topic: Topic[Any, Any]) -> None:
        name = topic.get_topic_name()
        if name not in self.topics:
            self.topics.append(name)
            if self.on_new_topic is not None:
                self.on_new_topic(name)

    # -- the worker's side -----------------------------------------------------------------

    def held_offsets(self) -> dict[TP, int]:
        return self.holds.lowest()

    async def process(self, batch: list[TransportMessage]) -> None:
        """Hand ``batch`` to the stream and wait until it has processed all of it."""
        self._done = done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((batch, done))
        await done

    async def stop(self, timeout: float) -> None:
        """End the stream (its ``async for`` finishes)."""
        self._done = done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((None, done))


class TaskFeed(Feed):
    """The feed of an ``app.stream(topic)`` loop inside an ``@app.task``."""

    def __init__(self, name: str, topic: str, policy: ErrorPolicy) -> None:
        super().__init__(name, topic, policy)
        self.owner: asyncio.Task[Any] | None = asyncio.current_task()

    async def process(self, batch: list[TransportMessage]) -> None:
        owner = self.owner
        if owner is not None and owner.done():
            return  # the task is gone; its stream takes nothing more
        self._done = done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((batch, done))
        waiters: set[asyncio.Future[Any]] = {done}
        if owner is not None:
            waiters.add(owner)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if done.done():
            done.result()


class AgentRunner(Feed):
    """Drives ``fun`` (the agent's own function, or its compiled replacement)."""

    def __init__(self, agent: Agent[Any], fun: AgentFun, policy: ErrorPolicy) -> None:
        super().__init__(agent.name, agent.channel.get_topic_name(), policy)
        self.agent = agent
        self.fun = fun
        self.topic = self.topics[0]
        #: whether the agent yields (known once it started; its results go to sinks)
        self.yields: bool | None = None
        self._task: asyncio.Task[None] | None = None
        #: the future of the batch the worker is waiting on (None: it waits on none)
        self._awaited: asyncio.Future[Any] | None = None
        #: batches handed over while the agent waits on ``ask()`` replies (detached):
        #: held back from the commit until processed
        self._inflight: list[tuple[list[TransportMessage], asyncio.Future[Any]]] = []
        #: what the agent raised while detached (the worker fails at its next batch)
        self._failure: BaseException | None = None

    def runs(self, task: asyncio.Task[Any] | None) -> bool:
        """Is ``task`` this runner's agent?"""
        return task is not None and task is self._task

    def detach(self) -> None:
        """The agent waits on ``ask()`` replies in the middle of its batch: let the worker
        go on (the requests it sent must be consumed by the same loop) and keep the batch
        in flight, held back from the commit until the agent asks for its next one."""
        awaited: asyncio.Future[Any] | None = self._awaited
        if awaited is None or awaited.done() or self._holding is not awaited:
            return  # the worker is not waiting on this batch (a task asked, or detached)
        assert awaited is not None
        inner: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._holding = self._done = inner
        self._track(self._batch, inner)
        awaited.set_result(_DETACHED)

    def in_flight(self) -> bool:
        """Batches handed over and not processed yet, the worker not waiting (detached)."""
        return bool(self._inflight)

    def _track(self, batch: list[TransportMessage], future: asyncio.Future[Any]) -> None:
        self._inflight.append((batch, future))
        future.add_done_callback(self._settled)

    def _settled(self, future: asyncio.Future[Any]) -> None:
        self._inflight = [entry for entry in self._inflight if entry[1] is not future]
        if not future.cancelled() and future.exception() is not None:
            self._failure = self._failure or future.exception()

    def held_offsets(self) -> dict[TP, int]:
        held = self.holds.lowest()
        for batch, _ in self._inflight:
            for message in batch:
                tp = (message.topic() or "", message.partition() or 0)
                offset = message.offset() or 0
                held[tp] = min(offset, held.get(tp, offset))
        return held

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"agent {self.agent.name}")

    async def _run(self) -> None:
        current_agent.set(self.agent.name)  # this task's sends are the agent's (sensors)
        stream: Stream[Any] = Stream(self.agent.channel, source=self, prefix=self.agent.name)
        if not self.agent.use_reply_headers:  # requests arrive in Faust's envelope
            stream.add_processor(unwrap_request)
        try:
            result = self.fun(stream)
            self.yields = isinstance(result, AsyncIterable)
            if isinstance(result, AsyncIterable):
                deliver = self.agent.deliverer()
                async for value in result:
                    event = current_event() if self.chunk is None else None
                    key, headers = (event.key, event.headers) if event is not None else (None, None)
                    pending = deliver(value, key, headers)
                    if pending is not None:
                        await pending
            else:
                await result
        except Exception as exc:
            done = self._done
            if done is not None and not done.done():
                done.set_exception(exc)
            else:
                raise
        else:
            done = self._done
            if done is not None and not done.done():
                done.set_result(None)
        finally:
            self.ready.set()

    async def process(self, batch: list[TransportMessage]) -> None:
        """Hand ``batch`` to the agent and wait until it has processed all of it."""
        task = self._task
        assert task is not None, "start() the runner first"
        failure = self._failure
        if failure is not None:
            raise AgentFailure(
                f"agent {self.agent.name} raised while it waited on ask() replies: "
                f"{type(failure).__name__}: {failure}"
            ) from failure
        if task.done():
            raise self._stopped_error(task)
        self._done = done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((batch, done))
        if self._inflight:  # detached: queued behind the batches in flight, not awaited
            self._track(batch, done)
            return
        self._awaited = done
        try:
            if await done is _DETACHED:
                return  # the agent waits on ask() replies; its batch is in flight
        except AgentFailure:
            raise
        except Exception as exc:
            if not self._batch and self.chunk is None:  # raised before its first batch
                raise self._stopped_error(task) from exc
            where = self._user_line(exc)
            chunk, self.chunk = self.chunk, None
            if chunk is not None:  # the loop body failed on a `take` list
                for message in chunk:
                    self.policy.handle(exc, message, self.agent.name, where)
            else:  # an uncompiled agent's body raised while it held batch[position]
                self.policy.handle(exc, self._batch[self.position], self.agent.name, where)
            rest = self._batch[self.position + 1 :]
            self.holds.clear()
            self.start()
            if rest:
                await self.process(rest)
            return

    async def stop(self, timeout: float) -> None:
        """End the agent's stream so code after its loop runs, then wait for it."""
        task = self._task
        if task is None or task.done():
            return
        self._done = done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((None, done))
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            log.warning(
                "agent %s did not finish within %.0fs; cancelling it", self.agent.name, timeout
            )
            task.cancel()
        except Exception:
            log.exception("agent %s failed while stopping", self.agent.name)

    def _user_line(self, exc: BaseException) -> str:
        """``file.py:line`` of the innermost frame in the agent's own source file."""
        code = getattr(self.fun, "__code__", None)
        filename = code.co_filename if code is not None else None
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename == filename:
                return f"{os.path.basename(frame.filename)}:{frame.lineno}"
        return f"agent {self.agent.name}"

    def _stopped_error(self, task: asyncio.Task[None]) -> AgentFailure:
        exc = None if task.cancelled() else task.exception()
        if isinstance(exc, AgentFailure):
            return exc
        if exc is not None:
            failure = AgentFailure(f"agent {self.agent.name} crashed: {type(exc).__name__}: {exc}")
            failure.__cause__ = exc
            return failure
        return AgentFailure(
            f"agent {self.agent.name} returned while its topic still had messages; "
            "an agent must iterate its stream for as long as the worker runs"
        )


class ConcurrentAgent:
    """``concurrency=N``: N runners of one agent; a message goes to the one its key picks."""

    def __init__(self, runners: list[AgentRunner]) -> None:
        self.runners = runners
        self.name = runners[0].name
        self.topics = runners[0].topics
        self.ready = runners[0].ready

    def start(self) -> None:
        for runner in self.runners:
            runner.start()

    async def wait_ready(self) -> None:
        await asyncio.gather(*(runner.ready.wait() for runner in self.runners))

    def held_offsets(self) -> dict[TP, int]:
        lowest: dict[TP, int] = {}
        for runner in self.runners:
            for tp, offset in runner.held_offsets().items():
                lowest[tp] = min(offset, lowest.get(tp, offset))
        return lowest

    async def process(self, batch: list[TransportMessage]) -> None:
        if not batch:  # a timed-out poll: every instance looks at its deadlines
            await asyncio.gather(*(runner.process([]) for runner in self.runners))
            return
        count = len(self.runners)
        parts: list[list[TransportMessage]] = [[] for _ in range(count)]
        crc32 = zlib.crc32
        for message in batch:
            key = message.key()
            index = crc32(key) % count if key is not None else (message.offset() or 0) % count
            parts[index].append(message)
        if isinstance(batch, CurrentMessages):  # tracing: the parts mark messages too
            parts = [batch.part(part) for part in parts]
        await asyncio.gather(
            *(
                runner.process(part)
                for runner, part in zip(self.runners, parts, strict=True)
                if part
            )
        )

    async def stop(self, timeout: float) -> None:
        await asyncio.gather(*(runner.stop(timeout) for runner in self.runners))


class IsolatedAgent:
    """``isolated_partitions=True``: one runner of the agent per partition, as Faust runs
    one actor per partition (each a run of the agent function with its own locals),
    started at the partition's first message and stopped when the partition is revoked
    (a later assignment starts a fresh one)."""

    def __init__(self, make: Callable[[], AgentRunner], name: str, topics: list[str]) -> None:
        self.make = make
        self.name = name
        self.topics = topics
        self.ready = asyncio.Event()
        self.ready.set()  # instances appear with their partitions
        self.instances: dict[int, AgentRunner] = {}
        self._stopping: set[asyncio.Task[None]] = set()

    @property
    def runners(self) -> list[AgentRunner]:
        return list(self.instances.values())

    def start(self) -> None:
        return None

    def _instance(self, partition: int) -> AgentRunner:
        runner = self.instances.get(partition)
        if runner is None:
            runner = self.instances[partition] = self.make()
            runner.start()
        return runner

    def held_offsets(self) -> dict[TP, int]:
        lowest: dict[TP, int] = {}
        for runner in self.instances.values():
            for tp, offset in runner.held_offsets().items():
                lowest[tp] = min(offset, lowest.get(tp, offset))
        return lowest

    async def process(self, batch: list[TransportMessage]) -> None:
        parts: dict[int, list[TransportMessage]] = {}
        for message in batch:
            parts.setdefault(message.partition() or 0, []).append(message)
        if isinstance(batch, CurrentMessages):  # tracing: the parts mark messages too
            parts = {partition: batch.part(part) for partition, part in parts.items()}
        await asyncio.gather(
            *(self._instance(partition).process(part) for partition, part in parts.items())
        )

    def revoke(self, partitions: list[int], timeout: float) -> None:
        """Stop the instances of ``partitions`` (their streams end; code after the loop runs)."""
        for partition in partitions:
            runner = self.instances.pop(partition, None)
            if runner is not None:
                task = asyncio.ensure_future(runner.stop(timeout))
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)

    async def stop(self, timeout: float) -> None:
        await asyncio.gather(*(runner.stop(timeout) for runner in self.instances.values()))
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)
