"""Timers, crontabs and tasks: the coroutines a worker runs beside its agents.

``@app.timer(interval)`` runs every ``interval`` seconds (the first time one interval after
the worker started), ``@app.crontab(cron)`` at the times its schedule names, ``@app.task``
once when the worker starts. An exception is logged and the timer or crontab goes on (a
task ends). All of them run as asyncio tasks of the worker's loop, between its batches,
and read the time from the worker's :class:`~faust.worker.clock.Clock`. Example::

    schedule = Schedule(clock=SYSTEM_CLOCK)
    schedule.start_task(task, task.fun)          # compiled agents replace a task's fun
    schedule.start_timers(app.timers, app.crontabs)
    ...
    await schedule.cancel()                      # the worker is closing
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from faust.agents import Crontab, Task, Timer
from faust.worker.clock import Clock

log = logging.getLogger("faust.worker")


class Schedule:
    """The worker's timers, crontabs and tasks (see the module docstring)."""

    def __init__(self, *, clock: Clock, leader: Leadership | None = None) -> None:
        self.clock = clock
        #: whether this worker is the leader (``on_leader=True``): every worker is when
        #: nothing says otherwise
        self.leader = leader or Leadership(always=True)
        self._tasks: list[asyncio.Task[None]] = []

    def start_task(self, task: Task, fun: Callable[[], Awaitable[None]]) -> None:
        """Run ``fun`` (the task's own function, or its compiled replacement) once (an
        ``on_leader`` task once the group has elected a leader, if this worker is it)."""
        self._start(run_task(task, fun, self.leader))

    def start_timers(self, timers: Iterable[Timer], crontabs: Iterable[Crontab]) -> None:
        for timer in timers:
            self._start(run_timer(timer, self.clock, self.leader))
        for crontab in crontabs:
            self._start(run_crontab(crontab, self.clock, self.leader))

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coroutine))

    async def cancel(self) -> None:
        """Cancel every timer, crontab and task, and wait until they are gone."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):  # cancelled, or failed and logged
                await task


class Leadership:
    """Is this worker the leader? The one assigned partition 0 of the app's leader topic
    (``faust.contract.leader_topic_name``), as in Faust; ``known`` is set at the first
    assignment (``always``: every worker leads, outside a group)."""

    def __init__(self, *, always: bool = False) -> None:
        self.always = always
        self.is_leader = always
        self.known = asyncio.Event()
        if always:
            self.known.set()

    def assigned(self, leading: bool) -> None:
        if not self.always:
            if leading != self.is_leader:
                log.info("this worker %s the leader", "is now" if leading else "is no longer")
            self.is_leader = leading
        self.known.set()


async def run_timer(timer: Timer, clock: Clock, leader: Leadership) -> None:
    while True:
        await clock.sleep(timer.interval)
        if timer.on_leader and not leader.is_leader:
            continue
        try:
            await timer.fun()
        except Exception:
            log.exception("timer %s raised", timer.name)


async def run_crontab(crontab: Crontab, clock: Clock, leader: Leadership) -> None:
    while True:
        await clock.sleep(crontab.schedule.seconds_until_next(clock.time()))
        if crontab.on_leader and not leader.is_leader:
            continue
        try:
            await crontab.fun()
        except Exception:
            log.exception("crontab %s raised", crontab.name)


async def run_task(task: Task, fun: Callable[[], Awaitable[None]], leader: Leadership) -> None:
    if task.on_leader:
        await leader.known.wait()
        if not leader.is_leader:
            log.info("task %s runs on the leader only: not on this worker", task.name)
            return
    try:
        await fun()
    except Exception:
        log.exception("task %s raised", task.name)
