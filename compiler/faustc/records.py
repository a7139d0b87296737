"""Records at compile time: field types read from annotations, codec checks, codec plans.

The reader calls :func:`read_field` / :func:`read_enum` for each Record and Enum class;
:func:`record_types` turns the annotations into :class:`TypeRef` trees (the compile-time
twin of ``faust.models.typeinfo.TypeNode``) without importing the user's module;
:func:`check_codecs` reports every field a topic's codec cannot carry (FC300), and
:func:`plan_codecs` decides the generated encode/decode functions of every Record a topic
carries. Example::

    types = record_types(module)
    types["Order"].fields[0].type        # TypeRef(kind='str')
    check_codecs(module)                  # [Diagnostic('FC300', ...)] for Dict[int, X] on Avro
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Callable

import libcst as cst

from faustc.diagnostics import Diagnostic
from faustc.ir import AppModule, EnumDef, FieldDef, RecordDef, Span, TopicDef

ENUM_NAMES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum"})
FIELD_CLASSES = frozenset(
    {
        "FieldDescriptor",
        "StringField",
        "IntegerField",
        "FloatField",
        "DecimalField",
        "DatetimeField",
        "BooleanField",
        "BytesField",
    }
)

# -- reading (called by the reader for each class) -----------------------------------------


class _Qualify(cst.CSTTransformer):
    def __init__(self, qualified: Callable[[cst.CSTNode], set[str]]) -> None:
        self.qualified = qualified

    def _replace(
        self, original: cst.BaseExpression, updated: cst.BaseExpression
    ) -> cst.BaseExpression:
        names = sorted(self.qualified(original))
        if len(names) == 1 and not names[0].startswith("."):
            name = names[0].removeprefix("builtins.")
            parts = name.split(".")
            node: cst.BaseExpression = cst.Name(parts[0])
            for part in parts[1:]:
                node = cst.Attribute(value=node, attr=cst.Name(part))
            return node
        return updated

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return False

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        return self._replace(original_node, updated_node)


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
    qualified_annotation = annotation.visit(_Qualify(qualified))
    assert isinstance(qualified_annotation, cst.BaseExpression)
    type_text = cst.Module(body=[]).code_for_node(qualified_annotation)
    value = statement.value
    default = code(value) if value is not None else None
    specifier = None
    specifier_args: tuple[tuple[str, str], ...] = ()
    if isinstance(value, cst.Call):
        func_names = {name.rsplit(".", 1)[-1] for name in qualified(value.func)}
        if not func_names and isinstance(value.func, cst.Name | cst.Attribute):
            func_names = {code(value.func).rsplit(".", 1)[-1]}
        found = func_names & FIELD_CLASSES
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
        type_text=type_text,
        default=default,
        specifier=specifier,
        specifier_args=specifier_args,
        annotation_span=annotation_span,
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


# -- types -------------------------------------------------------------------------------


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


# -- records as the compiler sees them ------------------------------------------------------


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


def _literal(text: str | None) -> object:
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
            input_name = _literal(args.get("input_name"))
            output_name = _literal(args.get("output_name"))
            has_default = (
                field.default is not None
                or "default_factory" in args
                or _literal(args.get("required")) is False
            )
            fields[field.name] = FieldInfo(
                name=field.name,
                type=parse_type(field.type_text or field.annotation, records, enums),
                input_name=input_name if isinstance(input_name, str) else field.name,
                output_name=output_name if isinstance(output_name, str) else field.name,
                exclude=_literal(args.get("exclude")) is True,
                has_default=has_default,
                default=field.default,
                specifier=field.specifier,
                args=args,
                definition=field,
            )
        namespace = _literal(dict(record.options).get("namespace"))
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
            for ref in _walk(field.type):
                if ref.kind == "record" and ref.name != name:
                    visit(ref.name)
        order.append(name)

    visit(info.name)
    return order


def _walk(ref: TypeRef) -> list[TypeRef]:
    found = [ref]
    for arg in ref.args:
        found.extend(_walk(arg))
    return found


# -- which codec a topic uses ---------------------------------------------------------------


def _type_name(text: str | None) -> str | None:
    return text.strip() if text else None


def topic_codec(
    topic: TopicDef, records: dict[str, RecordInfo], *, is_key: bool
) -> tuple[str | None, str]:
    """(the Record carried, the codec name) for a topic's keys or values (Faust's rules)."""
    type_text = _type_name(topic.key_type if is_key else topic.value_type)
    explicit = topic.key_serializer if is_key else topic.value_serializer
    record = type_text if type_text in records else None
    codec = _literal(explicit)
    if not isinstance(codec, str):
        codec = None
    if codec is None and record is not None:
        own = _literal(records[record].options.get("serializer"))
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
    if explicit is not None and not isinstance(_literal(explicit), str):
        return True
    return topic_codec(topic, record_types(module), is_key=is_key)[1] == "avro-confluent"


def unrepresentable(field: FieldInfo, codec: str, enums: dict[str, EnumDef]) -> str | None:
    """Why ``codec`` cannot carry ``field`` (None when it can)."""
    return _why(field.type, codec, field, enums)


def _why(ref: TypeRef, codec: str, field: FieldInfo, enums: dict[str, EnumDef]) -> str | None:
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
            kinds = {type(_literal(value)) for value in ref.values}
            if kinds not in ({str}, {int}):
                return "only Literal types of all str or all int values have an Avro schema"
        if kind == "optional" and ref.args[0].kind == "optional":
            return "nested Optional types have no Avro schema"
    for arg in ref.args:
        why = _why(arg, codec, field, enums)
        if why is not None:
            return why
    return None


def check_codecs(module: AppModule) -> list[Diagnostic]:
    """FC300 for every field of a Record that its topic's codec cannot represent."""
    records = record_types(module)
    enums = {enum.name: enum for enum in module.enums}
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[str, str, str]] = set()
    for topic in module.topics:
        for is_key in (False, True):
            record, codec = topic_codec(topic, records, is_key=is_key)
            if record is None:
                continue
            for name in nested_records(records[record], records):
                for field in records[name].fields:
                    why = unrepresentable(field, codec, enums)
                    key = (name, field.name, codec)
                    if why is None or key in seen:
                        continue
                    seen.add(key)
                    diagnostics.append(
                        Diagnostic(
                            "FC300",
                            f"field {name}.{field.name}: the {codec} codec of topic "
                            f"{topic.names[0]!r} cannot represent it: {why}",
                            field.span,
                        )
                    )
    return diagnostics


