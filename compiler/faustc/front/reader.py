"""Read a Faust module with libcst into the front IR (``faustc.front.ir``): the driver.

``read_module(source)`` parses the module once, resolves libcst's metadata (positions,
qualified names, scopes) once, and hands each top-level statement to the reader of what it
declares: ``faustc.front.declarations`` (the App, topics, tables), ``faustc.front.records``
(Records and Enums), ``faustc.front.agents`` (agents, tasks, timers and their stream
loops). Everything it cannot compile is reported as a diagnostic with the exact span; all
of them are raised together in one :class:`CompileError`. Example::

    module = read_module(SourceFile.load(Path("examples/wordcount.py")))
    module.agents[0].loop.target        # 'word'
"""

from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import MetadataWrapper

from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.agents import FunctionReader
from faustc.front.context import ModuleContext
from faustc.front.declarations import read_assignment
from faustc.front.ir import AppModule, Span
from faustc.front.records import read_class
from faustc.source import SourceFile


def read_module(source: SourceFile) -> AppModule:
    """Parse ``source`` and build its IR, or raise CompileError with every problem found."""
    module, diagnostics = read_module_partially(source)
    if module is None or any(d.severity == "error" for d in diagnostics):
        raise CompileError(diagnostics)
    return module


def read_module_partially(source: SourceFile) -> tuple[AppModule | None, list[Diagnostic]]:
    """The IR of everything that reads fine (None without an App), and the diagnostics of
    the rest, so later checks can report their findings in the same run."""
    python_error = python_syntax_error(source)
    if python_error is not None:
        return None, [python_error]
    try:
        tree = cst.parse_module(source.text)
    except cst.ParserSyntaxError as exc:  # Python reads it, libcst does not
        line, column = exc.raw_line, exc.raw_column + 1
        span = Span(str(source.path), line, column, line, column + 1)
        return None, [Diagnostic("FC001", f"invalid syntax: {exc.message}", span)]
    context = ModuleContext(source, MetadataWrapper(tree))
    return _read(context), context.errors


def python_syntax_error(source: SourceFile) -> Diagnostic | None:
    """CPython's own report of a syntax error in ``source`` (its message, line and column,
    as ``python app.py`` prints them: ``expected ':'``), None when Python reads it."""
    try:
        ast.parse(source.text, str(source.path))
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = max(exc.offset or 1, 1)
        end_line = exc.end_lineno or line
        end_column = exc.end_offset or column + 1
        if (end_line, end_column) <= (line, column):
            end_line, end_column = line, column + 1
        span = Span(str(source.path), line, column, end_line, end_column)
        return Diagnostic("FC001", exc.msg, span)
    return None


def _read(context: ModuleContext) -> AppModule | None:
    body = context.tree.body
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            context.module_functions[statement.name.value] = statement.asynchronous is not None
        elif isinstance(statement, cst.ClassDef):
            context.class_names.add(statement.name.value)
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            read_assignment(context, statement)
        elif isinstance(statement, cst.ClassDef):
            read_class(context, statement)
    for statement in body:
        if isinstance(statement, cst.FunctionDef) and any(
            isinstance(d.decorator, cst.Call) and context.is_app_method(d.decorator, "agent")
            for d in statement.decorators
        ):
            context.agent_functions.add(statement.name.value)
            context.module_functions.pop(statement.name.value, None)
    functions = FunctionReader(context)
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            functions.read_function(statement)
    if context.app is None and not any(d.severity == "error" for d in context.errors):
        context.error("FC100", "no `faust.App(...)` is created at module level", context.tree)
    if context.app is None:
        return None
    return AppModule(
        module=context.source.module,
        display_name=context.source.display_name,
        app=context.app,
        records=tuple(context.records),
        topics=tuple(context.topics),
        tables=tuple(context.tables),
        agents=tuple(context.agents),
        timers=tuple(context.timers),
        module_names=context.module_names,
        tasks=tuple(context.tasks),
        class_names=frozenset(context.class_names),
        source_path=str(context.source.path),
        enums=tuple(context.enums),
        module_state=context.syntax.rebound_globals(),
        syntax=context.syntax,
    )
