"""What a running worker says about itself at intervals: that it still waits for its
partition assignment (every 5 s until the group gives it one), and its throughput (every
minute, at info level).

The poll loop calls :meth:`Reports.tick` once per turn: one clock read and two
comparisons, whatever the batch size. Example::

    reports = Reports(clock, group="word-count-app")
    reports.start()                                 # when the worker subscribes
    ...
    reports.tick(processed=worker.processed, waiting=rebalance.waiting)
"""

from __future__ import annotations

import logging

from faust.worker.clock import Clock

log = logging.getLogger("faust.worker")

#: seconds between the lines that say the worker still waits for its assignment
WAITING_EVERY = 5.0
#: seconds between throughput lines
THROUGHPUT_EVERY = 60.0


class Reports:
    """The worker's periodic log lines (see the module docstring)."""

    def __init__(self, clock: Clock, *, group: str) -> None:
        self.clock = clock
        self.group = group
        self._waiting_since: float | None = None
        self._next_waiting = 0.0
        self._next_throughput = 0.0
        self._last_time = 0.0
        self._last_processed = 0

    def start(self) -> None:
        """The worker subscribed: intervals start now."""
        now = self.clock.monotonic()
        self._last_time = now
        self._next_throughput = now + THROUGHPUT_EVERY
        self._waiting_since = now
        self._next_waiting = now + WAITING_EVERY

    def tick(self, *, processed: int, waiting: bool) -> None:
        """A turn of the poll loop: ``processed`` messages so far; ``waiting``: the group
        has not given this worker its partitions (yet, or again after a revocation)."""
        now = self.clock.monotonic()
        if waiting:
            if self._waiting_since is None:
                self._waiting_since = now
                self._next_waiting = now + WAITING_EVERY
            elif now >= self._next_waiting:
                self._next_waiting = now + WAITING_EVERY
                log.info(
                    "waiting for partition assignment from group %r (%.0fs so far)",
                    self.group,
                    now - self._waiting_since,
                )
        else:
            self._waiting_since = None
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
