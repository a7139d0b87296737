"""Generated JSON codecs of a Record: a msgspec mirror struct, a builder, an encoder.

:func:`plan_record_json` writes, for one Record, the msgspec struct that parses and
type-checks its JSON in one C call, the builder of the Record from it, the view (where the
struct can stand in for the Record), and the encoder of Faust's wire format. Example::

    plan_record_json(types["Order"], types, "app.py").view      # True
"""

from __future__ import annotations

import json

from faustc.codecs.common import make_record_lines, quote, snake_case, unknown_call
from faustc.codecs.model import RecordCodecPlan
from faustc.types import FieldInfo, RecordInfo, TypeRef, literal_value

_PREPARES = {"StringField": "trim_whitespace", "DatetimeField": "timezone"}


def _needs_generic(field: FieldInfo) -> bool:
    """A field whose descriptor changes decoded values (trim, timezone), or may (a default
    the compiler does not know: a user's own FieldDescriptor subclass?), uses the runtime's
    own converter, so both paths agree."""
    option = _PREPARES.get(field.specifier or "")
    return (option is not None and option in field.args) or unknown_call(field)


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
        return f"_build_{snake_case(ref.name)}({var})"
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
        return f"_payload_{snake_case(ref.name)}({var})"
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


def plan_record_json(
    info: RecordInfo, records: dict[str, RecordInfo], display_name: str
) -> RecordCodecPlan:
    snake = snake_case(info.name)
    cls = f"app_module.{info.name}"
    line = info.definition.span.line
    mirror_lines = [
        f"_{info.name}JSON = msgspec.defstruct(",
        f"    {quote(info.name + 'JSON')},",
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
            hoisted.append(
                f"_{snake}_{field.name}_decode = {cls}._field_decoder({quote(field.name)})"
            )
            decode = f"_{snake}_{field.name}_decode(s.{attr})"
        annotation = mirror or "Any"
        rename = f"name={quote(field.input_name)}, " if field.input_name != attr else ""
        if field.has_default:
            hoisted.append(f"_{snake}_{field.name}_default = {cls}.{field.name}.make_default")
            mirror_lines.append(
                f"        ({quote(attr)}, {annotation} | msgspec.UnsetType, "
                f"msgspec.field({rename}default=msgspec.UNSET)),"
            )
            decode = f"_{snake}_{field.name}_default() if s.{attr} is msgspec.UNSET else {decode}"
        else:
            mirror_lines.append(
                f"        ({quote(attr)}, {annotation}"
                + (f", msgspec.field({rename.rstrip(', ')})" if rename else "")
                + "),"
            )
        verbatim = verbatim and decode == f"s.{attr}"
        values.append((field.name, decode))
        if not field.exclude:
            encode = _encode_expr(field.type, f"record.{field.name}", records)
            if encode is None:
                hoisted.append(
                    f"_{snake}_{field.name}_encode = {cls}._field_encoder({quote(field.name)})"
                )
                encode = f"_{snake}_{field.name}_encode(record.{field.name})"
            payload.append(f"        {quote(field.output_name)}: {encode},")
    mirror_lines.append(
        '        ("_faust", msgspec.Raw, msgspec.field(name="__faust", default=_NO_METADATA)),'
    )
    mirror_lines += ["    ],", "    kw_only=True,", ")"]
    include_metadata = literal_value(info.options.get("include_metadata")) is not False
    validation = literal_value(info.options.get("validation")) is True
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
        *make_record_lines(info, cls, values, validation),
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
            f"{metadata_name} = {{{quote('ns')}: {quote(info.namespace)}}}",
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
    include_metadata = literal_value(info.options.get("include_metadata")) is not False
    struct_fields = [f"        ({quote(field.name)}, Any)," for field in info.fields]
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
        f"    {quote(info.name + 'Out')},",
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
    entries = [
        f"                    {quote(field.output_name)}: f_{field.name}," for field in fields
    ]
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


def _json_string(text: str) -> str:
    return json.dumps(text)
