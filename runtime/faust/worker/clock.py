"""The worker's time: one object every part of it asks, so a test can replace it.

The worker reads the time through a :class:`Clock`: the commit protocol for its commit
interval, the loop for the table clean-up interval, the schedule for timers and crontabs,
the windowed tables it manages for their expiry (``clock.time``) and ``relative_to_now``.
:data:`SYSTEM_CLOCK` is the machine's; a test driver passes its own (a clock it advances
by hand never makes a test wait for the wall clock). Example::

    class Frozen:
        def __init__(self) -> None: self.now = 1000.0
        def monotonic(self) -> float: return self.now
        def time(self) -> float: return self.now
        async def sleep(self, seconds: float) -> None: self.now += seconds

    worker = Worker(app, clock=Frozen())
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (intervals: commits, clean-ups)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (crontabs: the wall clock's time of day)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (timers, crontabs)."""
        ...


class SystemClock:
    """The machine's clock and asyncio's sleep."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