# -- generated codecs -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RecordCodecPlan:
    """The generated codecs of one Record: each piece is finished Python source.

    ``avro`` holds the datum <-> Record functions when a topic carries the Record (or a
    Record holding it) with the ``avro`` or ``avro-confluent`` codec, else None.
    """

    name: str
    comment: str
    mirror: str
    functions: str
    generated: bool
    avro: str | None = None
    #: ``view_<record>_json`` exists: the mirror struct can stand in for the Record where
    #: code only reads its fields (every field is the mirror's value as it is)
    view: bool = False
    #: ``encode_<record>_avro``/``decode_<record>_avro``, writing and reading the datum's
    #: bytes straight, when every field of its Avro schema is a primitive
    #: (:func:`_plan_avro_straight`)
    avro_writer: AvroWriterPlan | None = None
    #: ``_<Record>Out`` and ``encode_<record>_out``: the Record's fields in a msgspec struct
    #: that writes the Record's JSON itself, for fused code that builds the Record only to
    #: send it (:func:`_plan_json_out`); None when the Record does not qualify
    out: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AvroWriterPlan:
    #: the functions' source
    code: str
    #: the canonical text of the schema they write and read (the runtime uses them only
    #: when the Record's schema at run time is exactly this one)
    schema_text: str
    #: ``view_<record>_avro`` exists: the datum's fields in a struct, for code that only
    #: reads fields (every field is the datum's value as it is)
    view: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CodecsPlan:
    records: tuple[RecordCodecPlan, ...]
    #: Records whose codecs are installed (top-level ones carried by a topic)
    installed: tuple[str, ...]
    #: Records with generated Avro converters
    avro: tuple[str, ...] = ()


def codec_records(module: AppModule) -> list[str]:
    """Every Record a topic carries (as key or value) and the Records they nest."""
    records = record_types(module)
    order: list[str] = []
    for topic in module.topics:
        for is_key in (False, True):
            record, _ = topic_codec(topic, records, is_key=is_key)
            if record is not None:
                for name in nested_records(records[record], records):
                    if name not in order:
                        order.append(name)
    return order


def avro_records(module: AppModule) -> list[str]:
    """Every Record a topic carries with an Avro codec, and the Records they nest."""
    records = record_types(module)
    order: list[str] = []
    for topic in module.topics:
        for is_key in (False, True):
            record, codec = topic_codec(topic, records, is_key=is_key)
            if record is not None and codec in AVRO_CODECS:
                for name in nested_records(records[record], records):
                    if name not in order:
                        order.append(name)
    return order


def plan_codecs(module: AppModule) -> CodecsPlan | None:
    """Generated encode/decode functions for every Record a topic carries: JSON for all,
    Avro datum <-> Record for those on Avro topics."""
    records = record_types(module)
    names = codec_records(module)
    if not names:
        return None
    with_avro = avro_records(module)
    plans = [
        dataclasses.replace(
            _plan_record(records[name], records, module.display_name),
            avro=(
                _plan_avro_record(records[name], records, module.display_name)
                if name in with_avro
                else None
            ),
            avro_writer=(
                _plan_avro_straight(module, records[name], module.display_name)
                if name in with_avro
                else None
            ),
        )
        for name in names
    ]
    return CodecsPlan(tuple(plans), tuple(names), tuple(n for n in names if n in with_avro))


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


_PREPARES = {"StringField": "trim_whitespace", "DatetimeField": "timezone"}


def _needs_generic(field: FieldInfo) -> bool:
    """A field whose descriptor changes decoded values (trim, timezone), or may (a default
    the compiler does not know: a user's own FieldDescriptor subclass?), uses the runtime's
    own converter, so both paths agree."""
    option = _PREPARES.get(field.specifier or "")
    return (option is not None and option in field.args) or _unknown_call(field)


def _unknown_call(field: FieldInfo) -> bool:
    """Is the field's default a call the compiler does not recognise (which may make a
    descriptor of the user's own, with its own ``prepare_value``)?"""
    if field.specifier is not None or field.default is None:
        return False
    try:
        return isinstance(ast.parse(field.default, mode="eval").body, ast.Call)
    except SyntaxError:
        return True


