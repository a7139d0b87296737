"""Logging for the command line: the level (``-l INFO``), the file (``--logfile``), and
plain or JSON lines (``--json``).

Plain lines are ``[time] [pid] [LEVEL] logger: message``; JSON lines are one object per
line (``time``, ``level``, ``logger``, ``message``, ``pid``, and ``exc_info`` with the
traceback's text when there is one), for log collectors. On a terminal, log lines pass
above the progress bar (``faust.progress``) instead of breaking it. Example::

    setup_logging("INFO", logfile=None, json=True)
"""

from __future__ import annotations

import datetime
import logging
import sys
from typing import TextIO

import orjson

from faust.progress import status_line

LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"


class JSONFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes above the stream's status line (``faust.progress``)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.status = status_line(stream)

    def emit(self, record: logging.LogRecord) -> None:
        with self.status.lock:
            self.status.hide()
            super().emit(record)
            self.status.redraw()


def setup_logging(level: str, *, logfile: str | None = None, json: bool = False) -> None:
    """Send every log record of ``level`` and above to stderr, or to ``logfile``."""
    handler: logging.Handler
    if logfile:
        handler = logging.FileHandler(logfile, encoding="utf-8")
    else:
        handler = ConsoleHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json else logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
