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
from collections.abc import Callable
from typing import TypeVar

import libcst as cst
from libcst.metadata import MetadataWrapper

from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.agents import FunctionReader
from faustc.front.context import ModuleContext
from faustc.front.declarations import read_assignment
from faustc.front.ir import AgentDef, AppModule, RecordDef, Span, TableDef, TopicDef
from faustc.front.limits import longest_statement, module_limits
from faustc.front.records import read_class
from faustc.source import SourceFile

T = TypeVar("T", TopicDef, TableDef, AgentDef, RecordDef)


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
    as ``python app.py`` prints them: ``expected ':'``), or the first size limit the module
    passes (``faustc.front.limits``), None when Python reads it and libcst may. Python's
    compiler runs too, for the errors its parser leaves to it (``'return' outside
    function``, ``'yield' inside list comprehension``)."""
    path = str(source.path)
    try:
        tree = ast.parse(source.text, path)
    except SyntaxError as exc:
        return _syntax_diagnostic(path, exc)
    except (RecursionError, MemoryError):
        return _too_deep_for_python(source)
    too_big = module_limits(tree, source.text, path)
    if too_big is not None:
        return too_big
    try:
        compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _syntax_diagnostic(path, exc)
    except (RecursionError, MemoryError):
        return _too_deep_for_python(source)
    return None


def _syntax_diagnostic(path: str, exc: SyntaxError) -> Diagnostic:
    line = exc.lineno or 1
    column = max(exc.offset or 1, 1)
    end_line = exc.end_lineno or line
    end_column = exc.end_offset or column + 1
    if (end_line, end_column) <= (line, column):
        end_line, end_column = line, column + 1
    span = Span(path, line, column, end_line, end_column)
    return Diagnostic("FC001", exc.msg, span)


def _too_deep_for_python(source: SourceFile) -> Diagnostic:
    """Python's parser gave up (a RecursionError without a position): the diagnostic points
    at the statement with the most tokens, where such depth comes from."""
    line, column = longest_statement(source.text)
    span = Span(str(source.path), line, column, line, column + 1)
    return Diagnostic(
        "FC002",
        "code nested too deeply or too long for Python's parser (write the inner part as "
        "a function or a module constant)",
        span,
    )


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
    _drop_redefinitions(context)
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


def _drop_redefinitions(context: ModuleContext) -> None:
    """Report a topic variable, agent, Record or table name defined a second time (at the
    second one) and keep the first: later phases need one of each."""

    def first_of_each(
        items: list[T], key: Callable[[T], str], what: Callable[[T, T], str]
    ) -> list[T]:
        first: dict[str, T] = {}
        for item in items:
            seen = first.setdefault(key(item), item)
            if seen is not item:
                context.errors.append(Diagnostic("FC118", what(item, seen), _span_of(item)))
        return list(first.values())

    context.topics = first_of_each(
        context.topics,
        lambda topic: topic.var,
        lambda topic, first: (
            f"{topic.var!r} is assigned a second topic (the first at line "
            f"{first.span.line}): the compiler needs one topic per variable; name this one "
            "differently"
        ),
    )
    context.tables = first_of_each(
        context.tables,
        lambda table: table.name,
        lambda table, first: (
            f"a second table named {table.name!r} (the first at line "
            f"{first.span.line}): Faust refuses it (Table with name {table.name!r} already exists)"
        ),
    )
    context.agents = first_of_each(
        context.agents,
        lambda agent: agent.qualified_name,
        lambda agent, first: (
            f"{agent.kind} {agent.qualified_name!r} is defined a second time "
            f"(the first at line {first.span.line}): Faust would run only the last one; rename "
            "one of them"
        ),
    )
    context.agents = first_of_each(
        context.agents,
        lambda agent: agent.name,
        lambda agent, first: (
            f"function {agent.name!r} is defined a second time (the first "
            f"at line {first.span.line}, {first.kind} {first.qualified_name!r}): the compiler "
            "names a compiled agent after its function; rename one of them"
        ),
    )
    context.records = first_of_each(
        context.records,
        lambda record: record.name,
        lambda record, first: (
            f"Record {record.name!r} is defined a second time (the first "
            f"at line {first.span.line}): rename one of them"
        ),
    )


def _span_of(item: TopicDef | TableDef | AgentDef | RecordDef) -> Span:
    return item.span