def _mirror_type(ref: TypeRef, records: dict[str, RecordInfo]) -> str | None:
    """The msgspec annotation that parses ``ref`` natively (None: parse as Any, convert)."""
    kind = ref.kind
    if kind in ("str", "int", "float", "bool"):
        return kind
    if kind == "any":
        return "Any"
    if kind == "optional":
        inner = _mirror_type(ref.args[0], records)
        return f"{inner} | None" if inner and inner != "Any" else None
    if kind in ("list", "set", "frozenset", "tuple"):
        item = _mirror_type(ref.args[0], records)
        if item is None or (ref.args[0].kind == "record" and kind != "list"):
            return None
        return f"tuple[{item}, ...]" if kind == "tuple" else f"{kind}[{item}]"
    if kind == "dict" and ref.args[0].kind == "str":
        value = _mirror_type(ref.args[1], records)
        return f"dict[str, {value}]" if value else None
    if kind == "record" and ref.name in records:
        return f"_{ref.name}JSON"
    return None


_MIRROR_ANY = "Any"


def _decode_expr(ref: TypeRef, var: str) -> str:
    """Python expression converting the mirror's value ``var`` into the field's value."""
    kind = ref.kind
    if kind == "record":
        return f"_build_{_snake(ref.name)}({var})"
    if kind == "optional" and ref.args[0].kind == "record":
        return f"None if {var} is None else {_decode_expr(ref.args[0], var)}"
    if kind == "list" and ref.args[0].kind == "record":
        return f"[{_decode_expr(ref.args[0], 'item')} for item in {var}]"
    if kind == "dict" and _contains_record(ref.args[1]):
        return f"{{key: {_decode_expr(ref.args[1], 'item')} for key, item in {var}.items()}}"
    return var


def _contains_record(ref: TypeRef) -> bool:
    return ref.kind == "record" or any(_contains_record(arg) for arg in ref.args)


_HELPER_DECODERS = {
    "bytes": "_ti.parse_bytes",
    "decimal": "_ti.parse_decimal",
    "datetime": "_ti.parse_datetime",
    "date": "_ti.parse_date",
    "uuid": "_ti.parse_uuid",
}
_HELPER_ENCODERS = {
    "bytes": "_ti.format_bytes",
    "decimal": "str",
    "datetime": "_ti.format_datetime",
    "date": "_ti.format_date",
    "uuid": "str",
}


def _encode_expr(ref: TypeRef, var: str, records: dict[str, RecordInfo]) -> str | None:
    """Expression turning field value ``var`` into its JSON form (None: needs the runtime's
    generic encoder; ``var`` itself when no conversion is needed)."""
    kind = ref.kind
    if kind in ("str", "int", "float", "bool", "literal", "any"):
        return var
    if kind in _HELPER_ENCODERS:
        return f"{_HELPER_ENCODERS[kind]}({var})"
    if kind == "enum":
        return f"{var}.value"
    if kind == "record" and ref.name in records:
        return f"_payload_{_snake(ref.name)}({var})"
    if kind == "optional":
        inner = _encode_expr(ref.args[0], var, records)
        if inner is None:
            return None
        return var if inner == var else f"None if {var} is None else {inner}"
    if kind in ("list", "set", "frozenset", "tuple"):
        item = _encode_expr(ref.args[0], "item", records)
        if item is None:
            return None
        if item == "item":
            return var if kind == "list" else f"list({var})"
        return f"[{item} for item in {var}]"
    if kind == "dict" and ref.args[0].kind == "str":
        value = _encode_expr(ref.args[1], "item", records)
        if value is None:
            return None
        if value == "item":
            return var
        return f"{{key: {value} for key, item in {var}.items()}}"
    return None


