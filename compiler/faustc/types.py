"""What the compiler knows of an app's data: field types, Records, and each topic's codec.

:func:`record_types` turns the Records' annotations into ``faust.models.typeinfo.TypeNode``
trees (the runtime's own type tree: the compiler puts a class's name where the runtime has
the class) without importing the user's module: it reads the annotations' syntax, kept by
the reader, through the module's qualified names (never their text); the driver calls it
once per build and hands the result to every later phase. :func:`topic_codec` says which
Record a topic carries and with which codec, by Faust's rules. A class of the standard
library is looked up and described by the runtime (``threading.Lock`` is unsupported: no
codec writes it); any other class it does not know is ``unknown`` (the runtime decides).
Example::

    records = record_types(module)      # once per build, by the driver
    records["Order"].fields[0].type      # TypeNode(kind='str')
    topic_codec(module.topic("orders_topic"), records, is_key=False)    # ('Order', 'json')
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import sys
from collections.abc import Callable

import libcst as cst

from faust.models.typeinfo import TypeNode, describe
from faustc.front.ir import AppModule, FieldDef, RecordDef, Span, TopicDef

ANY = TypeNode("any")


_SIMPLE = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "bytes": "bytes",
    "decimal.Decimal": "decimal",
    "datetime.datetime": "datetime",
    "datetime.date": "date",
    "uuid.UUID": "uuid",
    "typing.Any": "any",
    "object": "any",
}


_CONTAINERS = {
    "list": "list",
    "typing.List": "list",
    "typing.Sequence": "list",
    "collections.abc.Sequence": "list",
    "typing.MutableSequence": "list",
    "set": "set",
    "typing.Set": "set",
    "typing.AbstractSet": "set",
    "collections.abc.Set": "set",
    "typing.MutableSet": "set",
    "frozenset": "frozenset",
    "typing.FrozenSet": "frozenset",
    "tuple": "tuple",
    "typing.Tuple": "tuple",
    "dict": "dict",
    "typing.Dict": "dict",
    "typing.Mapping": "dict",
    "collections.abc.Mapping": "dict",
    "typing.MutableMapping": "dict",
}


def resolve_type(node: cst.BaseExpression, qualified: Qualify, known: _Known) -> TypeNode:
    """The TypeNode of an annotation's syntax; names are read through the module's qualified
    names (``List`` imported from ``typing`` is ``typing.List``)."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        text = node.evaluated_value
        if not isinstance(text, str):
            return TypeNode("unsupported", py=_EMPTY.code_for_node(node))
        try:  # a forward reference: its names are read as written
            forward = cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return TypeNode("unsupported", py=text)
        return resolve_type(forward, _unqualified, known)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _union([resolve_type(part, qualified, known) for part in _union_parts(node)])
    dotted = _dotted(node, qualified)
    if dotted is not None:
        if dotted == "None":
            return TypeNode("none")
        if dotted in _SIMPLE:
            return TypeNode(_SIMPLE[dotted])
        if dotted in _CONTAINERS:
            kind = _CONTAINERS[dotted]
            return TypeNode(kind, (ANY, ANY) if kind == "dict" else (ANY,))
        if dotted in known.records:
            return TypeNode("record", py=dotted)
        if dotted in known.enums:
            return TypeNode("enum", py=dotted)
        if not _standard_type_encodes(dotted):
            return TypeNode("unsupported", py=dotted)
        return TypeNode("unknown", py=dotted)
    if isinstance(node, cst.Subscript):
        origin = _dotted(node.value, qualified) or ""
        elements = [
            element.slice.value for element in node.slice if isinstance(element.slice, cst.Index)
        ]
        if len(elements) != len(node.slice) or not elements:
            return TypeNode("unsupported", py=_qualified_text(node, qualified))
        if origin == "typing.Optional":
            return _union([resolve_type(elements[0], qualified, known), TypeNode("none")])
        if origin == "typing.Union":
            return _union([resolve_type(element, qualified, known) for element in elements])
        if origin == "typing.Literal":
            values = [_literal(element) for element in elements]
            if any(value is _NOT_A_LITERAL for value in values):
                return TypeNode("unsupported", py=_qualified_text(node, qualified))
            return TypeNode("literal", py=tuple(values))
        container = _CONTAINERS.get(origin)
        if container == "tuple":
            if len(elements) == 2 and isinstance(elements[1], cst.Ellipsis):
                return TypeNode("tuple", (resolve_type(elements[0], qualified, known),))
            return TypeNode(
                "fixed_tuple", tuple(resolve_type(e, qualified, known) for e in elements)
            )
        if container == "dict" and len(elements) == 2:
            return TypeNode("dict", tuple(resolve_type(e, qualified, known) for e in elements))
        if container is not None and len(elements) == 1:
            return TypeNode(container, (resolve_type(elements[0], qualified, known),))
    return TypeNode("unsupported", py=_qualified_text(node, qualified))


