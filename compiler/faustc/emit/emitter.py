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
import dataclasses
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


@dataclasses.dataclass(frozen=True, slots=True)
class Ternary:
    """``body if test else orelse``, kept apart so a long one is laid out as ruff does."""

    body: str
    test: str
    orelse: str

    def __str__(self) -> str:
        return f"{self.body} if {self.test} else {self.orelse}"


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
        for line in text.removesuffix("\n").split("\n") if text else ():
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

    @contextlib.contextmanager
    def if_block(
        self, conditions: Sequence[str], operator: str, keyword: str = "if"
    ) -> Iterator[None]:
        """``if a <operator> b ...:`` (or ``elif``) as ruff formats it (the conditions in
        parentheses on a line of their own, else one a line), then the block one level
        deeper."""
        joined = f" {operator} ".join(conditions)
        if self.fits(f"{keyword} {joined}:"):
            self.line(f"{keyword} {joined}:")
        else:
            self.line(f"{keyword} (")
            with self.indented():
                if self.fits(joined):
                    self.line(joined)
                else:
                    self.line(conditions[0])
                    for condition in conditions[1:]:
                        self.line(f"{operator} {condition}")
            self.line("):")
        with self.indented():
            yield

    def fits(self, text: str) -> bool:
        """Does ``text`` fit on one line at the current indentation?"""
        return _fits(self.prefix, text)

    def call(self, head: str, arguments: Sequence[str], tail: str = "") -> None:
        """``head(arguments)tail`` as ruff formats it: on one line when it fits, else the
        arguments on a line of their own, else one a line (with a trailing comma)."""
        joined = ", ".join(arguments)
        if _fits(self.prefix, f"{head}({joined}){tail}"):
            self.line(f"{head}({joined}){tail}")
            return
        self.line(f"{head}(")
        with self.indented():
            if _fits(self.prefix, joined):
                self.line(joined)
            else:
                for argument in arguments:
                    self.line(f"{argument},")
        self.line(f"){tail}")

    def assign(self, target: str, value: str | Ternary, tail: str = "") -> None:
        """``target = value`` as ruff formats it: a long conditional expression in
        parentheses, on a line of its own or split before ``if`` and ``else``."""
        if self.fits(f"{target} = {value}{tail}") or not isinstance(value, Ternary):
            self.line(f"{target} = {value}{tail}")
            return
        self.line(f"{target} = (")
        with self.indented():
            self._ternary(value)
        self.line(f"){tail}")

    def element(self, value: str | Ternary) -> None:
        """``(value),`` in a collection, as ruff formats a parenthesized expression."""
        if self.fits(f"({value}),") or not isinstance(value, Ternary):
            self.line(f"({value}),")
            return
        self.line("(")
        with self.indented():
            self._ternary(value)
        self.line("),")

    def _ternary(self, value: Ternary) -> None:
        if self.fits(str(value)):
            self.line(str(value))
        else:
            self.line(value.body)
            self.line(f"if {value.test}")
            self.line(f"else {value.orelse}")

    def assign_call(self, target: str, head: str, arguments: Sequence[str]) -> None:
        """``target = head(arguments)`` as ruff formats it: the call split when its head
        fits on the first line, else the whole call in parentheses on a line of its own."""
        if self.fits(f"{target} = {head}(") or self.fits(
            f"{target} = {head}({', '.join(arguments)})"
        ):
            self.call(f"{target} = {head}", arguments)
            return
        self.line(f"{target} = (")
        with self.indented():
            self.call(head, arguments)
        self.line(")")

    def assign_operation(
        self, target: str, operands: Sequence[str], operators: Sequence[str]
    ) -> None:
        """``target = a <op> b <op> c`` as ruff formats it: on one line when it fits, else
        in parentheses, on one line of its own or an operand a line (after its operator)."""
        joined = operands[0] + "".join(
            f" {operator} {operand}"
            for operator, operand in zip(operators, operands[1:], strict=True)
        )
        if self.fits(f"{target} = {joined}"):
            self.line(f"{target} = {joined}")
            return
        self.line(f"{target} = (")
        with self.indented():
            if self.fits(joined):
                self.line(joined)
            else:
                self.line(operands[0])
                for operator, operand in zip(operators, operands[1:], strict=True):
                    self.line(f"{operator} {operand}")
        self.line(")")

    def assign_tuple(self, target: str, elements: Sequence[str]) -> None:
        """``target = (a, b)`` as ruff formats it: on one line, else an element a line."""
        joined = ", ".join(elements)
        if self.fits(f"{target} = ({joined})"):
            self.line(f"{target} = ({joined})")
            return
        self.line(f"{target} = (")
        with self.indented():
            for element in elements:
                self.line(f"{element},")
        self.line(")")

    def condition(self, head: str, operands: Sequence[str], tail: str = ":") -> None:
        """``head operand and operand ...tail`` (``head`` is ``if``, ``if not (`` ...) as ruff
        formats it: on one line when it fits, else parenthesized, an operand a line."""
        opening = head.endswith("(")
        joined = " and ".join(operands)
        if _fits(
            self.prefix, f"{head}{'' if opening else ' '}{joined}{')' if opening else ''}{tail}"
        ):
            self.line(f"{head}{'' if opening else ' '}{joined}{')' if opening else ''}{tail}")
            return
        self.line(head if opening else f"{head} (")
        with self.indented():
            self.line(operands[0])
            for operand in operands[1:]:
                self.line(f"and {operand}")
        self.line(f"){tail}")

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
        # split at newlines alone, as tokenize counts the lines `inside` numbers (a form
        # feed or a \x1c ends a line for str.splitlines, not for Python)
        lines = text.rstrip("\n").split("\n")
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


#: the longest line ruff format leaves as it is
LINE_LENGTH = 100


def _fits(prefix: str, text: str) -> bool:
    return "\n" not in text and len(prefix) + len(text) <= LINE_LENGTH


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