def _plan_record(
    info: RecordInfo, records: dict[str, RecordInfo], display_name: str
) -> RecordCodecPlan:
    snake = _snake(info.name)
    cls = f"app_module.{info.name}"
    line = info.definition.span.line
    mirror_lines = [
        f"_{info.name}JSON = msgspec.defstruct(",
        f"    {_q(info.name + 'JSON')},",
        "    [",
    ]
    hoisted: list[str] = []
    values: list[tuple[str, str]] = []
    payload: list[str] = []
    #: every field is the mirror's value as it is (no conversion, no default): fused code
    #: that only reads fields may take the mirror instead of the Record (view_<record>_json)
    verbatim = True
    for field in info.fields:
        attr = field.name  # Record fields never start with "_"; the metadata is "_faust"
        mirror = None if _needs_generic(field) else _mirror_type(field.type, records)
        decode = f"s.{attr}"
        if mirror is not None:
            decode = _decode_expr(field.type, decode)
        elif field.type.kind in _HELPER_DECODERS and not _needs_generic(field):
            decode = f"{_HELPER_DECODERS[field.type.kind]}(s.{attr})"
        elif field.type.kind == "enum":
            hoisted.append(
                f"_{snake}_{field.name}_enum = _ti.enum_parser(app_module.{field.type.name})"
            )
            decode = f"_{snake}_{field.name}_enum(s.{attr})"
        else:
            hoisted.append(f"_{snake}_{field.name}_decode = {cls}._field_decoder({_q(field.name)})")
            decode = f"_{snake}_{field.name}_decode(s.{attr})"
        annotation = mirror or "Any"
        rename = f"name={_q(field.input_name)}, " if field.input_name != attr else ""
        if field.has_default:
            hoisted.append(f"_{snake}_{field.name}_default = {cls}.{field.name}.make_default")
            mirror_lines.append(
                f"        ({_q(attr)}, {annotation} | msgspec.UnsetType, "
                f"msgspec.field({rename}default=msgspec.UNSET)),"
            )
            decode = f"_{snake}_{field.name}_default() if s.{attr} is msgspec.UNSET else {decode}"
        else:
            mirror_lines.append(
                f"        ({_q(attr)}, {annotation}"
                + (f", msgspec.field({rename.rstrip(', ')})" if rename else "")
                + "),"
            )
        verbatim = verbatim and decode == f"s.{attr}"
        values.append((field.name, decode))
        if not field.exclude:
            encode = _encode_expr(field.type, f"record.{field.name}", records)
            if encode is None:
                hoisted.append(
                    f"_{snake}_{field.name}_encode = {cls}._field_encoder({_q(field.name)})"
                )
                encode = f"_{snake}_{field.name}_encode(record.{field.name})"
            payload.append(f"        {_q(field.output_name)}: {encode},")
    mirror_lines.append(
        '        ("_faust", msgspec.Raw, msgspec.field(name="__faust", default=_NO_METADATA)),'
    )
    mirror_lines += ["    ],", "    kw_only=True,", ")"]
    include_metadata = _literal(info.options.get("include_metadata")) is not False
    validation = _literal(info.options.get("validation")) is True
    metadata = f'{{"ns":{_json_string(info.namespace)}}}'
    lines = [
        *hoisted,
        f"_parse_{snake}_json = msgspec.json.Decoder(_{info.name}JSON).decode",
        f"_{snake.upper()}_METADATA = msgspec.Raw({metadata.encode()!r})",
        "",
        "",
        f"def _build_{snake}(s: Any) -> Any:",
        "    if (",
        "        s._faust is not _NO_METADATA",
        f"        and s._faust != _{snake.upper()}_METADATA",
        f"        and _generated.blessed({cls}, s._faust)",
        "    ):",
        "        raise _generated.Fallback  # a subclass named by __faust: the generic path",
        *_make_record(info, cls, values, validation),
    ]
    lines += [
        "    return record",
        "",
        "",
        f"def decode_{snake}_json(data: bytes) -> Any:",
        f'    """JSON bytes -> {info.name} ({display_name}:{line}); msgspec checks every type."""',
        "    try:",
        f"        return _build_{snake}(_parse_{snake}_json(data))",
        "    except _generated.Fallback:",
        f"        return {cls}.from_data(_json_loads(data), preferred_type={cls})",
    ]
    view = verbatim and not validation
    if view:
        lines += [
            "",
            "",
            f"def view_{snake}_json(data: bytes) -> Any:",
            f'    """JSON bytes -> {info.name} fields as attributes ({display_name}:{line}), for',
            "    code that reads nothing else: the msgspec struct (its values are the Record's),",
            f'    or the {info.name} itself when __faust names another class."""',
            f"    s = _parse_{snake}_json(data)",
            f"    if s._faust is _NO_METADATA or s._faust == _{snake.upper()}_METADATA:",
            "        return s",
            f"    return decode_{snake}_json(data)",
        ]
    metadata_name = f"_{snake.upper()}_NS"
    fragment_name = f"_{snake.upper()}_NS_JSON"
    if include_metadata:
        lines += [
            "",
            "",
            f"{metadata_name} = {{{_q('ns')}: {_q(info.namespace)}}}",
            "# the same, already JSON: a payload dict holding it is not tracked by the cyclic GC",
            f"{fragment_name} = _orjson_fragment(_orjson_dumps({metadata_name}))",
        ]
    lines += [
        "",
        "",
        f"def _payload_{snake}(record: Any) -> Any:",
        f"    if type(record) is not {cls}:",
        "        return record.to_representation()",
        "    return {",
        *payload,
    ]
    if include_metadata:
        lines.append(f'        "__faust": {metadata_name},')
    lines += ["    }", "", ""]
    lines += _json_encoder(info, cls, snake, fragment_name if include_metadata else None)
    lines += [
        f"    payload = _payload_{snake}(record)",
        "    return _orjson_dumps(payload, default=_json_default, option=_JSON_OPTIONS)",
    ]
    return RecordCodecPlan(
        name=info.name,
        comment=f"# {display_name}:{line}  class {info.name}",
        mirror="\n".join(mirror_lines) + "\n",
        functions="\n".join(lines) + "\n",
        generated=True,
        view=view,
        out=_plan_json_out(info, cls, snake, display_name),
    )


#: Record options that change nothing about building a Record from all of its fields and
#: writing it as JSON (``include_metadata`` is read by the plan)
_PLAIN_OPTIONS = {"serializer", "namespace", "include_metadata"}
#: field kinds msgspec writes as orjson does (floats differ: ``1e+16`` against ``1e16``)
_OUT_NATIVE = {"str": "str", "int": "int", "bool": "bool"}


