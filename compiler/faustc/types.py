"""What the compiler knows of an app's data: field types, Records, and each topic's codec.

:func:`record_types` turns the Records' annotations into :class:`TypeRef` trees (the
compile-time twin of ``faust.models.typeinfo.TypeNode``) without importing the user's
module; :func:`topic_codec` says which Record a topic carries and with which codec, by
Faust's rules. Example::

    types = record_types(module)
    types["Order"].fields[0].type        # TypeRef(kind='str')
    topic_codec(module.topic("orders_topic"), types, is_key=False)    # ('Order', 'json')
"""

from __future__ import annotations

import ast
import dataclasses

from faustc.front.ir import AppModule, FieldDef, RecordDef, Span, TopicDef


@dataclasses.dataclass(frozen=True, slots=True)
class TypeRef:
    """A field type as the compiler understands it (kinds as in ``TypeNode``).

    ``name`` is the Record or Enum class name; ``values`` the literal values' source;
    kind ``unknown`` is a name this module does not define (an imported class).
    """

    kind: str
    args: tuple[TypeRef, ...] = ()
    name: str = ""
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind in ("record", "enum", "unknown"):
            return self.name
        if self.kind == "literal":
            return f"Literal[{', '.join(self.values)}]"
        if self.kind == "optional":
            return f"Optional[{self.args[0]}]"
        if self.kind == "tuple":
            return f"tuple[{self.args[0]}, ...]"
        if self.args:
            return f"{self.kind}[{', '.join(str(a) for a in self.args)}]"
        return self.kind


ANY = TypeRef("any")


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


def parse_type(text: str, records: set[str], enums: set[str]) -> TypeRef:
    """The TypeRef of a qualified annotation text (``typing.List[Order]``)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return TypeRef("unsupported", name=text)
    return _type_of(tree, records, enums)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _type_of(node: ast.expr, records: set[str], enums: set[str]) -> TypeRef:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return parse_type(node.value, records, enums)  # a forward reference
    if isinstance(node, ast.Constant) and node.value is None:
        return TypeRef("none")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_type_of(part, records, enums) for part in _union_parts(node)])
    dotted = _dotted(node)
    if dotted is not None:
        if dotted in _SIMPLE:
            return TypeRef(_SIMPLE[dotted])
        if dotted in _CONTAINERS:
            kind = _CONTAINERS[dotted]
            return TypeRef(kind, (ANY, ANY) if kind == "dict" else (ANY,))
        if dotted in records:
            return TypeRef("record", name=dotted)
        if dotted in enums:
            return TypeRef("enum", name=dotted)
        return TypeRef("unknown", name=dotted)
    if isinstance(node, ast.Subscript):
        origin = _dotted(node.value) or ""
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if origin in ("typing.Optional",):
            return _union([_type_of(elements[0], records, enums), TypeRef("none")])
        if origin == "typing.Union":
            return _union([_type_of(element, records, enums) for element in elements])
        if origin == "typing.Literal":
            return TypeRef("literal", values=tuple(ast.unparse(e) for e in elements))
        container = _CONTAINERS.get(origin)
        if container == "tuple":
            if (
                len(elements) == 2
                and isinstance(elements[1], ast.Constant)
                and (elements[1].value is Ellipsis)
            ):
                return TypeRef("tuple", (_type_of(elements[0], records, enums),))
            return TypeRef("fixed_tuple", tuple(_type_of(e, records, enums) for e in elements))
        if container == "dict" and len(elements) == 2:
            return TypeRef("dict", tuple(_type_of(e, records, enums) for e in elements))
        if container is not None and len(elements) == 1:
            return TypeRef(container, (_type_of(elements[0], records, enums),))
    return TypeRef("unsupported", name=ast.unparse(node))


def _union_parts(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union_parts(node.left), *_union_parts(node.right)]
    return [node]


def _union(parts: list[TypeRef]) -> TypeRef:
    rest = [part for part in parts if part.kind != "none"]
    if len(rest) == 1 and len(rest) < len(parts):
        return TypeRef("optional", (rest[0],))
    return TypeRef("unsupported", name=" | ".join(str(part) for part in parts))


@dataclasses.dataclass(frozen=True, slots=True)
class FieldInfo:
    name: str
    type: TypeRef
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
    records = {record.name for record in module.records}
    enums = {enum.name for enum in module.enums}
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
                type=parse_type(field.type_text or field.annotation, records, enums),
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


def nested_records(info: RecordInfo, records: dict[str, RecordInfo]) -> list[str]:
    """``info`` and every Record its fields reach, each once, dependencies first."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order or name not in records:
            return
        for field in records[name].fields:
            for ref in walk(field.type):
                if ref.kind == "record" and ref.name != name:
                    visit(ref.name)
        order.append(name)

    visit(info.name)
    return order


def walk(ref: TypeRef) -> list[TypeRef]:
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


def wants_headers(module: AppModule, topic: TopicDef, *, is_key: bool) -> bool:
    """Does decoding the topic's keys (values) read the message headers? avro-confluent
    does (the header form carries the schema id); so may a serializer the compiler cannot
    read (not a string literal), which the runtime decides on."""
    explicit = topic.key_serializer if is_key else topic.value_serializer
    if explicit is not None and not isinstance(literal_value(explicit), str):
        return True
    return topic_codec(topic, record_types(module), is_key=is_key)[1] == "avro-confluent"
