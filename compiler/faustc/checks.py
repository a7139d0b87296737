"""The semantic rules: user errors in programs that read fine but cannot work.

``check_module(module)`` and ``check_codecs(module, records)`` return diagnostics (mypy's
type errors are ``faustc.typecheck``'s; the IR's own invariants, a compiler bug when
broken, are ``faustc.front.validate``'s). Example::

    diagnostics = check_module(module) + check_codecs(module, records)  # []: all good

The semantic rules:

- FC109: a ``group_by(Record.field)`` names a field the Record does not have, or a Record
  that is not the value type of the stream at that point;
- FC111: a table written outside an agent or a task (Faust writes a table's changelog in
  the partition of the message being processed, so writes need one), found in module-level
  code and in functions no agent, task or timer calls;
- FC116 (a warning): an agent writes a table under a key that is the same for every
  message (``counts['all'] += 1``) while it consumes more than one partition: each
  partition keeps its own entry, and on more than one worker they never meet;
- FC300: a Record field whose type the codec of a topic carrying it cannot represent
  (:func:`check_codecs`).
"""

from __future__ import annotations

import libcst as cst

from faust.contract import changes_value
from faust.models.typeinfo import TypeNode
from faustc.diagnostics import Diagnostic
from faustc.front.constants import Statics
from faustc.front.ir import (
    AgentDef,
    AppModule,
    EnumDef,
    FieldRef,
    GroupBy,
    RecordDef,
    Span,
)
from faustc.front.syntax import SyntaxTree
from faustc.types import (
    AVRO_CODECS,
    FieldInfo,
    RecordInfo,
    literal_value,
    nested_records,
    topic_codec,
    walk,
)


def check_module(module: AppModule) -> list[Diagnostic]:
    """Semantic rules over ``module`` (FC111 reads the syntax tree the reader kept)."""
    diagnostics: list[Diagnostic] = []
    for agent in module.agents:
        diagnostics += check_group_by_keys(module, agent)
    if module.syntax is not None:
        diagnostics += check_table_writes(module, module.syntax)
        for agent in module.agents:
            diagnostics += check_table_keys(module, agent, module.syntax)
    return diagnostics


#: the methods of a table entry that change it (a set table's entry)
_ENTRY_WRITES = frozenset(
    {
        "add",
        "discard",
        "remove",
        "update",
        "clear",
        "pop",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
    }
)


def check_table_keys(module: AppModule, agent: AgentDef, syntax: SyntaxTree) -> list[Diagnostic]:
    """FC116: a table the agent's loop writes under a key that is the same for every
    message, while the stage consumes more than one partition (a table is partitioned as
    its source: the key is split, one entry per partition)."""
    partitions = _stage_partitions(module, agent)
    if partitions == 1:
        return []
    tables = {table.var: table for table in module.tables}
    statics = Statics(syntax)
    found: list[Diagnostic] = []
    seen: set[tuple[str, object]] = set()
    for subscript in _written_entries(agent, set(tables)):
        assert isinstance(subscript.value, cst.Name)
        table = tables[subscript.value.value]
        key_node = subscript.slice[0].slice
        if not isinstance(key_node, cst.Index):
            continue
        key = statics.evaluate(key_node.value, module.app)
        if key is None or (table.name, key.value) in seen:
            continue
        seen.add((table.name, key.value))
        source = f"its {partitions} partitions" if partitions else "the partitions it consumes"
        position = syntax.positions[subscript]
        span = Span(
            module.source_path,
            position.start.line,
            position.start.column + 1,
            position.end.line,
            position.end.column + 1,
        )
        found.append(
            Diagnostic(
                "FC116",
                f"table {table.name!r} is written under the key {key.value!r} from all "
                f"{source}: the table is partitioned as its source, so each partition "
                "keeps its own entry for that key, and on more than one worker they never "
                "meet; repartition by that key first (`.group_by(lambda value: "
                f"{key.value!r}, name='{_suffix(key.value)}')`) or give the source one "
                "partition",
                span,
                "warning",
            )
        )
    return found


def _stage_partitions(module: AppModule, agent: AgentDef) -> int | None:
    """How many partitions the stage that runs the loop body consumes, when the compiler
    knows (a repartition topic's own ``partitions=``, else the source's, else the App's
    ``topic_partitions``)."""
    default = module.app.topic_partitions
    group_bys = [op for op in agent.loop.operations if isinstance(op, GroupBy)]
    if group_bys:
        return group_bys[-1].partitions or default
    if any(op.kind == "through" for op in agent.loop.operations):
        return None
    topic = module.topic(agent.topic_var)
    return topic.partitions or default