def json_out_ok(info: RecordInfo) -> bool:
    """Can a msgspec struct stand in for ``info``'s Record from its construction to its
    JSON bytes? Only when building it does nothing but store the fields (no methods in the
    class, no options that convert or validate, no field descriptors, no inherited fields)
    and msgspec writes every field's value as orjson does (str, int and bool, maybe
    optional; every field written under its own name)."""
    definition = info.definition
    if definition.has_methods or definition.bases not in (("faust.Record",), ("Record",)):
        return False
    if set(info.options) - _PLAIN_OPTIONS:
        return False
    for field in info.fields:
        if field.exclude or field.output_name != field.name or field.specifier is not None:
            return False
        kind = field.type.args[0].kind if field.type.kind == "optional" else field.type.kind
        if kind not in _OUT_NATIVE:
            return False
    return True


def _plan_json_out(info: RecordInfo, cls: str, snake: str, display_name: str) -> str | None:
    """``_<Record>Out`` (the fields and ``__faust`` in a msgspec struct, untracked by the
    cyclic GC: its values are atoms) and ``encode_<record>_out(out, dump)``, which writes
    it with msgspec when every value has its field's type (the bytes ``dump`` writes for
    the Record: msgspec and orjson agree on str, int and bool), else builds the Record and
    returns ``dump(record)``."""
    if not json_out_ok(info):
        return None
    include_metadata = _literal(info.options.get("include_metadata")) is not False
    struct_fields = [f"        ({_q(field.name)}, Any)," for field in info.fields]
    if include_metadata:
        # the metadata as orjson writes it in encode_<record>_json
        metadata = f"msgspec.Raw(_orjson_dumps(_{snake.upper()}_NS))"
        struct_fields.append(
            f'        ("_faust", msgspec.Raw, msgspec.field(name="__faust", default={metadata})),'
        )
    checks: list[str] = []
    for field in info.fields:
        value = f"out.{field.name}"
        optional = field.type.kind == "optional"
        kind = _OUT_NATIVE[field.type.args[0].kind if optional else field.type.kind]
        check = f"type({value}) is {kind}"
        if kind == "int":  # orjson refuses integers beyond 64 bits; msgspec writes them
            check += f" and -_2_63 <= {value} < _2_64"
        checks.append(f"({value} is None or {check})" if optional else check)
    arguments = ", ".join(f"out.{field.name}" for field in info.fields)
    line = info.definition.span.line
    lines = [
        f"# {display_name}:{line}  a {info.name} built only to be sent as JSON",
        f"_{info.name}Out = msgspec.defstruct(",
        f"    {_q(info.name + 'Out')},",
        "    [",
        *struct_fields,
        "    ],",
        "    gc=False,",
        ")",
        "",
        "",
        f"def encode_{snake}_out(out: Any, dump: Any) -> Any:",
        f'    """{info.name} fields in _{info.name}Out -> the bytes dump() writes for the',
        f"    {info.name}: msgspec writes them when the values have their fields' types (as",
        f'    encode_{snake}_json does), else the {info.name} is built and dumped."""',
        "    if (",
        "        " + "\n        and ".join(checks),
        "    ):",
        "        return _encode_json(out)",
        f"    return dump({cls}({arguments}))",
    ]
    return "\n".join(lines) + "\n"


#: field kinds whose values JSON carries natively (orjson needs no option for them)
_JSON_NATIVE = {"str": "str", "int": "int", "float": "float", "bool": "bool"}


def _json_encoder(info: RecordInfo, cls: str, snake: str, metadata: str | None) -> list[str]:
    """The head of ``encode_<record>_json``: when every field is a str, int, float or bool
    (maybe optional) and the values have exactly those types (as they usually do), orjson
    writes the payload without the options and ``default`` that other values may need
    (they change nothing for these), which costs a third of the call; else the tail the
    caller adds writes the generic payload."""
    head = [
        f"def encode_{snake}_json(record: Any) -> bytes:",
        f'    """{info.name} -> JSON bytes, as Faust writes them."""',
    ]
    fields = [field for field in info.fields if not field.exclude]
    checks: list[str] = []
    for field in fields:
        ref = field.type
        var = f"f_{field.name}"
        if ref.kind in _JSON_NATIVE:
            checks.append(f"type({var}) is {_JSON_NATIVE[ref.kind]}")
        elif ref.kind == "optional" and ref.args[0].kind in _JSON_NATIVE:
            checks.append(f"({var} is None or type({var}) is {_JSON_NATIVE[ref.args[0].kind]})")
        else:
            return head
    if not fields:
        return head
    entries = [f"                    {_q(field.output_name)}: f_{field.name}," for field in fields]
    if metadata is not None:
        entries.append(f'                    "__faust": {metadata},')
    return [
        *head,
        f"    if type(record) is {cls}:",
        *[f"        f_{field.name} = record.{field.name}" for field in fields],
        "        # values of their fields' own types (as usual): orjson needs no options",
        "        if (",
        "            " + "\n            and ".join(checks),
        "        ):",
        "            return _orjson_dumps(",
        "                {",
        *entries,
        "                }",
        "            )",
    ]


def _plain_stores(info: RecordInfo) -> bool:
    """Can the generated code store fields as plain attributes? Not on a frozen Record
    (or one whose ``frozen`` option is not a literal the compiler can read)."""
    frozen = info.options.get("frozen")
    return frozen is None or _literal(frozen) is False


