"""Progress on a terminal: one status line (a bar) that log lines pass above.

Long work (a table recovery) draws its progress on the last line of stderr when stderr is
a terminal; the console log handler of the command line (``faust.cli.logs``) clears that
line before it writes a log record and draws it again after, so a log line never lands in
the middle of the bar and the bar stays at the bottom. When stderr is not a terminal
nothing is drawn (the work logs periodic lines instead). Example::

    line = status_line()
    if line.enabled:
        line.show("recovering tables [#####     ] 500/1000 records")
    ...
    line.clear()                      # the work is done: the line disappears
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_ERASE = "\r\x1b[K"


class StatusLine:
    """The bottom line of a terminal stream (see the module docstring)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        #: drawn only on a terminal
        self.enabled = bool(isatty is not None and isatty())
        self.text = ""
        self._lock = threading.RLock()

    def show(self, text: str) -> None:
        """Replace the status line with ``text``."""
        if not self.enabled:
            return
        with self._lock:
            self.text = text
            self.stream.write(_ERASE + text)
            self.stream.flush()

    def clear(self) -> None:
        """Remove the status line (the work is done)."""
        with self._lock:
            if self.text:
                self.stream.write(_ERASE)
                self.stream.flush()
            self.text = ""

    def hide(self) -> None:
        """Erase the line for a moment, so that something else can be written there."""
        if self.text:
            self.stream.write(_ERASE)

    def redraw(self) -> None:
        """Draw the line again after :meth:`hide`."""
        if self.text:
            self.stream.write(self.text)
            self.stream.flush()

    @property
    def lock(self) -> threading.RLock:
        return self._lock


_lines: dict[int, StatusLine] = {}


def status_line(stream: TextIO | None = None) -> StatusLine:
    """The status line of ``stream`` (stderr by default): one per stream, shared by the
    work that draws it and the log handler that writes to the same stream."""
    stream = stream if stream is not None else sys.stderr
    line = _lines.get(id(stream))
    if line is None or line.stream is not stream:
        line = _lines[id(stream)] = StatusLine(stream)
    return line
