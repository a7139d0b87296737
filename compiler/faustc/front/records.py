"""Read Records and Enums: each class's fields, their annotations and defaults, options.

Field annotations keep their source text and their syntax (which ``faustc.types``
resolves through the module's qualified names); a default that calls a ``faust`` field
class (``DecimalField(max_digits=12)``) is read as a field specifier. Example::

    # class Order(faust.Record, serializer="json"):
    #     amount: Decimal = DecimalField(max_digits=12, decimal_places=2)
    read_class(context, node)
    context.records[-1].fields[0].specifier     # 'DecimalField'
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from faust.contract import FIELD_SPECIFIER_NAMES
from faustc.front.context import ModuleContext
from faustc.front.ir import EnumDef, FieldDef, RecordDef, Span

RECORD_NAMES = frozenset({"faust.Record", "faust.models.Record", "faust.models.record.Record"})
ENUM_NAMES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum"})


def read_field(
    statement: cst.AnnAssign,
    *,
    code: Callable[[cst.CSTNode], str],
    qualified: Callable[[cst.CSTNode], set[str]],
    span: Span,
    annotation_span: Span,
) -> FieldDef:
    """The FieldDef of ``name: annotation [= default]`` in a Record body."""
    assert isinstance(statement.target, cst.Name)
    annotation = statement.annotation.annotation
    value = statement.value
    default = code(value) if value is not None else None
    specifier = None
    specifier_args: tuple[tuple[str, str], ...] = ()
    if isinstance(value, cst.Call):
        func_names = {name.rsplit(".", 1)[-1] for name in qualified(value.func)}
        if not func_names and isinstance(value.func, cst.Name | cst.Attribute):
            func_names = {code(value.func).rsplit(".", 1)[-1]}
        found = func_names & FIELD_SPECIFIER_NAMES
        if found:
            specifier = found.pop()
            specifier_args = tuple(
                (arg.keyword.value, code(arg.value)) for arg in value.args if arg.keyword
            )
            default = dict(specifier_args).get("default")
    return FieldDef(
        statement.target.value,
        code(annotation),
        value is not None,
        span,
        default=default,
        specifier=specifier,
        specifier_args=specifier_args,
        annotation_span=annotation_span,
        annotation_node=annotation,
        default_node=value,
    )


def read_enum(node: cst.ClassDef, code: Callable[[cst.CSTNode], str], span: Span) -> EnumDef:
    members: list[tuple[str, str]] = []
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and not small.targets[0].target.value.startswith("_")
            ):
                members.append((small.targets[0].target.value, code(small.value)))
    return EnumDef(node.name.value, tuple(members), span)


def read_class(context: ModuleContext, node: cst.ClassDef) -> None:
    record_names = {record.name for record in context.records}
    bases = []
    is_record = False
    for base in node.bases:
        if base.keyword is not None:
            continue
        bases.append(context.code(base.value))
        if context.qualified(base.value) & RECORD_NAMES or (
            isinstance(base.value, cst.Name) and base.value.value in record_names
        ):
            is_record = True
    if not is_record:
        if any(context.qualified(base.value) & ENUM_NAMES for base in node.bases):
            context.enums.append(read_enum(node, context.code, context.span(node)))
        return
    options = [(kw.keyword.value, context.code(kw.value)) for kw in node.keywords if kw.keyword]
    fields: list[FieldDef] = []
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == "Meta":
            for meta_line in statement.body.body:
                if isinstance(meta_line, cst.SimpleStatementLine):
                    for small in meta_line.body:
                        if (
                            isinstance(small, cst.Assign)
                            and len(small.targets) == 1
                            and isinstance(small.targets[0].target, cst.Name)
                        ):
                            name = small.targets[0].target.value
                            options.append((name, context.code(small.value)))
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                continue
            annotation = context.code(small.annotation.annotation)
            name = small.target.value
            if name.startswith("_") or annotation.startswith(("ClassVar", "typing.ClassVar")):
                continue
            fields.append(
                read_field(
                    small,
                    code=context.code,
                    qualified=context.qualified,
                    span=context.span(small.target),
                    annotation_span=context.span(small.annotation.annotation),
                )
            )
    has_methods = any(isinstance(statement, cst.FunctionDef) for statement in body)
    context.records.append(
        RecordDef(
            node.name.value,
            tuple(bases),
            tuple(fields),
            tuple(options),
            context.span(node),
            has_methods=has_methods,
        )
    )


# -- functions: agents, tasks, timers --------------------------------------------------