def _make_record(
    info: RecordInfo, cls: str, values: list[tuple[str, str]], validation: bool
) -> list[str]:
    """Lines building ``record`` from ``(field, expression)`` pairs: plain attribute stores
    (what ``Record.__init__`` does, the fastest form), or one ``__dict__`` when frozen."""
    lines = [f"    record = _new({cls})"]
    if _plain_stores(info):
        lines += [f"    record.{name} = {expression}" for name, expression in values]
    else:
        lines.append('    _set_attribute(record, "__dict__", {')
        lines += [f"        {_q(name)}: {expression}," for name, expression in values]
        lines.append("    })")
    if validation:
        lines.append("    record.validate_or_raise()")
    return lines


# -- generated Avro converters --------------------------------------------------------------


class _AvroNames:
    """Hoisted module-level names one Record's Avro converters use."""

    def __init__(self, snake: str) -> None:
        self.snake = snake
        self.hoisted: list[str] = []

    def add(self, name: str, value: str) -> str:
        line = f"{name} = {value}"
        if line not in self.hoisted:
            self.hoisted.append(line)
        return name


def _item_var(depth: int) -> str:
    return "item" if depth == 0 else f"item{depth + 1}"


def _avro_from_expr(
    ref: TypeRef, var: str, names: _AvroNames, zone: str | None, depth: int = 0
) -> str:
    """Expression turning the datum value ``var`` into the field's value (``var`` itself
    when fastavro's value is already it), as ``faust.serializers.avro.from_datum`` does."""
    kind = ref.kind
    if kind == "enum":
        table = names.add(
            f"_{names.snake}_{_snake(ref.name)}_by_name", f"dict(app_module.{ref.name}.__members__)"
        )
        return f"{table}[{var}]"
    if kind == "datetime" and zone is not None:
        return f"{zone}({var})"
    if kind == "record":
        return f"_avro_record_{_snake(ref.name)}({var})"
    if kind == "optional":
        inner = _avro_from_expr(ref.args[0], var, names, zone, depth)
        return var if inner == var else f"None if {var} is None else {inner}"
    if kind in ("list", "set", "frozenset", "tuple"):
        item = _item_var(depth)
        convert = _avro_from_expr(ref.args[0], item, names, zone, depth + 1)
        if convert == item:
            return var if kind == "list" else f"{kind}({var})"
        if kind == "set":
            return f"{{{convert} for {item} in {var}}}"
        listed = f"[{convert} for {item} in {var}]"
        return listed if kind == "list" else f"{kind}({listed})"
    if kind == "dict":
        item = _item_var(depth)
        convert = _avro_from_expr(ref.args[1], item, names, zone, depth + 1)
        if convert == item:
            return var
        return f"{{key: {convert} for key, {item} in {var}.items()}}"
    return var


def _has_datetime(ref: TypeRef) -> bool:
    return ref.kind == "datetime" or any(_has_datetime(arg) for arg in ref.args)


def _avro_to_expr(ref: TypeRef, var: str, depth: int = 0) -> str:
    """Expression turning the field value ``var`` into what fastavro writes, as
    ``faust.serializers.avro.to_datum`` does (``var`` itself when it is that already)."""
    kind = ref.kind
    if kind == "enum":
        return f"{var}.name"
    if kind == "record":
        return f"_avro_datum_{_snake(ref.name)}({var})"
    if kind == "optional":
        inner = _avro_to_expr(ref.args[0], var, depth)
        return var if inner == var else f"None if {var} is None else {inner}"
    if kind in ("list", "set", "frozenset", "tuple"):
        item = _item_var(depth)
        convert = _avro_to_expr(ref.args[0], item, depth + 1)
        if convert == item:
            return var if kind == "list" else f"list({var})"
        return f"[{convert} for {item} in {var}]"
    if kind == "dict":
        item = _item_var(depth)
        convert = _avro_to_expr(ref.args[1], item, depth + 1)
        if convert == item:
            return var
        return f"{{key: {convert} for key, {item} in {var}.items()}}"
    return var


def _avro_values(
    info: RecordInfo, names: _AvroNames, source: Callable[[FieldInfo], str]
) -> list[tuple[str, str]]:
    """``(field, expression)`` for every field of the Record, from ``source(field)`` (the
    expression of the value fastavro read, or would have), as ``from_datum`` converts it."""
    snake = _snake(info.name)
    cls = f"app_module.{info.name}"
    values: list[tuple[str, str]] = []
    for field in info.fields:
        if field.exclude:
            default = names.add(
                f"_{snake}_{field.name}_default", f"{cls}.{field.name}.make_default"
            )
            values.append((field.name, f"{default}()"))
            continue
        zone = None
        unknown = _unknown_call(field)  # maybe a descriptor of the user's: ask at run time
        if (field.specifier == "DatetimeField" and "timezone" in field.args) or (
            unknown and _has_datetime(field.type)
        ):
            timezone = (
                f'getattr({cls}.{field.name}, "timezone", None)'
                if unknown
                else f"{cls}.{field.name}.timezone"
            )
            zone = names.add(f"_{snake}_{field.name}_zone", f"_ti.timezone_converter({timezone})")
        decode = _avro_from_expr(field.type, source(field), names, zone)
        if (field.specifier == "StringField" and "trim_whitespace" in field.args) or (
            unknown and field.type.kind != "datetime"
        ):
            prepare = names.add(
                f"_{snake}_{field.name}_prepare", f"{cls}.{field.name}.prepare_value"
            )
            decode = f"{prepare}({decode})"
        values.append((field.name, decode))
    return values


