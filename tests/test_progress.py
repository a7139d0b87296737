"""Progress while a worker works (``faust.progress``, ``faust.tables.recovery``,
``faust.worker.reports``): the recovery bar on a terminal that log lines pass above and
whose total never runs backwards; the lines a worker logs while it waits for its partitions
and every minute of throughput. The real-process side (a worker waiting for its group, an
unreachable broker) is in tests/test_cli.py."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest
from clocks import HandClock

from faust.cli.logs import LOG_FORMAT, ConsoleHandler
from faust.progress import StatusLine
from faust.tables.recovery import Restorer
from faust.transport.base import ChangelogBatch
from faust.worker.reports import Reports


class Terminal(io.StringIO):
    """A stream that says it is a terminal; :meth:`screen` is what a terminal shows."""

    def isatty(self) -> bool:
        return True

    def screen(self) -> list[str]:
        lines = [""]
        column = 0
        text = self.getvalue()
        i = 0
        while i < len(text):
            if text.startswith("\x1b[K", i):
                lines[-1] = lines[-1][:column]
                i += 3
                continue
            char = text[i]
            if char == "\r":
                column = 0
            elif char == "\n":
                lines.append("")
                column = 0
            else:
                line = lines[-1]
                lines[-1] = line[:column] + char + line[column + 1 :]
                column += 1
            i += 1
        return lines


def test_log_lines_pass_above_the_bar() -> None:
    terminal = Terminal()
    line = StatusLine(terminal)
    handler = ConsoleHandler(terminal)
    handler.status = line
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.progress.bar")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        line.show("recovering [####      ] 40/100 records")
        logger.warning("a partition was revoked")
        line.show("recovering [########  ] 80/100 records")
        logger.warning("another line")
        assert terminal.screen() == [
            "WARNING a partition was revoked",
            "WARNING another line",
            "recovering [########  ] 80/100 records",
        ]
        line.clear()
        assert terminal.screen()[-1] == ""
    finally:
        logger.removeHandler(handler)


def test_nothing_is_drawn_when_stderr_is_not_a_terminal() -> None:
    stream = io.StringIO()
    line = StatusLine(stream)
    line.show("recovering [#   ] 1/4 records")
    line.clear()
    assert stream.getvalue() == "" and not line.enabled
    assert "%(levelname)s" in LOG_FORMAT


class _Record:
    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self._where = (topic, partition, offset)

    def topic(self) -> str:
        return self._where[0]

    def partition(self) -> int:
        return self._where[1]

    def offset(self) -> int:
        return self._where[2]


class _Store:
    def __init__(self) -> None:
        self.offsets: dict[int, int] = {}

    def apply_changelog(self, records: list[Any]) -> None:
        for record in records:
            self.offsets[record.partition()] = record.offset()


class _Table:
    name = "counts"


class ScriptedReader:
    """A changelog reader whose reads and high watermarks a test scripts: the high
    watermark of a partition is unknown until its first fetch, and may be estimated lower
    later (what makes a naive total run backwards)."""

    def __init__(self, reads: list[tuple[list[Any], dict[int, int | None], list[int]]]) -> None:
        self.reads = reads
        self.watermarks: dict[int, int | None] = {}

    def assign(self, partitions: list[Any]) -> None: ...

    def unassign(self, partitions: list[Any]) -> None: ...

    def read(self, max_records: int, timeout: float) -> ChangelogBatch:
        records, watermarks, eof = self.reads.pop(0)
        self.watermarks.update(watermarks)
        # a partition's EOF is at its end (the high watermark), as a real reader reports
        ends = [("log", p, self.watermarks.get(p) or 0) for p in eof]
        return ChangelogBatch(records, ends, [])

    def high_watermark(self, topic: str, partition: int) -> int | None:
        return self.watermarks.get(partition)

    def close(self) -> None: ...


def test_the_bar_total_never_runs_backwards() -> None:
    def records(partition: int, start: int, count: int) -> list[Any]:
        return [_Record("log", partition, o) for o in range(start, start + count)]

    reader = ScriptedReader(
        [
            (records(0, 0, 10), {0: 100}, []),  # 10 of 100
            (records(0, 10, 10), {0: 100, 1: None}, []),  # partition 1: end not known yet
            (records(0, 20, 30), {0: 60}, []),  # the estimate of partition 0 shrinks
            (records(1, 0, 5), {1: 5}, []),
            (records(0, 50, 10), {}, [0, 1]),  # both done
        ]
    )
    terminal = Terminal()
    clock = iter(float(t) for t in range(100))
    restorer = Restorer(reader, what="table partitions", stream=terminal, clock=lambda: next(clock))
    restorer.add(_Table(), _Store(), "log", 0)  # type: ignore[arg-type]
    for index in range(5):
        if index == 1:
            restorer.add(_Table(), _Store(), "log", 1)  # type: ignore[arg-type]
        restorer.step()
    shown = [
        (int(done), int(total))
        for done, total in re.findall(r"\] (\d+)/(\d+) records", terminal.getvalue())
    ]
    assert [done for done, _ in shown] == [10, 20, 50, 55]
    totals = [total for _, total in shown]
    assert totals == sorted(totals), totals
    assert all(done <= total for done, total in shown)
    assert terminal.screen()[-1] == ""  # finished: the bar is gone


def test_a_worker_says_it_waits_for_its_partitions_and_logs_its_throughput(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = HandClock(1000.0)
    reports = Reports(clock, group="orders-app")
    caplog.set_level(logging.INFO, logger="faust.worker")
    held: list[str] = []
    reports.start(lambda: held)
    for _ in range(12):  # 12 s without an assignment, a tick per second
        clock.now += 1
        reports.tick(0)
    waiting = [r.getMessage() for r in caplog.records]
    assert waiting == [
        "waiting for partition assignment from group 'orders-app' (5s so far)",
        "waiting for partition assignment from group 'orders-app' (10s so far)",
    ]
    caplog.clear()
    held.append("orders[0]")
    processed = 0
    for _ in range(48 + 60):  # assigned: 1,000 messages a second
        clock.now += 1
        processed += 1000
        reports.tick(processed)
    assert [r.getMessage() for r in caplog.records] == [
        "processed 48000 message(s) in the last 60s (800.0/s); 48000 since the start",
        "processed 60000 message(s) in the last 60s (1000.0/s); 108000 since the start",
    ]
    assert {r.levelno for r in caplog.records} == {logging.INFO}


def test_an_idle_worker_says_so_every_minute_after_the_first(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = HandClock(0.0)
    reports = Reports(clock, group="g")
    caplog.set_level(logging.INFO, logger="faust.worker")
    reports.start(list)
    reports.rebalanced()  # the group completed a rebalance, and left this worker nothing
    for _ in range(300):
        clock.now += 1
        reports.tick(0)
    waited = [
        int(m.group(1))
        for r in caplog.records
        if (m := re.search(r"\((\d+)s so far\)", r.getMessage()))
    ]
    assert waited == [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 120, 180, 240, 300]


def test_a_group_that_never_completes_its_rebalance_is_reported_as_stuck(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the embedded Tansu broker can leave a group stuck when a member leaves mid-rebalance
    clock = HandClock(0.0)
    reports = Reports(clock, group="g", session_timeout=6.0)
    caplog.set_level(logging.WARNING, logger="faust.worker")
    reports.start(list)
    for _ in range(29):  # under 5 session timeouts: a slow rebalance, nothing said
        clock.now += 1
        reports.tick(0)
    assert caplog.records == []
    for _ in range(91):
        clock.now += 1
        reports.tick(0)
    stuck = [r.getMessage() for r in caplog.records]
    assert len(stuck) == 2, stuck  # at 30 s, then once a minute
    assert stuck[0].startswith(
        "group 'g' has not completed a rebalance for 30s (5 session timeouts of 6s)"
    )
    assert "Tansu" in stuck[0] and "restart the group's workers" in stuck[0]
    caplog.clear()
    reports.rebalanced()
    assert [r.getMessage() for r in caplog.records] == [
        "group 'g' completed its rebalance: no longer stuck"
    ]
    # a completed rebalance, even with nothing assigned, is not stuck; a revocation
    # starts the clock again
    caplog.clear()
    for _ in range(100):
        clock.now += 1
        reports.tick(0)
    assert [r for r in caplog.records if "stuck" in r.getMessage()] == []
    reports.rejoining()
    for _ in range(31):
        clock.now += 1
        reports.tick(0)
    assert len([r for r in caplog.records if "not completed a rebalance" in r.getMessage()]) == 1
