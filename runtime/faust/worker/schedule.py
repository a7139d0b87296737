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

    def __init__(self, *, clock: Clock) -> None:
        self.clock = clock
        self._tasks: list[asyncio.Task[None]] = []

    def start_task(self, task: Task, fun: Callable[[], Awaitable[None]]) -> None:
        """Run ``fun`` (the task's own function, or its compiled replacement) once."""
        self._start(run_task(task, fun))

    def start_timers(self, timers: Iterable[Timer], crontabs: Iterable[Crontab]) -> None:
        for timer in timers:
            self._start(run_timer(timer, self.clock))
        for crontab in crontabs:
            self._start(run_crontab(crontab, self.clock))

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coroutine))

    async def cancel(self) -> None:
        """Cancel every timer, crontab and task, and wait until they are gone."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):  # cancelled, or failed and logged
                await task


async def run_timer(timer: Timer, clock: Clock) -> None:
    while True:
        await clock.sleep(timer.interval)
        try:
            await timer.fun()
        except Exception:
            log.exception("timer %s raised", timer.name)


async def run_crontab(crontab: Crontab, clock: Clock) -> None:
    while True:
        await clock.sleep(crontab.schedule.seconds_until_next(clock.time()))
        try:
            await crontab.fun()
        except Exception:
            log.exception("crontab %s raised", crontab.name)


async def run_task(task: Task, fun: Callable[[], Awaitable[None]]) -> None:
    try:
        await fun()
    except Exception:
        log.exception("task %s raised", task.name)
