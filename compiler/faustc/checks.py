"""Checks over the IR: semantic rules (user errors) and the IR validator (compiler bugs).

``check_module(module)`` returns diagnostics for Faust programs that read fine but cannot
work; ``validate_ir(module)`` asserts the invariants every later pass relies on, and is run
on every IR the tests build. Example::

    diagnostics = check_module(module)     # [] for a good module
    validate_ir(module)                    # raises IRError if the reader built nonsense

The semantic rules (codec rules are ``faustc.records.check_codecs``, FC300):

- FC109: a ``group_by(Record.field)`` names a field the Record does not have, or a Record
  that is not the value type of the stream at that point;
- FC111: a table written outside an agent or a task (Faust writes a table's changelog in
  the partition of the message being processed, so writes need one), found in module-level
  code and in functions no agent, task or timer calls.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from faust.contract import changes_value
from faustc.diagnostics import Diagnostic
from faustc.ir import (
    BOUNDARIES,
    AgentDef,
    AppModule,
    FieldRef,
    GroupBy,
    RecordDef,
    Span,
)


class IRError(AssertionError):
    """The IR breaks an invariant: a bug in faustc, not in the user's program."""


def check_module(module: AppModule, tree: cst.Module | None = None) -> list[Diagnostic]:
    """Semantic rules over ``module`` (``tree`` is the parsed source, for FC111)."""
    diagnostics: list[Diagnostic] = []
    for agent in module.agents:
        diagnostics += check_group_by_keys(module, agent)
    if tree is not None:
        diagnostics += check_table_writes(module, tree)
    return diagnostics


def check_group_by_keys(module: AppModule, agent: AgentDef) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    value_type = module.topic(agent.topic_var).value_type
    known = True  # whether value_type is still the stream's value type
    for operation in agent.loop.operations:
        if changes_value(operation.kind):
            known = False
        if not isinstance(operation, GroupBy) or not isinstance(operation.key, FieldRef):
            continue
        key = operation.key
        record = module.record(key.record)
        if record is None:
            continue  # imported from elsewhere: mypy checks it
        fields = _all_fields(module, record)
        if key.field not in fields:
            found.append(
                Diagnostic(
                    "FC109",
                    f"group_by key {key.record}.{key.field}: {key.record} has no field "
                    f"{key.field!r} (fields: {', '.join(fields) or 'none'})",
                    operation.span,
                )
            )
        elif known and value_type is not None and value_type != key.record:
            found.append(
                Diagnostic(
                    "FC109",
                    f"group_by key {key.record}.{key.field} is a field of {key.record}, but "
                    f"the stream carries {value_type} values",
                    operation.span,
                )
            )
    return found


def _all_fields(module: AppModule, record: RecordDef) -> list[str]:
    fields: list[str] = []
    for base in record.bases:
        parent = module.record(base)
        if parent is not None:
            fields += [f for f in _all_fields(module, parent) if f not in fields]
    fields += [field.name for field in record.fields if field.name not in fields]
    return fields


_WRITING_METHODS = frozenset({"update", "pop", "popitem", "clear", "setdefault", "__setitem__"})


def check_table_writes(module: AppModule, tree: cst.Module) -> list[Diagnostic]:
    """FC111: writes to a table outside agents, tasks, timers and what they call."""
    tables = {table.var for table in module.tables}
    if not tables:
        return []
    allowed_roots = {agent.name for agent in module.agents}
    allowed_roots |= {task.name for task in module.tasks}
    allowed_roots |= {timer.name for timer in module.timers}
    functions = {
        statement.name.value: statement
        for statement in tree.body
        if isinstance(statement, cst.FunctionDef)
    }
    allowed = set()
    frontier = [name for name in allowed_roots if name in functions]
    while frontier:
        name = frontier.pop()
        if name in allowed:
            continue
        allowed.add(name)
        frontier += [called for called in _called_names(functions[name]) if called in functions]
    wrapper = MetadataWrapper(tree)
    positions = wrapper.resolve(PositionProvider)
    found: list[Diagnostic] = []

    def report(node: cst.CSTNode, table: str, where: str) -> None:
        position = positions[node]
        span = Span(
            module.source_path,
            position.start.line,
            position.start.column + 1,
            position.end.line,
            position.end.column + 1,
        )
        found.append(
            Diagnostic(
                "FC111",
                f"table {table!r} is written {where}; write tables inside an agent or a task "
                "(the write goes to the changelog partition of the message being processed)",
                span,
            )
        )

    for statement in wrapper.module.body:
        if isinstance(statement, cst.FunctionDef):
            name = statement.name.value
            if name in allowed:
                continue
            where = f"in {name}(), which no agent, task or timer calls"
        elif isinstance(statement, cst.ClassDef):
            continue
        else:
            where = "at module level"
        for node, table in _table_writes(statement, tables):
            report(node, table, where)
    return found