def _written_entries(agent: AgentDef, tables: set[str]) -> list[cst.Subscript]:
    """The ``table[key]`` entries the loop body writes: assigned, updated in place,
    deleted, or changed by a method (``members[room].add(name)``)."""
    found: list[cst.Subscript] = []

    def entry(node: cst.BaseExpression) -> None:
        if (
            isinstance(node, cst.Subscript)
            and isinstance(node.value, cst.Name)
            and node.value.value in tables
            and len(node.slice) == 1
        ):
            found.append(node)

    class Writes(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            entry(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            entry(node.target)

        def visit_Del(self, node: cst.Del) -> None:
            entry(node.target)

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _ENTRY_WRITES:
                entry(func.value)

    for statement in agent.loop.body.statements:
        statement.visit(Writes())
    return found


def _suffix(key: object) -> str:
    """A repartition name for a constant key (``'all'`` -> ``all``)."""
    text = "".join(c if c.isalnum() else "_" for c in str(key)).strip("_")
    return text or "key"


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


def check_table_writes(module: AppModule, syntax: SyntaxTree) -> list[Diagnostic]:
    """FC111: writes to a table outside agents, tasks, timers and what they call."""
    tree = syntax.tree
    tables = {table.var for table in module.tables}
    if not tables:
        return []
    functions = {
        statement.name.value: statement
        for statement in tree.body
        if isinstance(statement, cst.FunctionDef)
    }
    # every function the App runs: agents, tasks, timers, crontabs ... (also an agent the
    # reader rejected: its own error says what is wrong, its table writes are not)
    allowed_roots = {
        name for name, function in functions.items() if _app_decorated(module, function)
    }
    allowed_roots |= {agent.name for agent in module.agents}
    allowed_roots |= {task.name for task in module.tasks}
    allowed_roots |= {timer.name for timer in module.timers}
    allowed = set()
    frontier = [name for name in allowed_roots if name in functions]
    while frontier:
        name = frontier.pop()
        if name in allowed:
            continue
        allowed.add(name)
        frontier += [called for called in _called_names(functions[name]) if called in functions]
    positions = syntax.positions
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

    for statement in tree.body:
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


def _app_decorated(module: AppModule, function: cst.FunctionDef) -> bool:
    """Whether a decorator of ``function`` is one of the App's (``@app.agent(...)``,
    ``@app.task``, ``@app.timer(...)``, ...)."""
    for decorator in function.decorators:
        node = decorator.decorator
        if isinstance(node, cst.Call):
            node = node.func
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value in module.app.names
        ):
            return True
    return False


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


def unrepresentable(field: FieldInfo, codec: str, enums: dict[str, EnumDef]) -> str | None:
    """Why ``codec`` cannot carry ``field`` (None when it can)."""
    return _why(field.type, codec, field, enums)


def _why(ref: TypeNode, codec: str, field: FieldInfo, enums: dict[str, EnumDef]) -> str | None:
    kind = ref.kind
    if kind == "unsupported":
        return f"{ref.name} is not a field type faust can encode"
    if kind == "dict" and ref.args[0].kind not in ("str", "int", "uuid", "enum", "any"):
        return f"dict keys of type {ref.args[0]} cannot be encoded (use str, int, UUID or an Enum)"
    if codec in AVRO_CODECS:
        if kind == "any":
            return "a field typed Any has no Avro schema"
        if kind == "fixed_tuple":
            return (
                f"a fixed-length tuple ({ref}) has no Avro schema (use tuple[T, ...] or a Record)"
            )
        if kind == "dict" and ref.args[0].kind != "str":
            return f"Avro maps have string keys; {ref} has {ref.args[0]} keys"
        if kind == "decimal" and not (
            field.specifier == "DecimalField"
            and "max_digits" in field.args
            and "decimal_places" in field.args
        ):
            return (
                "a Decimal needs DecimalField(max_digits=..., decimal_places=...) to be "
                "written as Avro (precision and scale)"
            )
        if kind == "literal":
            kinds = {type(value) for value in ref.py}
            if kinds not in ({str}, {int}):
                return "only Literal types of all str or all int values have an Avro schema"
        if kind == "optional" and ref.args[0].kind == "optional":
            return "nested Optional types have no Avro schema"
    for arg in ref.args:
        why = _why(arg, codec, field, enums)
        if why is not None:
            return why
    return None


def check_codecs(module: AppModule, records: dict[str, RecordInfo]) -> list[Diagnostic]:
    """FC300 for every field of a Record that the codec it is written with cannot
    represent: the codec of a topic carrying it, else the ``serializer=`` the Record names
    (an error: ``Record.dumps()`` uses it), else JSON, Faust's default (a warning: a
    Record that is never written may hold anything)."""
    enums = {enum.name: enum for enum in module.enums}
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[str, str, str]] = set()
    carried: set[str] = set()

    def check(record: str, codec: str, where: str, severity: str) -> None:
        for name in nested_records(records[record], records):
            carried.add(name)
            for field in records[name].fields:
                why = unrepresentable(field, codec, enums) or _recursive(name, field, records)
                key = (name, field.name, codec)
                if why is None or key in seen:
                    continue
                seen.add(key)
                diagnostics.append(
                    Diagnostic(
                        "FC300",
                        f"field {name}.{field.name}: the {codec} codec of {where} cannot "
                        f"represent it: {why}",
                        field.span,
                        severity,
                    )
                )

    for topic in module.topics:
        for is_key in (False, True):
            record, codec = topic_codec(topic, records, is_key=is_key)
            if record is not None:
                check(record, codec, f"topic {topic.names[0]!r}", "error")
    for record in sorted(set(records) - carried):
        own = literal_value(records[record].options.get("serializer"))
        if isinstance(own, str):
            check(record, own, f"{record} (its serializer=)", "error")
    for record in sorted(set(records) - carried):
        check(record, "json", f"{record} (Faust's default for a Record)", "warning")
    return diagnostics


def _recursive(record: str, field: FieldInfo, records: dict[str, RecordInfo]) -> str | None:
    """Why ``record.field`` cannot be compiled when it holds ``record`` again (directly or
    through other Records): the generated codecs define each Record's struct once, in
    dependency order, and a cycle has none."""
    for ref in walk(field.type):
        if ref.kind != "record" or ref.name not in records:
            continue
        if ref.name == record or record in nested_records(records[ref.name], records):
            through = "" if ref.name == record else f" (through {ref.name})"
            return (
                f"it holds a {record} again{through}: Records that contain themselves are "
                "not compiled yet"
            )
    return None