def _standard_type_encodes(dotted: str) -> bool:
    """False for a class of the standard library no codec can carry (``threading.Lock``,
    ``socket.socket``): the runtime's own ``describe`` says so of the class itself. Other
    names (the app's own classes, a Record of another module) are left to the runtime."""
    module, _, name = dotted.rpartition(".")
    if not module or module.split(".")[0] not in sys.stdlib_module_names:
        return True
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return True
    return describe(found).kind != "unsupported"


Qualify = Callable[[cst.CSTNode], set[str]]
_EMPTY = cst.Module(body=[])


@dataclasses.dataclass(frozen=True, slots=True)
class _Known:
    """The names of the module's Records and Enums."""

    records: frozenset[str]
    enums: frozenset[str]


def _unqualified(node: cst.CSTNode) -> set[str]:
    return set()


def _dotted(node: cst.BaseExpression, qualified: Qualify) -> str | None:
    """``a.b.c`` of a name or attribute chain, by its one qualified name when it has one."""
    if not isinstance(node, cst.Name | cst.Attribute):
        return None
    names = sorted(qualified(node))
    if len(names) == 1 and not names[0].startswith("."):
        return names[0].removeprefix("builtins.")
    if isinstance(node, cst.Name):
        return node.value
    base = _dotted(node.value, qualified)
    return f"{base}.{node.attr.value}" if base else None


_NOT_A_LITERAL = object()


def _literal(node: cst.BaseExpression) -> object:
    """A ``Literal[...]`` value (``_NOT_A_LITERAL``: an expression that is not one)."""
    try:
        return ast.literal_eval(_EMPTY.code_for_node(node))
    except (ValueError, SyntaxError):
        return _NOT_A_LITERAL


class _Qualified(cst.CSTTransformer):
    """Every name replaced by its one qualified name (for messages about a type)."""

    def __init__(self, qualified: Qualify) -> None:
        self.qualified = qualified

    def _replace(
        self, original: cst.BaseExpression, updated: cst.BaseExpression
    ) -> cst.BaseExpression:
        dotted = _dotted(original, self.qualified)
        if dotted is None:
            return updated
        first, *rest = dotted.split(".")
        node: cst.BaseExpression = cst.Name(first)
        for part in rest:
            node = cst.Attribute(value=node, attr=cst.Name(part))
        return node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return False

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)


def _qualified_text(node: cst.BaseExpression, qualified: Qualify) -> str:
    renamed = node.visit(_Qualified(qualified))
    assert isinstance(renamed, cst.BaseExpression)
    return " ".join(_EMPTY.code_for_node(renamed).split())