def _plan_avro_record(info: RecordInfo, records: dict[str, RecordInfo], display_name: str) -> str:
    """``_avro_datum_<record>(record) -> datum`` and ``_avro_record_<record>(datum) ->
    record``: the datum is the dict fastavro writes/reads with the Record's own schema
    (``faust.serializers.avro.avro_schema``), so every field is in it."""
    snake = _snake(info.name)
    cls = f"app_module.{info.name}"
    line = info.definition.span.line
    names = _AvroNames(snake)
    values = _avro_values(info, names, lambda field: f"datum[{_q(field.output_name)}]")
    datum = [
        f"        {_q(field.output_name)}: {_avro_to_expr(field.type, f'record.{field.name}')},"
        for field in info.fields
        if not field.exclude
    ]
    validation = _literal(info.options.get("validation")) is True
    lines = [
        *names.hoisted,
        *([""] * (2 if names.hoisted else 0)),
        f"def _avro_datum_{snake}(record: Any) -> Any:",
        f'    """{info.name} -> the Avro datum fastavro writes ({display_name}:{line})."""',
        "    return {",
        *datum,
        "    }",
        "",
        "",
        f"def _avro_record_{snake}(datum: Any) -> Any:",
        f'    """The Avro datum fastavro read -> {info.name} ({display_name}:{line})."""',
        *_make_record(info, cls, values, validation),
        "    return record",
    ]
    return "\n".join(lines) + "\n"


#: Avro primitive -> the Python type a field value must have exactly to be written straight
_AVRO_PYTHON_TYPES = {
    "string": "str",
    "bytes": "bytes",
    "long": "int",
    "double": "float",
    "boolean": "bool",
}


def _avro_write_parts(avro_type: str, var: str) -> tuple[list[str], list[str]]:
    """(lines preparing, the parts of the datum's bytes) writing ``var`` as ``avro_type``."""
    if avro_type == "string":
        return [f"{var}_utf8 = {var}.encode()"], [f"_avro_long(len({var}_utf8))", f"{var}_utf8"]
    if avro_type == "bytes":
        return [], [f"_avro_long(len({var}))", var]
    if avro_type == "long":
        return [], [f"_avro_long({var})"]
    if avro_type == "double":
        return [], [f"_avro_double({var})"]
    return [], [f'(b"\\x01" if {var} else b"\\x00")']


def _avro_write_whole(avro_type: str, var: str) -> str:
    """One bytes expression writing ``var`` as ``avro_type`` (a union branch)."""
    if avro_type == "string":
        return f"_avro_string({var})"
    if avro_type == "bytes":
        return f"_avro_long(len({var})) + {var}"
    return _avro_write_parts(avro_type, var)[1][0]


def _avro_read_lines(avro_type: str, var: str) -> list[str]:
    """Lines reading ``var`` (an ``avro_type`` at ``data[pos]``) and moving ``pos`` past it;
    a length or long longer than one byte takes a runtime helper."""
    if avro_type in ("string", "bytes"):
        decode = ".decode()" if avro_type == "string" else ""
        helper = "_avro_read_string" if avro_type == "string" else "_avro_read_bytes"
        return [
            "length = _AVRO_SHORT_LENGTHS[data[pos]]",
            "if length < 0:  # a length of two bytes or more",
            f"    {var}, pos = {helper}(data, pos)",
            "else:",
            "    pos += 1",
            f"    {var} = data[pos : pos + length]{decode}",
            "    pos += length",
        ]
    if avro_type == "long":
        return [
            "byte = data[pos]",
            "if byte < 0x80:",
            f"    {var} = (byte >> 1) ^ -(byte & 1)",
            "    pos += 1",
            "else:",
            f"    {var}, pos = _avro_read_long(data, pos)",
        ]
    if avro_type == "double":
        return [f"({var},) = _avro_read_double(data, pos)", "pos += 8"]
    return [f"{var} = data[pos] != 0", "pos += 1"]


