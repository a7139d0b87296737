"""Timers, crontabs and tasks run on the worker's clock (``faust.worker.schedule``): with a
clock a test advances by hand, they fire at the times they should without any waiting."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable

from clocks import HandClock

import faust
from faust.worker.schedule import Schedule

START = datetime.datetime(2024, 1, 5, 9, 7, tzinfo=datetime.UTC).timestamp()


def run_until(app: faust.App, clock: HandClock, done: Callable[[], bool]) -> None:
    async def run() -> None:
        schedule = Schedule(clock=clock)
        for task in app.tasks:
            schedule.start_task(task, task.fun)
        schedule.start_timers(app.timers, app.crontabs)
        while not done():
            await asyncio.sleep(0)
        await schedule.cancel()

    asyncio.run(run())


def test_a_timer_fires_every_interval_of_the_worker_clock() -> None:
    app = faust.App("schedule-timer")
    clock = HandClock(START)
    fired: list[float] = []

    @app.timer(30.0)
    async def every_half_minute() -> None:
        fired.append(clock.now - START)

    run_until(app, clock, lambda: len(fired) == 3)
    assert fired == [30.0, 60.0, 90.0]


def test_a_crontab_fires_at_the_times_of_its_schedule_on_the_worker_clock() -> None:
    app = faust.App("schedule-crontab")
    clock = HandClock(START)
    fired: list[float] = []

    @app.crontab("*/15 * * * *", timezone=datetime.UTC)
    async def quarterly() -> None:
        fired.append(clock.now - START)

    run_until(app, clock, lambda: len(fired) == 2)
    assert fired == [8 * 60.0, 23 * 60.0]  # 09:15 and 09:30, from 09:07


def test_a_task_runs_once_at_start_and_a_failing_timer_goes_on() -> None:
    app = faust.App("schedule-task")
    clock = HandClock(START)
    runs: list[str] = []

    @app.task
    async def once() -> None:
        runs.append("task")

    @app.timer(1.0)
    async def failing() -> None:
        runs.append("timer")
        raise ValueError("logged, not fatal")

    run_until(app, clock, lambda: runs.count("timer") == 2)
    assert runs == ["task", "timer", "timer"]
