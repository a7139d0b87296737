"""AgentRunner: runs one agent as an asyncio task and hands it one batch at a time.

The agent's stream reads from the runner (it is the stream's ``BatchSource``). The contract::

    await runner.process(batch)   # returns once the agent asks for the next batch,
                                  # i.e. when every message of ``batch`` has been processed

so the worker knows when a batch is done without any per-message bookkeeping. A compiled
agent loops over ``stream.batches()`` and catches per-message errors itself; an uncompiled
agent that raises is restarted on the rest of the batch when the policy says go on (its
local variables start afresh, as when Faust restarts a crashed agent).
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from collections.abc import AsyncIterator
from typing import Any

from faust.agents import Agent, AgentFun
from faust.events import TransportMessage
from faust.streams import Stream
from faust.worker.errors import AgentFailure, ErrorPolicy

log = logging.getLogger("faust.agents")


class AgentRunner:
    """Drives ``fun`` (the agent's own function, or its compiled replacement)."""

    def __init__(self, agent: Agent[Any], fun: AgentFun, policy: ErrorPolicy) -> None:
        self.agent = agent
        self.fun = fun
        self.policy = policy
        self.topic = agent.channel.get_topic_name()
        #: index in the batch in hand of the message being processed (uncompiled agents)
        self.position = 0
        self._batch: list[TransportMessage] = []
        #: each queued batch travels with the future that says "processed"
        self._queue: asyncio.Queue[tuple[list[TransportMessage] | None, asyncio.Future[None]]]
        self._queue = asyncio.Queue()
        #: the future of the batch the worker is waiting on (queued or in the agent's hands)
        self._done: asyncio.Future[None] | None = None
        #: the future of the batch the agent holds; resolved when it asks for the next one
        self._holding: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    # -- the agent's side (BatchSource) ----------------------------------------------------

    async def next_batch(self) -> list[TransportMessage] | None:
        holding = self._holding
        if holding is not None and not holding.done():
            holding.set_result(None)
        self._holding = None
        batch, done = await self._queue.get()
        self._holding = done
        self._batch = batch or []
        self.position = 0
        return batch

    def handle_error(self, exc: BaseException, message: TransportMessage, where: str) -> None:
        self.policy.handle(exc, message, self.agent.name, where)

    # -- the worker's side -----------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"agent {self.agent.name}")

    async def _run(self) -> None:
        stream: Stream[Any] = Stream(self.agent.channel, source=self)
        try:
            result = self.fun(stream)
            if isinstance(result, AsyncIterator):
                async for _ in result:
                    pass
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

    async def process(self, batch: list[TransportMessage]) -> None:
        """Hand ``batch`` to the agent and wait until it has processed all of it."""
        task = self._task
        assert task is not None, "start() the runner first"
        if task.done():
            raise self._stopped_error(task)
        self._done = done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((batch, done))
        try:
            await done
        except AgentFailure:
            raise
        except Exception as exc:
            if not self._batch:  # raised before taking its first batch: nothing to skip
                raise self._stopped_error(task) from exc
            # An uncompiled agent's body raised while it held batch[position].
            failed = self._batch[self.position]
            self.policy.handle(exc, failed, self.agent.name, self._user_line(exc))
            rest = self._batch[self.position + 1 :]
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
