"""Checks over the IR: semantic rules (user errors) and the IR validator (compiler bugs).

``check_module(module)`` returns diagnostics for Faust programs that read fine but cannot
work; ``validate_ir(module)`` asserts the invariants every later pass relies on, and is run
on every IR the tests build. Example::

    diagnostics = check_module(module)     # [] for a good module
    validate_ir(module)                    # raises IRError if the reader built nonsense

The semantic rules:

- FC109: a ``group_by(Record.field)`` names a field the Record does not have, or a Record
  that is not the value type of the stream at that point;
- FC110: a Record field whose type the topic's codec cannot carry (``raw`` carries only
  ``str``/``bytes`` values; JSON carries numbers, strings, bools, bytes, Decimal, dates,
  UUIDs, enums, Records, and lists/sets/tuples/dicts/Optionals of those);
- FC111: a table written outside an agent or a task (Faust writes a table's changelog in
  the partition of the message being processed, so writes need one), found in module-level
  code and in functions no agent, task or timer calls.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from faustc.diagnostics import Diagnostic
from faustc.ir import (
    BOUNDARIES,
    AgentDef,
    AppModule,
    FieldRef,
    GroupBy,
    RecordDef,
    Span,
    TopicDef,
)

#: what Faust's JSON codec carries, by annotation name (Records are checked separately)
JSON_TYPES = frozenset(
    {
        "str",
        "int",
        "float",
        "bool",
        "bytes",
        "None",
        "Any",
        "object",
        "Decimal",
        "decimal.Decimal",
        "datetime",
        "datetime.datetime",
        "date",
        "datetime.date",
        "UUID",
        "uuid.UUID",
        "list",
        "List",
        "typing.List",
        "dict",
        "Dict",
        "typing.Dict",
        "set",
        "Set",
        "frozenset",
        "tuple",
        "Tuple",
        "Optional",
        "typing.Optional",
        "Union",
        "typing.Union",
        "Sequence",
        "Mapping",
        "Literal",
    }
)


class IRError(AssertionError):
    """The IR breaks an invariant: a bug in faustc, not in the user's program."""


def check_module(module: AppModule, tree: cst.Module | None = None) -> list[Diagnostic]:
    """Semantic rules over ``module`` (``tree`` is the parsed source, for FC111)."""
    diagnostics: list[Diagnostic] = []
    for agent in module.agents:
        diagnostics += check_group_by_keys(module, agent)
    diagnostics += check_codecs(module)
    if tree is not None:
        diagnostics += check_table_writes(module, tree)
    return diagnostics


def check_group_by_keys(module: AppModule, agent: AgentDef) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    value_type = module.topic(agent.topic_var).value_type
    known = True  # whether value_type is still the stream's value type
    for operation in agent.loop.operations:
        if operation.kind in ("map", "processor"):
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


def _serializer(topic: TopicDef, record: RecordDef, keyword: str | None) -> str:
    if keyword is not None:
        return keyword
    for name, value in record.options:
        if name == "serializer":
            return value.strip("'\"")
    return "json"


def check_codecs(module: AppModule) -> list[Diagnostic]:
    """FC110: Record fields the topic's value codec cannot carry."""
    found: list[Diagnostic] = []
    records = {record.name: record for record in module.records}
    checked: set[tuple[str, str]] = set()
    for topic in module.topics:
        record = records.get(topic.value_type or "")
        if record is None:
            continue
        serializer = _serializer(topic, record, topic.value_serializer)
        if (record.name, serializer) in checked:
            continue
        checked.add((record.name, serializer))
        if serializer == "raw":
            found.append(
                Diagnostic(
                    "FC110",
                    f"topic {topic.names[0]!r} carries {record.name} records with the raw "
                    "codec, which carries only str or bytes: use value_serializer='json'",
                    topic.span,
                )
            )
            continue
        if serializer != "json":
            continue  # other codecs (Avro, ...) check their own schemas
        for field in record.fields:
            bad = _unsupported_json_names(field.annotation, module, records)
            if bad:
                found.append(
                    Diagnostic(
                        "FC110",
                        f"field {record.name}.{field.name}: the JSON codec of topic "
                        f"{topic.names[0]!r} cannot carry {', '.join(bad)}",
                        field.span,
                    )
                )
    return found


def _unsupported_json_names(
    annotation: str, module: AppModule, records: dict[str, RecordDef]
) -> list[str]:
    try:
        expression = cst.parse_expression(annotation)
    except cst.ParserSyntaxError:
        return []
    bad: list[str] = []
    defined = module.module_names

    class Names(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            text = cst.Module(body=[]).code_for_node(node)
            if text not in JSON_TYPES and text.split(".")[0] in defined:
                bad.append(text)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            name = node.value
            if name in JSON_TYPES or name in records:
                return
            # A class of this module that is not a Record (imported names may be Enums,
            # type aliases ...: mypy and the runtime check those).
            if name in defined and name[:1].isupper() and name in _class_names(module):
                bad.append(name)

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            return None

    expression.visit(Names())
    return bad


def _class_names(module: AppModule) -> frozenset[str]:
    return module.class_names


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
