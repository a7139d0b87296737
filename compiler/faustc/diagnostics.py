"""Diagnostics: user errors reported like mypy's, with a stable code for each rule.

A diagnostic prints as::

    examples/bad.py:12:5: error: agent consumes 'ordrs', which is not a topic of this app [FC101]
        @app.agent(ordrs)
                   ^^^^^

User errors exit with status 1 and never show a Python traceback; an internal error exits
with status 2 and says it is a faustc bug. A warning (``severity="warning"``) is printed the
same way and does not stop the build; a note adds to the diagnostic before it. Codes are
never reused for another meaning.
"""

from __future__ import annotations

import dataclasses

from faustc.front.ir import Span

#: Every diagnostic code and what it means (stable: tests and users depend on them).
CODES: dict[str, str] = {
    "FC001": "syntax error in the app module",
    "FC002": "a module past a size limit of the compiler (nesting depth, expression or file size)",
    "FC003": "a module file that is not text in its declared encoding (PEP 263)",
    "FC100": "no faust.App is created at module level",
    "FC101": "an agent consumes something that is not a topic of this app",
    "FC102": "unsupported stream operation",
    "FC103": "agent shape the compiler cannot fuse",
    "FC104": "a name (topic, table, agent, group_by) or number the compiler cannot evaluate",
    "FC105": "an App id the compiler cannot evaluate",
    "FC106": "more than one faust.App in the module",
    "FC107": "agent function is not `async def`",
    "FC108": "statement form not supported inside a fused agent loop",
    "FC109": "group_by key is not a field of the stream's value type",
    "FC111": "a table written outside an agent or task",
    "FC112": "group_by with a function key needs name=",
    "FC113": "a stage boundary (group_by/through) in an agent with concurrency > 1",
    "FC114": "yield form not supported in a compiled agent",
    "FC115": "an agent the build does not compile (it runs uncompiled): warning",
    "FC116": "a table written under one key from several partitions: warning",
    "FC117": "an App setting that does not apply here, or that no Faust has: warning",
    "FC118": "a topic variable, agent, Record or table name defined twice",
    "FC119": "a declaration Faust cannot run (a topic without a name, a negative concurrency)",
    "FC200": "type error found by mypy",
    "FC201": "mypy did not finish in time: the module is not type-checked",
    "FC900": "faustc generated a worker that does not compile (a faustc bug: exit 2)",
    "FC300": "a Record field type that the codec it is written with cannot represent",
    "FC301": "a Record cannot be exported as an Avro schema",
}


SEVERITIES = ("error", "warning", "note")


@dataclasses.dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    severity: str = "error"  # "error" | "warning" | "note"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def render(self, source_lines: list[str]) -> str:
        """``file:line:col: error: message [code]``, the source line, a caret under the span."""
        span = self.span
        head = f"{span.file}:{span.line}:{span.column}: {self.severity}: {self.message}"
        if self.severity != "note":
            head += f" [{self.code}]"
        if not 1 <= span.line <= len(source_lines):
            return head
        text = source_lines[span.line - 1].rstrip("\n")
        end = span.end_column if span.end_line == span.line else len(text) + 1
        width = max(1, end - span.column)
        caret = " " * (span.column - 1) + "^" * width
        return f"{head}\n    {text}\n    {caret}"


def as_warning(diagnostic: Diagnostic) -> Diagnostic:
    """``diagnostic`` reported without stopping the build (a note stays a note)."""
    if diagnostic.severity != "error":
        return diagnostic
    return dataclasses.replace(diagnostic, severity="warning")


class CompileError(Exception):
    """Raised with every diagnostic found; the CLI prints them and exits 1."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.span.line, d.span.column, d.code))
