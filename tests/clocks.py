"""Worker clocks for tests (``faust.worker.clock.Clock``): time a test moves by hand.

Example::

    clock = HandClock(1000.0)
    worker = Worker(app, clock=clock)      # timers, commits and windows read clock.now
    clock.now += 30
"""

from __future__ import annotations

import asyncio
import time


class HandClock:
    """Time moves only when the test moves it, or when something sleeps on it (the sleep
    returns at once, the time having advanced by what it asked for)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class WallClock:
    """The system's clock, but for the wall time, which stands where the test puts it
    (windows expire by it)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
