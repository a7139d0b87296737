"""The one way faustc writes Python: an indenting emitter, line by line.

Everything the compiler writes goes through an :class:`Emitter`: lines at the current
indentation, blocks one level deeper, and the user's code copied as written (its
multi-line strings untouched). Example::

    out = Emitter()
    with out.block("def f(x: int) -> int:"):
        out.line("return x + 1")
    out.text()          # 'def f(x: int) -> int:\\n    return x + 1\\n'
"""

from __future__ import annotations

import contextlib
import io
import tokenize
from collections.abc import Callable, Iterator, Sequence

INDENT = "    "
#: ``faust.compiled`` names a worker imports as they are (the fused agents' own); the
#: codec helpers get a leading underscore, so that no name of the app shadows them
UNALIASED = frozenset(
    {
        "Event",
        "Message",
        "RateLimiter",
        "Stream",
        "derived_topic",
        "field_type",
        "repartition_topic",
        "require_surface",
        "run_worker_cli",
        "set_current_event",
        "set_current_message",
    }
)


class Emitter:
    """Lines of Python at an indentation that blocks move in and out."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._prefixes: list[str] = []
        #: line index (0-based) -> the line of the user's source it comes from
        self.origins: dict[int, int] = {}
        self._origin: int | None = None
        #: what the written code imports: ``(module, name, alias)``, name None for
        #: ``import module``; the runtime's names all come from ``faust.compiled``
        self.imports: set[tuple[str, str | None, str | None]] = set()

    def use(self, name: str) -> str:
        """The name the written code calls ``faust.compiled``'s ``name`` by (recorded, so
        the worker imports it): agent-level names as they are, codec helpers with a
        leading underscore (``parse_date`` -> ``_parse_date``)."""
        alias = name if name in UNALIASED else f"_{name}"
        self.imports.add(("faust.compiled", name, None if alias == name else alias))
        return alias

    def use_module(self, module: str, name: str | None = None, alias: str | None = None) -> str:
        """The name the written code calls ``module`` (or ``module.name``) by, recorded."""
        self.imports.add((module, name, alias))
        return alias or name or module

    @property
    def prefix(self) -> str:
        return "".join(self._prefixes)

    def _append(self, line: str, origin: int | None = None) -> None:
        origin = origin if origin is not None else self._origin
        if origin is not None:
            self.origins[len(self._lines)] = origin
        self._lines.append(line)

    def line(self, text: str = "") -> None:
        """One line at the current indentation (an empty one stays empty); a statement
        spanning lines has each of them indented, but for those inside strings."""
        if "\n" not in text:
            self._append(f"{self.prefix}{text}" if text else "")
            return
        inside = string_lines(text)
        for number, line in enumerate(text.split("\n"), start=1):
            indent = line.strip() and number not in inside
            self._append(f"{self.prefix}{line}" if indent else line)

    def raw_line(self, text: str) -> None:
        """``text`` after the current indentation, its other lines as they are."""
        for line in f"{self.prefix}{text}".split("\n"):
            self._append(line)

    @contextlib.contextmanager
    def origin(self, line: int | None) -> Iterator[None]:
        """Lines written inside come from the user's source line ``line`` (the worker's
        line table says so, and errors raised there are reported at it)."""
        saved, self._origin = self._origin, line
        try:
            yield
        finally:
            self._origin = saved

    def lines(self, text: str) -> None:
        """Each line of ``text`` at the current indentation (empty ones stay empty)."""
        for line in text.splitlines():
            self.line(line)

    def blank(self, count: int = 1) -> None:
        self._lines.extend([""] * count)

    @contextlib.contextmanager
    def indented(self, prefix: str = INDENT) -> Iterator[None]:
        """Lines written inside are indented by ``prefix`` more (one level by default)."""
        self._prefixes.append(prefix)
        try:
            yield
        finally:
            self._prefixes.pop()

    @contextlib.contextmanager
    def block(self, header: str) -> Iterator[None]:
        """``header`` (ending in ``:``), then the block's lines one level deeper."""
        self.line(header)
        with self.indented():
            yield

    def code(
        self,
        text: str,
        first_line: int,
        *,
        marker: str | None = None,
        hole: Callable[[int, str], None] | None = None,
        hole_lines: Sequence[tuple[int, int]] = (),
    ) -> None:
        """Copied Python statements, from the user's line ``first_line`` on, at the current
        indentation. The continuation lines of multi-line strings stay as they are; a blank
        line between two indented lines is left out. A line ``<marker><n><rest>`` is a
        hole: ``hole(n, rest)`` writes its code, at the line's own indentation, from the
        user's lines ``hole_lines[n]`` (the statement it replaces)."""
        inside = string_lines(text)
        lines = text.rstrip("\n").splitlines()
        shift = 0  # the source lines the holes before this line stood for, beyond one
        for number, line in enumerate(lines, start=1):
            source = first_line + number - 1 + shift
            if number in inside:
                self._append(line, source)
                continue
            if not line.strip():
                if self._keeps_blank(lines, number, inside):
                    self._lines.append("")
                continue
            stripped = line.lstrip(" ")
            if marker is not None and hole is not None and stripped.startswith(marker):
                after = stripped[len(marker) :]
                digits = len(after) - len(after.lstrip("0123456789"))
                index = int(after[:digits])
                first, last = hole_lines[index] if index < len(hole_lines) else (source, source)
                first = first or source
                shift += max(0, last - first)
                with self.indented(line[: len(line) - len(stripped)]), self.origin(first):
                    hole(index, after[digits:])
                continue
            self._append(f"{self.prefix}{line}", source)

    def _keeps_blank(self, lines: list[str], number: int, inside: set[int]) -> bool:
        previous = self._lines[-1] if self._lines else ""
        following = ""
        for later, line in enumerate(lines[number:], start=number + 1):
            if line.strip():
                following = line if later in inside else f"{self.prefix}{line}"
                break
        return not (previous[:1] == " " and following[:1] == " ")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"

    @property
    def line_count(self) -> int:
        return len(self._lines)


def string_lines(text: str) -> set[int]:
    """The (1-based) lines of ``text`` that continue a multi-line string."""
    inside: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):  # a fragment: no string spans lines
        return set()
    return inside


def python_literal(value: object) -> str:
    """``repr(value)``, but strings in double quotes (the style of the rest of the file)."""
    if isinstance(value, str) and '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    return repr(value)
