"""The compiler driver: read, check, plan, emit, write. Read it as the table of contents.

Example::

    result = build_worker(Path("examples/wordcount.py"), Path("build"), typecheck=True)
    result.worker_path        # build/wordcount_worker.py

The steps, in ``check_source`` and ``compile_source``: read (libcst -> the front IR, the
syntax tree kept), validate the IR, resolve the Records' types (once), the semantic rules
and the codec rules, mypy (optional; the CLI runs it unless ``--no-typecheck``); then
decide the codecs, build the plain plan, run the passes (``faustc.plan.passes.PASSES``),
validate the plan, emit the worker's text, ``compile()`` it (a worker that does not
compile is a faustc bug: WorkerDoesNotCompile, at the app line it came from, and nothing
is written); ``build_worker`` writes it.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from faust.contract import LineRange, source_line
from faustc.checks import check_codecs, check_module
from faustc.codecs.plan import plan_codecs
from faustc.diagnostics import CompileError, Diagnostic, as_warning
from faustc.discovery import uncompiled_agents
from faustc.emit.worker import write_worker
from faustc.front.ir import AppModule, Span
from faustc.front.reader import read_module_partially
from faustc.front.validate import IRError, validate_ir
from faustc.plan.model import WorkerPlan
from faustc.plan.passes import PASSES, AgentPass, PassContext, run_passes
from faustc.plan.stages import build_plan
from faustc.plan.validate import validate_plan
from faustc.source import SourceFile
from faustc.typecheck import typecheck as run_mypy
from faustc.types import RecordInfo, record_types


@dataclasses.dataclass(frozen=True)
class Checked:
    """A module that passed the checks: its IR, its Records' types, and the warnings
    found on the way (mypy's findings, unless ``strict``, and the compiler's own)."""

    module: AppModule
    records: dict[str, RecordInfo]
    warnings: list[Diagnostic]


@dataclasses.dataclass(frozen=True)
class BuildResult:
    source: SourceFile
    module: AppModule
    plan: WorkerPlan
    text: str
    worker_path: Path
    #: what the build reports without failing (warnings and their notes), in source order
    warnings: list[Diagnostic] = dataclasses.field(default_factory=list)


def worker_path_for(source: SourceFile, out_dir: Path) -> Path:
    return out_dir / f"{source.stem}_worker.py"


def check_source(
    source: SourceFile, out_dir: Path, *, typecheck: bool = True, strict: bool = False
) -> Checked:
    """Read and check ``source``: the IR and its Records' types (resolved once, here), or
    CompileError with every problem found (the reader's, the semantic rules', and mypy's
    unless ``typecheck`` is false). mypy's findings are warnings unless ``strict``: a
    user's own type problems do not stop the build (``faustc check`` is strict)."""
    module, diagnostics = read_module_partially(source)
    if module is None:
        raise CompileError(diagnostics)
    try:
        validate_ir(module)
    except IRError:
        if not any(diagnostic.severity == "error" for diagnostic in diagnostics):
            raise  # a faustc bug: the user's program is fine
        raise CompileError(diagnostics) from None  # what the user must fix explains it
    records = record_types(module)
    diagnostics += check_module(module) + check_codecs(module, records)
    diagnostics += uncompiled_agents(module, source)
    if typecheck:
        findings = run_mypy(source, out_dir / ".mypy_cache")
        diagnostics += findings if strict else [as_warning(found) for found in findings]
    if any(diagnostic.severity == "error" for diagnostic in diagnostics):
        raise CompileError(diagnostics)
    warnings = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column))
    return Checked(module, records, warnings)


def compile_source(
    source: SourceFile,
    out_dir: Path,
    *,
    typecheck: bool = False,
    strict: bool = False,
    passes: tuple[AgentPass, ...] = PASSES,
) -> BuildResult:
    """Compile ``source`` in memory (nothing is written); raises CompileError. ``passes``
    are the plan's passes (the tests run the plain plan with ``bind_locals`` alone)."""
    checked = check_source(source, out_dir, typecheck=typecheck, strict=strict)
    module, records = checked.module, checked.records
    codecs = plan_codecs(module, records)
    plan = build_plan(module, records, codecs, source, out_dir)
    plan = run_passes(plan, PassContext(module, records, codecs), passes)
    validate_plan(plan)
    text = write_worker(plan, records)
    worker_path = worker_path_for(source, out_dir)
    check_worker_compiles(source, text, worker_path)
    return BuildResult(source, module, plan, text, worker_path, checked.warnings)


class WorkerDoesNotCompile(Exception):
    """faustc generated a worker Python cannot compile: a faustc bug (exit 2), reported at
    the app's line the broken worker line came from, before anything is written."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def check_worker_compiles(source: SourceFile, text: str, worker_path: Path) -> None:
    """Raise WorkerDoesNotCompile when ``text`` (the worker) is not valid Python."""
    try:
        compile(text, str(worker_path), "exec", dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError, ValueError) as exc:
        line = exc.lineno if isinstance(exc, SyntaxError) and exc.lineno else 0
        why = exc.msg if isinstance(exc, SyntaxError) else f"{type(exc).__name__}: {exc}"
        app_line = source_line(_line_table(text), line) if line else None
        line_text = source.lines[app_line - 1] if app_line and app_line <= len(source.lines) else ""
        column = len(line_text) - len(line_text.lstrip()) + 1
        end = max(len(line_text) + 1, column + 1)
        span = Span(str(source.path), app_line or 1, column, app_line or 1, end)
        message = (
            f"faustc generated a worker that does not compile ({worker_path.name} line "
            f"{line}: {why}){' from this line' if app_line else ''}; this is a faustc bug, "
            "please report it with this file"
        )
        raise WorkerDoesNotCompile(Diagnostic("FC900", message, span)) from exc


def _line_table(text: str) -> tuple[LineRange, ...]:
    """The worker's ``SOURCE_LINES`` (which app line each worker line comes from), read
    back from its text: the worker itself does not compile."""
    start = text.rfind("\nSOURCE_LINES")
    if start < 0:
        return ()
    value = text[text.index("=", start) + 1 :]
    value = value[: value.find("\n)") + 2] if value.lstrip().startswith("(\n") else value
    try:
        table = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return ()
    return tuple(table) if isinstance(table, tuple) else ()


def build_worker(
    path: Path,
    out_dir: Path,
    *,
    typecheck: bool = False,
    strict: bool = False,
    passes: tuple[AgentPass, ...] = PASSES,
) -> BuildResult:
    """Compile ``path`` and write ``<out_dir>/<stem>_worker.py``."""
    result = compile_source(
        SourceFile.load(path), out_dir, typecheck=typecheck, strict=strict, passes=passes
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    result.worker_path.write_text(result.text, encoding="utf-8")
    return result
