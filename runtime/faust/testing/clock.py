"""A clock that moves only when a test moves it: what test drivers give the worker.

Every part of a worker reads the time through its :class:`~faust.worker.clock.Clock`
(commit and clean-up intervals, timers, crontabs, ``take(within=)``, window expiry). A
:class:`ManualClock` stands still; ``sleep(seconds)`` waits until someone advances it past
the sleeper's deadline. :meth:`ManualClock.next_wakeup` and :meth:`ManualClock.wake_due`
let a driver advance time one deadline at a time, so a timer due every 10 s fires six
times when a test advances a minute. Example::

    clock = ManualClock(1_000_000.0)
    worker = Worker(app, clock=clock, transport=transport)
    clock.now = clock.next_wakeup() or clock.now    # the next timer's time
    clock.wake_due()                                # its sleep returns
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time


class ManualClock:
    """Time that moves by hand (see the module docstring); ``monotonic()`` and ``time()``
    are the same number, seconds since the epoch (by default the real time at creation)."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else float(now)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has been advanced by ``seconds`` (at once for <= 0)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), future))
        await future

    def next_wakeup(self) -> float | None:
        """The earliest deadline someone sleeps until (None: nobody sleeps)."""
        sleepers = self._sleepers
        while sleepers and sleepers[0][2].done():  # cancelled sleeps
            heapq.heappop(sleepers)
        return sleepers[0][0] if sleepers else None

    def wake_due(self) -> int:
        """End the sleeps whose deadline is not after ``now``; how many there were."""
        woken = 0
        sleepers = self._sleepers
        while sleepers and sleepers[0][0] <= self.now:
            _, _, future = heapq.heappop(sleepers)
            if not future.done():
                future.set_result(None)
                woken += 1
        return woken
