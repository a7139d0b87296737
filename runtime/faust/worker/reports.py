"""What a running worker says about itself at intervals: that it still waits for its
partition assignment (every 5 s while it holds no partition, every minute after the first
minute of waiting: a worker the group leaves idle says so without flooding the log), that
its group looks stuck in a rebalance (a warning, see below), and its throughput (every
minute, at info level).

A group stuck in a rebalance: the worker joined (or rejoined after a revocation) and the
broker has not completed the rebalance, not even with an empty assignment, for
``STUCK_SESSIONS`` session timeouts. A healthy broker completes or restarts a rebalance
within about one; the embedded Tansu broker can leave a group in this state when a member
leaves mid-rebalance. The worker cannot fix the broker's group: it says so, once a minute,
and keeps waiting (README, "Choices we made").

The poll loop calls :meth:`Reports.tick` once per turn: one clock read and two
comparisons, whatever the batch size; the assignment is looked at once a second.
Example::

    reports = Reports(clock, group="word-count-app", session_timeout=45.0)
    reports.start(consumer.assignment)              # when the worker subscribes
    reports.rebalanced()                            # an assignment came (even an empty one)
    reports.rejoining()                             # partitions revoked or lost: a rejoin
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
#: session timeouts without a completed rebalance after which the group looks stuck
STUCK_SESSIONS = 5


class Reports:
    """The worker's periodic log lines (see the module docstring)."""

    def __init__(self, clock: Clock, *, group: str, session_timeout: float = 45.0) -> None:
        self.clock = clock
        self.group = group
        self.stuck_after = STUCK_SESSIONS * session_timeout
        #: since when the worker waits for a rebalance to complete (None: it completed)
        self._joining_since: float | None = None
        self._next_stuck = 0.0
        self._said_stuck = False
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
        self.rejoining()

    def rejoining(self) -> None:
        """The worker (re)joins its group: a rebalance must now complete."""
        if self._joining_since is None:
            self._joining_since = self.clock.monotonic()
            self._next_stuck = self._joining_since + self.stuck_after

    def rebalanced(self) -> None:
        """The group completed a rebalance: an assignment came, even an empty one."""
        if self._said_stuck:
            log.warning("group %r completed its rebalance: no longer stuck", self.group)
        self._joining_since = None
        self._said_stuck = False

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
        if self._joining_since is not None and now >= self._next_stuck:
            self._next_stuck = now + WAITING_LONG
            self._said_stuck = True
            log.warning(
                "group %r has not completed a rebalance for %.0fs (%d session timeouts of "
                "%.0fs): this worker got no assignment, not even an empty one, and processes "
                "nothing. The broker may have left the group stuck in a rebalance (the "
                "embedded Tansu broker does when a member leaves mid-rebalance); the worker "
                "keeps waiting: restart the group's workers if it lasts",
                self.group,
                now - self._joining_since,
                (now - self._joining_since) // (self.stuck_after / STUCK_SESSIONS),
                self.stuck_after / STUCK_SESSIONS,
            )
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
