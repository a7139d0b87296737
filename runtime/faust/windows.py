"""Windows: which time ranges a timestamp falls into, and when a range has expired.

A windowed table stores one value per ``(key, (start, end))``. The window types are
Faust's, with Faust's arithmetic (a range ends 0.1 s before the next one starts, so
``TumblingWindow(10)`` puts t=25.0 in ``(20.0, 29.9)``). Example::

    >>> window = HoppingWindow(size=10, step=5, expires=60)
    >>> window.ranges(12.0)
    [(5.0, 14.9), (10.0, 19.9)]
    >>> window.current(12.0)
    (10.0, 19.9)
    >>> window.stale(14.9, now=80.0)     # ended more than ``expires`` before now
    True

Durations are seconds (int, float or ``datetime.timedelta``), as everywhere in Faust.
"""

from __future__ import annotations

import datetime
import math

#: ``(start, end)`` of one window, in seconds
WindowRange = tuple[float, float]

Seconds = float | int | datetime.timedelta


def want_seconds(value: Seconds) -> float:
    """``value`` in seconds (a timedelta or a number)."""
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


def range_from_start(start: float, size: float) -> WindowRange:
    """Faust's window range: ``size`` seconds from ``start``, ending 0.1 s before the next."""
    return (start, start + size - 0.1)


class Window:
    """What every window type answers (see the module docstring)."""

    #: seconds a window is kept after it ends; None keeps windows for ever
    expires: float | None = None

    def ranges(self, timestamp: float) -> list[WindowRange]:
        """Every window ``timestamp`` falls into, earliest first."""
        raise NotImplementedError

    def current(self, timestamp: float) -> WindowRange:
        """The latest window ``timestamp`` falls into."""
        raise NotImplementedError

    def earliest(self, timestamp: float) -> WindowRange:
        """The earliest window ``timestamp`` falls into."""
        raise NotImplementedError

    def delta(self, timestamp: float, d: Seconds) -> WindowRange:
        """The current window ``d`` seconds before ``timestamp``."""
        return self.current(timestamp - want_seconds(d))

    def stale_before(self, now: float) -> float:
        """Windows ending at or before this time have expired (``-inf`` without expiry)."""
        raise NotImplementedError

    def stale(self, end: float, now: float) -> bool:
        """Has the window ending at ``end`` expired at time ``now``?"""
        return end <= self.stale_before(now)


class HoppingWindow(Window):
    """Fixed-size windows of ``size`` seconds starting every ``step`` seconds (overlapping
    when ``step < size``)."""

    def __init__(self, size: Seconds, step: Seconds, expires: Seconds | None = None) -> None:
        self.size = want_seconds(size)
        self.step = want_seconds(step)
        if self.size <= 0 or self.step <= 0:
            raise ValueError("window size and step must be positive")
        self.expires = want_seconds(expires) if expires else None

    def _first_start(self, timestamp: float) -> float:
        """Start of the earliest window containing ``timestamp``."""
        closest_step = (timestamp // self.step) * self.step
        return closest_step - self.size + self.step

    def ranges(self, timestamp: float) -> list[WindowRange]:
        size, step = self.size, self.step
        start = self._first_start(timestamp)
        result = []
        while start <= timestamp:
            result.append(range_from_start(start, size))
            start += step
        return result

    def current(self, timestamp: float) -> WindowRange:
        start = self._first_start(timestamp)
        steps = math.floor((timestamp - start) / self.step)
        return range_from_start(start + self.step * steps, self.size)

    def earliest(self, timestamp: float) -> WindowRange:
        return range_from_start(self._first_start(timestamp), self.size)

    def stale_before(self, now: float) -> float:
        if self.expires is None:
            return -math.inf
        return self.current(now - self.expires)[0]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size:g}, step={self.step:g}, expires={self.expires})"
        )


class TumblingWindow(HoppingWindow):
    """Fixed-size, non-overlapping, gap-less windows of ``size`` seconds."""

    def __init__(self, size: Seconds, expires: Seconds | None = None) -> None:
        super().__init__(size, size, expires)

    def ranges(self, timestamp: float) -> list[WindowRange]:
        # one window per timestamp: the same arithmetic as HoppingWindow, without the loop
        size = self.size
        start = (timestamp // size) * size
        return [(start, start + size - 0.1)]

    def __repr__(self) -> str:
        return f"TumblingWindow(size={self.size:g}, expires={self.expires})"


class SlidingWindow(Window):
    """One window per event: from ``before`` seconds before its timestamp to ``after``
    seconds after it."""

    def __init__(self, before: Seconds, after: Seconds, expires: Seconds) -> None:
        self.before = want_seconds(before)
        self.after = want_seconds(after)
        self.expires = want_seconds(expires) if expires else None

    def ranges(self, timestamp: float) -> list[WindowRange]:
        return [self.current(timestamp)]

    def current(self, timestamp: float) -> WindowRange:
        return (timestamp - self.before, timestamp + self.after)

    def earliest(self, timestamp: float) -> WindowRange:
        return self.current(timestamp)

    def stale_before(self, now: float) -> float:
        if self.expires is None:
            return -math.inf
        return now - self.expires

    def __repr__(self) -> str:
        return (
            f"SlidingWindow(before={self.before:g}, after={self.after:g}, expires={self.expires})"
        )