def _called_names(function: cst.FunctionDef) -> set[str]:
    names: set[str] = set()

    class Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name):
                names.add(node.func.value)

    function.body.visit(Calls())
    return names


def _table_writes(node: cst.CSTNode, tables: set[str]) -> list[tuple[cst.CSTNode, str]]:
    writes: list[tuple[cst.CSTNode, str]] = []

    def table_of(target: cst.BaseExpression) -> str | None:
        if (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Name)
            and target.value.value in tables
        ):
            return target.value.value
        return None

    class Writes(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            table = table_of(node.target)
            if table:
                writes.append((node.target, table))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            table = table_of(node.target)
            if table:
                writes.append((node.target, table))

        def visit_Del(self, node: cst.Del) -> None:
            table = table_of(node.target)
            if table:
                writes.append((node.target, table))

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value in tables
                and func.attr.value in _WRITING_METHODS
            ):
                writes.append((func, func.value.value))

    node.visit(Writes())
    return writes


def validate_ir(module: AppModule) -> None:
    """Raise IRError when ``module`` breaks an invariant of the IR."""
    topic_vars = [topic.var for topic in module.topics]
    _unique("topic variable", topic_vars)
    _unique("table name", [table.name for table in module.tables])
    _unique("agent", [agent.qualified_name for agent in module.agents])
    _unique("record", [record.name for record in module.records])
    for agent in module.agents:
        if agent.topic_var not in topic_vars:
            raise IRError(f"agent {agent.name} consumes unknown topic variable {agent.topic_var}")
        if agent.kind not in ("agent", "task"):
            raise IRError(f"agent {agent.name} has kind {agent.kind}")
        if agent.kind == "task" and agent.param:
            raise IRError(f"task {agent.name} has a stream parameter")
        if agent.loop.terminal.kind not in ("values", "items", "events", "enumerate", "take"):
            raise IRError(f"agent {agent.name} has loop mode {agent.loop.terminal.kind}")
        if (agent.loop.terminal.kind == "take") != (agent.loop.terminal.max_ is not None):
            raise IRError(f"agent {agent.name}: take without max_ or max_ without take")
        if not set(agent.globals_used) <= module.module_names:
            raise IRError(f"agent {agent.name} imports names the module does not define")
        if agent.concurrency < 1:
            raise IRError(f"agent {agent.name} has concurrency {agent.concurrency}")
        kinds = [operation.kind for operation in agent.loop.operations]
        if agent.concurrency > 1 and any(kind in BOUNDARIES for kind in kinds):
            raise IRError(f"agent {agent.name}: a stage boundary with concurrency > 1")
        for operation in agent.loop.operations:
            function = getattr(operation, "function", None)
            if isinstance(operation, GroupBy) and not isinstance(operation.key, FieldRef):
                function = operation.key
            if function is not None and (function.kind == "lambda") != (function.param is not None):
                raise IRError(f"agent {agent.name}: lambda without parameter or vice versa")
        spans = [agent.span, agent.loop.span, *(op.span for op in agent.loop.operations)]
        for span in spans:
            if span.line < 1 or span.end_line < span.line or span.column < 1:
                raise IRError(f"agent {agent.name} has an invalid span {span}")
    for topic in module.topics:
        if not topic.names:
            raise IRError(f"topic {topic.var} has no name")
    for timer in module.timers:
        if (timer.interval is None) == (timer.cron is None):
            raise IRError(f"timer {timer.name} needs exactly one of interval and cron")


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IRError(f"duplicate {what} {name!r} in the IR")
        seen.add(name)