def _plan_avro_straight(
    module: AppModule, info: RecordInfo, display_name: str
) -> AvroWriterPlan | None:
    """``encode_<record>_avro(record) -> bytes`` and ``decode_<record>_avro(data) ->
    record``, straight-line Python for Records whose Avro schema has only primitive fields
    (string, bytes, long, double, boolean, each maybe in a union with null); None for any
    other Record (fastavro reads and writes those).

    The writer writes what fastavro writes (zigzag varints, UTF-8, little-endian doubles);
    a value whose type is not exactly the one its field declares (an ``int`` in a ``float``
    field, a ``str`` subclass, ...) makes it hand the datum to fastavro, so what fastavro
    accepts, coerces or rejects stays its decision. The reader reads what fastavro reads;
    anything out of the ordinary (a length of more than one byte is read by a helper, but
    a truncated datum, a bad union index, bytes left over) makes it read the message again
    with fastavro, whose value or error it then is. About 3x faster than fastavro's
    per-message reader on the benchmark's orders (bench/README.md)."""
    from faustc.diagnostics import CompileError
    from faustc.schema import record_schema

    try:
        schema = record_schema(module, info.name)
    except CompileError:
        return None
    by_output = {field.output_name: field for field in info.fields if not field.exclude}
    snake = _snake(info.name)
    cls = f"app_module.{info.name}"
    reads: list[str] = []
    checks: list[str] = []
    prepared: list[str] = []
    parts: list[str] = []
    parse: list[str] = []
    for entry in schema["fields"]:
        field = by_output.get(entry["name"])
        if field is None:
            return None
        var = f"f_{field.name}"
        avro_type = entry["type"]
        reads.append(f"    {var} = record.{field.name}")
        parse.append(f"# {field.name}: {json.dumps(avro_type)}")
        if isinstance(avro_type, str) and avro_type in _AVRO_PYTHON_TYPES:
            checks.append(f"type({var}) is {_AVRO_PYTHON_TYPES[avro_type]}")
            lines, written = _avro_write_parts(avro_type, var)
            prepared += [f"    {line}" for line in lines]
            parts += written
            parse += _avro_read_lines(avro_type, var)
        elif (
            isinstance(avro_type, list)
            and len(avro_type) == 2
            and "null" in avro_type
            and all(isinstance(branch, str) for branch in avro_type)
        ):
            (other,) = [branch for branch in avro_type if branch != "null"]
            if other not in _AVRO_PYTHON_TYPES:
                return None
            checks.append(f"({var} is None or type({var}) is {_AVRO_PYTHON_TYPES[other]})")
            # the branch index is a long: 0 is written 0x00, 1 is 0x02
            null_first = avro_type[0] == "null"
            null_byte, value_byte = ("0", "2") if null_first else ("2", "0")
            whole = _avro_write_whole(other, var)
            parts.append(
                f'(b"\\x0{null_byte}" if {var} is None else b"\\x0{value_byte}" + {whole})'
            )
            parse += [
                "byte = data[pos]",
                "pos += 1",
                f"if byte == {null_byte}:",
                f"    {var} = None",
                f"elif byte == {value_byte}:",
                *[f"    {line}" for line in _avro_read_lines(other, var)],
                "else:",
                '    raise ValueError("not a branch of the union")',
            ]
        else:
            return None
    line = info.definition.span.line
    validation = _literal(info.options.get("validation")) is True
    names = _AvroNames(snake)  # the names _plan_avro_record hoisted already
    values = _avro_values(info, names, lambda field: f"f_{field.name}")
    code = [
        f"_avro_type_{snake} = _avro.avro_type({cls})",
        "",
        "",
        f"def encode_{snake}_avro(record: Any) -> bytes:",
        f'    """{info.name} -> its Avro datum, the bytes fastavro writes ({display_name}:{line});',
        '    a value of another type than its field declares: fastavro writes the datum."""',
        *reads,
        "    if not (",
        "        " + "\n        and ".join(checks),
        "    ):",
        f"        return _avro_type_{snake}.write_datum(_avro_datum_{snake}(record))",
        *prepared,
        '    return b"".join(',
        "        (",
        *[f"            {part}," for part in parts],
        "        )",
        "    )",
        "",
        "",
        f"def decode_{snake}_avro(data: bytes) -> Any:",
        f'    """Its Avro datum -> {info.name}, read straight ({display_name}:{line});',
        '    anything out of the ordinary: fastavro reads the message again and decides."""',
        "    try:",
        "        pos = 0",
        *[f"        {line}" for line in parse],
        "        if pos != len(data):",
        '            raise ValueError("bytes left after the datum")',
        "    except Exception:",
        f"        return _avro_record_{snake}(_avro_type_{snake}.read(data))",
        *_make_record(info, cls, values, validation),
        "    return record",
    ]
    # the view: the same reading, the values in a struct instead of the Record (only when
    # they are the Record's values as read, as for the JSON view)
    view = not validation and all(value == f"f_{name}" for name, value in values)
    if view:
        code += [
            "",
            "",
            f"_{info.name}AvroView = msgspec.defstruct(",
            f"    {_q(info.name + 'AvroView')},",
            f"    [{', '.join(f'({_q(name)}, Any)' for name, _ in values)}],",
            "    gc=False,  # its values are strings, numbers, booleans and None",
            ")",
            "",
            "",
            f"def view_{snake}_avro(data: bytes) -> Any:",
            f'    """Its Avro datum -> {info.name} fields as attributes ({display_name}:{line}),',
            f"    for code that reads nothing else: read as decode_{snake}_avro reads it;",
            f'    anything out of the ordinary: the {info.name} decode_{snake}_avro returns."""',
            "    try:",
            "        pos = 0",
            *[f"        {line}" for line in parse],
            "        if pos != len(data):",
            '            raise ValueError("bytes left after the datum")',
            "    except Exception:",
            f"        return decode_{snake}_avro(data)",
            f"    return _{info.name}AvroView({', '.join(value for _, value in values)})",
        ]
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return AvroWriterPlan("\n".join(code) + "\n", text, view)


def _json_string(text: str) -> str:
    return json.dumps(text)


def _q(text: str) -> str:
    """A string literal in double quotes (the generated file's style)."""
    return json.dumps(text)
