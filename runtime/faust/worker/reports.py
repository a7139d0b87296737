"""What a running worker says about itself at intervals: that it still waits for its
partition assignment (every 5 s while it holds no partition, every minute after the first
minute of waiting: a worker the group leaves idle says so without flooding the log), and
its throughput (every minute, at info level).

The poll loop calls :meth:`Reports.tick` once per turn: one clock read and two
comparisons, whatever the batch size; the assignment is looked at once a second.
Example::

    reports = Reports(clock, group="word-count-app")
    reports.start(consumer.assignment)              # when the worker subscribes
    ...
    reports.tick(worker.processed)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sized

from faust.worker.clock import Clock

log = logging.getLogger("faust.worker")

#: seconds between the lines that say the worker still waits for its assignment
WAITING_EVERY = 5.0
#: after this long without partitions, the waiting line comes every minute
WAITING_LONG = 60.0
#: seconds between throughput lines
THROUGHPUT_EVERY = 60.0


class Reports:
    """The worker's periodic log lines (see the module docstring)."""

    def __init__(self, clock: Clock, *, group: str) -> None:
        self.clock = clock
        self.group = group
        self._held: Callable[[], Sized] = list
        self._waiting_since: float | None = None
        self._next_check = 0.0
        self._next_waiting = 0.0
        self._next_throughput = 0.0
        self._last_time = 0.0
        self._last_processed = 0

    def start(self, held: Callable[[], Sized]) -> None:
        """The worker subscribed: intervals start now. ``held()`` is what the worker is
        assigned now (the consumer's ``assignment``)."""
        self._held = held
        now = self.clock.monotonic()
        self._last_time = now
        self._next_throughput = now + THROUGHPUT_EVERY
        self._waiting_since = now
        self._next_waiting = now + WAITING_EVERY

    def tick(self, processed: int) -> None:
        """A turn of the poll loop, ``processed`` messages so far."""
        now = self.clock.monotonic()
        if now >= self._next_check:
            self._next_check = now + 1.0
            self._check_waiting(now)
        if now >= self._next_throughput:
            elapsed = now - self._last_time
            count = processed - self._last_processed
            log.info(
                "processed %d message(s) in the last %.0fs (%.1f/s); %d since the start",
                count,
                elapsed,
                count / elapsed if elapsed > 0 else 0.0,
                processed,
            )
            self._last_time, self._last_processed = now, processed
            self._next_throughput = now + THROUGHPUT_EVERY

    def _check_waiting(self, now: float) -> None:
        if len(self._held()):
            self._waiting_since = None
            return
        if self._waiting_since is None:
            self._waiting_since = now
            self._next_waiting = now + WAITING_EVERY
        elif now >= self._next_waiting:
            waited = now - self._waiting_since
            self._next_waiting = now + (WAITING_EVERY if waited < WAITING_LONG else WAITING_LONG)
            log.info(
                "waiting for partition assignment from group %r (%.0fs so far)",
                self.group,
                waited,
            )