def _union_parts(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return [*_union_parts(node.left), *_union_parts(node.right)]
    return [node]


def _union(parts: list[TypeNode]) -> TypeNode:
    rest = [part for part in parts if part.kind != "none"]
    if len(rest) == 1 and len(rest) < len(parts):
        return TypeNode("optional", (rest[0],))
    return TypeNode("unsupported", py=" | ".join(str(part) for part in parts))


@dataclasses.dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    type: TypeNode
    input_name: str
    output_name: str
    exclude: bool
    has_default: bool
    default: str | None
    specifier: str | None
    args: dict[str, str]
    definition: FieldDef

    @property
    def span(self) -> Span:
        return self.definition.annotation_span or self.definition.span


@dataclasses.dataclass(frozen=True, slots=True)
class RecordInfo:
    name: str
    namespace: str
    fields: tuple[FieldInfo, ...]
    options: dict[str, str]
    definition: RecordDef


def literal_value(text: str | None) -> object:
    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def record_types(module: AppModule) -> dict[str, RecordInfo]:
    """Every Record of the module (fields of base Records first), by class name."""
    known = _Known(
        frozenset(record.name for record in module.records),
        frozenset(enum.name for enum in module.enums),
    )
    syntax = module.syntax
    qualified = syntax.qualified if syntax is not None else _unqualified
    result: dict[str, RecordInfo] = {}
    for record in module.records:
        options = dict(record.options)
        fields: dict[str, FieldInfo] = {}
        for base in record.bases:
            if base in result:
                fields.update((f.name, f) for f in result[base].fields)
                for key, value in result[base].options.items():
                    if key != "namespace":
                        options.setdefault(key, value)
        for field in record.fields:
            args = dict(field.specifier_args)
            input_name = literal_value(args.get("input_name"))
            output_name = literal_value(args.get("output_name"))
            has_default = (
                field.default is not None
                or "default_factory" in args
                or literal_value(args.get("required")) is False
            )
            fields[field.name] = FieldInfo(
                name=field.name,
                type=_field_type(field, qualified, known),
                input_name=input_name if isinstance(input_name, str) else field.name,
                output_name=output_name if isinstance(output_name, str) else field.name,
                exclude=literal_value(args.get("exclude")) is True,
                has_default=has_default,
                default=field.default,
                specifier=field.specifier,
                args=args,
                definition=field,
            )
        namespace = literal_value(dict(record.options).get("namespace"))
        result[record.name] = RecordInfo(
            name=record.name,
            namespace=namespace if isinstance(namespace, str) else f"{module.module}.{record.name}",
            fields=tuple(fields.values()),
            options=options,
            definition=record,
        )
    return result


def _field_type(field: FieldDef, qualified: Qualify, known: _Known) -> TypeNode:
    node = field.annotation_node
    assert node is not None, "the reader keeps every annotation's syntax"
    return resolve_type(node, qualified, known)


def nested_records(info: RecordInfo, records: dict[str, RecordInfo]) -> list[str]:
    """``info`` and every Record its fields reach, each once, dependencies first (depth
    first without recursion: a chain of a thousand Records, or two that refer to each
    other, are fine)."""
    order: list[str] = []
    entered: set[str] = set()
    stack: list[tuple[str, bool]] = [(info.name, False)]
    while stack:
        name, leaving = stack.pop()
        if leaving:
            order.append(name)
            continue
        if name in entered or name not in records:
            continue
        entered.add(name)
        stack.append((name, True))
        reached = [
            ref.name
            for field in records[name].fields
            for ref in walk(field.type)
            if ref.kind == "record" and ref.name != name
        ]
        stack.extend((ref, False) for ref in reversed(reached))
    return order


def walk(ref: TypeNode) -> list[TypeNode]:
    found = [ref]
    for arg in ref.args:
        found.extend(walk(arg))
    return found


def _type_name_text(text: str | None) -> str | None:
    return text.strip() if text else None


def topic_codec(
    topic: TopicDef, records: dict[str, RecordInfo], *, is_key: bool
) -> tuple[str | None, str]:
    """(the Record carried, the codec name) for a topic's keys or values (Faust's rules)."""
    type_text = _type_name_text(topic.key_type if is_key else topic.value_type)
    explicit = topic.key_serializer if is_key else topic.value_serializer
    record = type_text if type_text in records else None
    codec = literal_value(explicit)
    if not isinstance(codec, str):
        codec = None
    if codec is None and record is not None:
        own = literal_value(records[record].options.get("serializer"))
        codec = own if isinstance(own, str) else None
    if codec is None:
        codec = "raw" if is_key else "json"
    return record, codec


AVRO_CODECS = ("avro", "avro-confluent")


def wants_headers(records: dict[str, RecordInfo], topic: TopicDef, *, is_key: bool) -> bool:
    """Does decoding the topic's keys (values) read the message headers? avro-confluent
    does (the header form carries the schema id); so may a serializer the compiler cannot
    read (not a string literal), which the runtime decides on."""
    explicit = topic.key_serializer if is_key else topic.value_serializer
    if explicit is not None and not isinstance(literal_value(explicit), str):
        return True
    return topic_codec(topic, records, is_key=is_key)[1] == "avro-confluent"
