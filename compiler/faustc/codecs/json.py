"""Generated JSON codecs of a Record: a msgspec mirror struct, a builder, an encoder.

:func:`write_json_codecs` writes, for one Record, the msgspec struct that parses and
type-checks its JSON in one C call, the builder of the Record from it, the view (where
:func:`json_view_ok` says the struct can stand in for the Record), and the encoder of
Faust's wire format; :func:`write_json_out` the struct a Record built only to be sent is
built as (where :func:`json_out_ok` allows it). Example::

    json_view_ok(records["Order"], records)                     # True
    write_json_codecs(out, records["Order"], records, "app.py", view=True)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from faust.models.typeinfo import TypeNode
from faustc.codecs.common import quote, snake_case, unknown_call, write_record
from faustc.emit.emitter import Emitter, Ternary
from faustc.types import FieldInfo, RecordInfo, literal_value

Use = Callable[[str], str]

_PREPARES = {"StringField": "trim_whitespace", "DatetimeField": "timezone"}


def json_view_function(record: str) -> str:
    """The name of the generated JSON view of ``record`` (written by
    :func:`write_json_codecs`, installed as its ``json_view``, compared with by a loop)."""
    return f"view_{snake_case(record)}_json"


def _needs_generic(field: FieldInfo) -> bool:
    """A field whose descriptor changes decoded values (trim, timezone), or may (a default
    the compiler does not know: a user's own FieldDescriptor subclass?), uses the runtime's
    own converter, so both paths agree."""
    option = _PREPARES.get(field.specifier or "")
    return (option is not None and option in field.args) or unknown_call(field)


def _mirror_type(ref: TypeNode, records: dict[str, RecordInfo]) -> str | None:
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


def _decode_expr(ref: TypeNode, var: str) -> str:
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


def _contains_record(ref: TypeNode) -> bool:
    return ref.kind == "record" or any(_contains_record(arg) for arg in ref.args)


#: field kind -> the ``faust.compiled`` function turning its JSON form into the value
_HELPER_DECODERS = {
    "bytes": "parse_bytes",
    "decimal": "parse_decimal",
    "datetime": "parse_datetime",
    "date": "parse_date",
    "uuid": "parse_uuid",
}


#: field kind -> the function turning the value into its JSON form (``faust.compiled``'s,
#: but ``str``)
_HELPER_ENCODERS = {
    "bytes": "format_bytes",
    "decimal": "str",
    "datetime": "format_datetime",
    "date": "format_date",
    "uuid": "str",
}


def _encode_expr(ref: TypeNode, var: str, records: dict[str, RecordInfo], use: Use) -> str | None:
    """Expression turning field value ``var`` into its JSON form (None: needs the runtime's
    generic encoder; ``var`` itself when no conversion is needed)."""
    kind = ref.kind
    if kind in ("str", "int", "float", "bool", "literal", "any"):
        return var
    if kind in _HELPER_ENCODERS:
        helper = _HELPER_ENCODERS[kind]
        return f"{helper if helper == 'str' else use(helper)}({var})"
    if kind == "enum":
        return f"{var}.value"
    if kind == "record" and ref.name in records:
        return f"_payload_{snake_case(ref.name)}({var})"
    if kind == "optional":
        inner = _encode_expr(ref.args[0], var, records, use)
        if inner is None:
            return None
        return var if inner == var else f"None if {var} is None else {inner}"
    if kind in ("list", "set", "frozenset", "tuple"):
        item = _encode_expr(ref.args[0], "item", records, use)
        if item is None:
            return None
        if item == "item":
            return var if kind == "list" else f"list({var})"
        return f"[{item} for item in {var}]"
    if kind == "dict" and ref.args[0].kind == "str":
        value = _encode_expr(ref.args[1], "item", records, use)
        if value is None:
            return None
        if value == "item":
            return var
        return f"{{key: {value} for key, item in {var}.items()}}"
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldJSON:
    """How one field travels through the mirror struct: its entry in the struct, the
    expression turning the struct's value into the field's, and module-level names those
    need (``hoisted``)."""

    entry: str
    decode: str | Ternary
    encode: str | None
    hoisted: tuple[str, ...]


def _field_json(
    field: FieldInfo, records: dict[str, RecordInfo], snake: str, cls: str, use: Use
) -> _FieldJSON:
    attr = field.name  # Record fields never start with "_"; the metadata is "_faust"
    hoisted: list[str] = []
    mirror = None if _needs_generic(field) else _mirror_type(field.type, records)
    decode = f"s.{attr}"
    name = quote(field.name)
    if mirror is not None:
        decode = _decode_expr(field.type, decode)
    elif field.type.kind in _HELPER_DECODERS and not _needs_generic(field):
        decode = f"{use(_HELPER_DECODERS[field.type.kind])}(s.{attr})"
    elif field.type.kind == "enum":
        enum = f"app_module.{field.type.name}"
        hoisted.append(f"_{snake}_{field.name}_enum = {use('enum_parser')}({enum})")
        decode = f"_{snake}_{field.name}_enum(s.{attr})"
    else:
        hoisted.append(f"_{snake}_{field.name}_decode = {use('field_decoder')}({cls}, {name})")
        decode = f"_{snake}_{field.name}_decode(s.{attr})"
    annotation = mirror or "Any"
    rename = f"name={quote(field.input_name)}, " if field.input_name != attr else ""
    value: str | Ternary = decode
    if field.has_default:
        descriptor = f"{use('field')}({cls}, {name})"
        hoisted.append(f"_{snake}_{field.name}_default = {descriptor}.make_default")
        entry = (
            f"{attr}: {annotation} | msgspec.UnsetType = "
            f"msgspec.field({rename}default=msgspec.UNSET)"
        )
        value = Ternary(f"_{snake}_{field.name}_default()", f"s.{attr} is msgspec.UNSET", decode)
    else:
        options = f" = msgspec.field({rename.rstrip(', ')})" if rename else ""
        entry = f"{attr}: {annotation}{options}"
    encode = None
    if not field.exclude:
        encode = _encode_expr(field.type, f"record.{field.name}", records, use)
        if encode is None:
            encoder = f"{use('field_encoder')}({cls}, {name})"
            hoisted.append(f"_{snake}_{field.name}_encode = {encoder}")
            encode = f"_{snake}_{field.name}_encode(record.{field.name})"
    return _FieldJSON(entry, value, encode, tuple(hoisted))


def _as_is(name: str) -> str:
    return name


def json_view_ok(info: RecordInfo, records: dict[str, RecordInfo]) -> bool:
    """Can the mirror struct stand in for the Record where code only reads its fields?
    When every field is the struct's value as it is (no conversion, no default) and the
    Record does not validate."""
    snake, cls = snake_case(info.name), f"app_module.{info.name}"
    verbatim = all(
        _field_json(field, records, snake, cls, _as_is).decode == f"s.{field.name}"
        for field in info.fields
    )
    return verbatim and literal_value(info.options.get("validation")) is not True


def write_json_codecs(
    out: Emitter, info: RecordInfo, records: dict[str, RecordInfo], display_name: str, *, view: bool
) -> None:
    """The Record's mirror struct, its builder, ``decode_<record>_json`` (and
    ``view_<record>_json`` when ``view``), ``encode_<record>_json``."""
    snake = snake_case(info.name)
    cls = f"app_module.{info.name}"
    line = info.definition.span.line
    fields = [_field_json(field, records, snake, cls, out.use) for field in info.fields]
    out.line(f"# {display_name}:{line}  class {info.name}")
    out.use_module("msgspec")
    out.use_module("orjson", "dumps", "_orjson_dumps")
    out.use_module("typing", "Any")  # the mirror's converted fields, the payload's values
    with out.block(f"class _{info.name}JSON(msgspec.Struct, kw_only=True):"):
        for field in fields:
            out.line(field.entry)
        out.line('_faust: msgspec.Raw = msgspec.field(name="__faust", default=_NO_METADATA)')
    out.blank(2)
    include_metadata = literal_value(info.options.get("include_metadata")) is not False
    validation = literal_value(info.options.get("validation")) is True
    metadata = f'{{"ns":{json.dumps(info.namespace)}}}'
    for field in fields:
        for hoisted in field.hoisted:
            out.line(hoisted)
    if view:  # a loop may run the view's lines itself, on a message's bytes (or None)
        parser = f"{out.use_module('collections.abc', 'Callable')}[[Any], _{info.name}JSON]"
        out.line(f"_parse_{snake}_json: {parser}")
    out.line(f"_parse_{snake}_json = msgspec.json.Decoder(_{info.name}JSON).decode")
    out.line(f"_{snake.upper()}_METADATA = msgspec.Raw({metadata.encode()!r})")
    out.blank(2)
    with out.block(f"def _build_{snake}(s: _{info.name}JSON) -> {cls}:"):
        out.condition(
            "if",
            [
                "s._faust is not _NO_METADATA",
                f"s._faust != _{snake.upper()}_METADATA",
                f"{out.use('blessed')}({cls}, s._faust)",
            ],
        )
        with out.indented():
            fallback = out.use("Fallback")
            out.line(f"raise {fallback}  # a subclass named by __faust: the generic path")
        values = [
            (field.name, each.decode) for field, each in zip(info.fields, fields, strict=True)
        ]
        write_record(out, info, cls, values, validation)
        out.line("return record")
    out.blank(2)
    with out.block(f"def decode_{snake}_json(data: bytes) -> {cls}:"):
        out.line(
            f'"""JSON bytes -> {info.name} ({display_name}:{line}); msgspec checks every type."""'
        )
        with out.block("try:"):
            out.line(f"return _build_{snake}(_parse_{snake}_json(data))")
        with out.block(f"except {out.use('Fallback')}:"):
            loads = out.use("json_loads")
            out.call(f"return {cls}.from_data", [f"{loads}(data)", f"preferred_type={cls}"])
    if view:
        out.blank(2)
        view_function = json_view_function(info.name)
        with out.block(f"def {view_function}(data: bytes) -> _{info.name}JSON | {cls}:"):
            out.line(
                f'"""JSON bytes -> {info.name} fields as attributes ({display_name}:{line}), for'
            )
            out.raw_line(
                "code that reads nothing else: the msgspec struct (its values are the Record's),"
            )
            out.raw_line(f'or the {info.name} itself when __faust names another class."""')
            out.line(f"s = _parse_{snake}_json(data)")
            with out.block(
                f"if s._faust is _NO_METADATA or s._faust == _{snake.upper()}_METADATA:"
            ):
                out.line("return s")
            out.line(f"return decode_{snake}_json(data)")
    metadata_name = f"_{snake.upper()}_NS"
    fragment_name = f"_{snake.upper()}_NS_JSON"
    if include_metadata:
        out.blank(2)
        out.line(f"{metadata_name} = {{{quote('ns')}: {quote(info.namespace)}}}")
        out.line(
            "# the same, already JSON: a payload dict holding it is not tracked by the cyclic GC"
        )
        fragment = out.use_module("orjson", "Fragment", "_orjson_fragment")
        out.line(f"{fragment_name} = {fragment}(_orjson_dumps({metadata_name}))")
    out.blank(2)
    with out.block(f"def _payload_{snake}(record: {cls}) -> dict[str, Any]:"):
        with out.block(f"if type(record) is not {cls}:"):
            out.line("return record.to_representation()")
        with out.block("return {"):
            for info_field, each in zip(info.fields, fields, strict=True):
                if each.encode is not None:
                    out.line(f"{quote(info_field.output_name)}: {each.encode},")
            if include_metadata:
                out.line(f'"__faust": {metadata_name},')
        out.line("}")
    out.blank(2)
    with out.block(f"def encode_{snake}_json(record: {cls}) -> bytes:"):
        out.line(f'"""{info.name} -> JSON bytes, as Faust writes them."""')
        _json_encoder_head(out, info, cls, fragment_name if include_metadata else None)
        out.line(f"payload = _payload_{snake}(record)")
        default, options = out.use("json_default"), out.use("JSON_OPTIONS")
        dumps = out.use_module("orjson", "dumps", "_orjson_dumps")
        out.call(f"return {dumps}", ["payload", f"default={default}", f"option={options}"])


def write_json_view_inline(out: Emitter, record: str, value: str, data: str, view: str) -> None:
    """``value = view(data)``, where ``view`` is ``view_<record>_json``, without its frame
    in the usual case: the view's own test (``write_json_codecs`` writes the view), and
    the view itself when ``__faust`` names another class."""
    snake = snake_case(record)
    out.line(f"{value} = _parse_{snake}_json({data})")
    faust = f"{value}._faust"
    out.condition("if", [f"{faust} is not _NO_METADATA", f"{faust} != _{snake.upper()}_METADATA"])
    with out.indented():
        out.line("# __faust names another class: the view returns that Record")
        out.line(f"{value} = {view}({data})")


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


def json_out_checks(info: RecordInfo, var: str) -> tuple[str, ...]:
    """The conditions under which msgspec writes ``var`` (a ``_<Record>Out`` of a Record
    :func:`json_out_ok` accepts) as exactly the bytes the topic's dumper writes for the
    Record: every value of its field's own type (``type(v) is T``: not a subclass, not a
    bool where an int is declared; None where the field is optional) and every int within
    64 bits (orjson refuses others). The bounds are literals, constants of the compiled
    code. Example::

        json_out_checks(records["BigOrder"], "big")
        # ('type(big.order_id) is str', ..., '-(2**63) <= big.amount_cents < 2**64')
    """
    checks: list[str] = []
    for field in info.fields:
        value = f"{var}.{field.name}"
        optional = field.type.kind == "optional"
        kind = _OUT_NATIVE[field.type.args[0].kind if optional else field.type.kind]
        field_checks = [f"type({value}) is {kind}"]
        if kind == "int":
            field_checks.append(f"-(2**63) <= {value} < 2**64")
        if optional:  # each after the first only runs when the value is of the type
            field_checks = [f"({value} is None or {check})" for check in field_checks]
        checks += field_checks
    return tuple(checks)


def write_json_out(out: Emitter, info: RecordInfo, display_name: str) -> None:
    """``_<Record>Out`` (the fields and ``__faust`` in a msgspec struct, untracked by the
    cyclic GC: its values are atoms) and ``encode_<record>_out(out, dump)``, which writes
    it with msgspec when :func:`json_out_checks` hold (the bytes ``dump`` writes for the
    Record: msgspec and orjson agree on str, int and bool), else builds the Record and
    returns ``dump(record)``. Only for a Record :func:`json_out_ok` accepts. A send site
    tests the same checks itself first and calls the function only when one fails."""
    snake = snake_case(info.name)
    cls = f"app_module.{info.name}"
    include_metadata = literal_value(info.options.get("include_metadata")) is not False
    arguments = ", ".join(f"out.{field.name}" for field in info.fields)
    line = info.definition.span.line
    out.line(f"# {display_name}:{line}  a {info.name} built only to be sent as JSON")
    with out.block(f"class _{info.name}Out(msgspec.Struct, gc=False):"):
        for field in info.fields:
            out.line(f"{field.name}: {out.use_module('typing', 'Any')}")
        if include_metadata:
            # the metadata as orjson writes it in encode_<record>_json
            metadata = f"msgspec.Raw(_orjson_dumps(_{snake.upper()}_NS))"
            out.call(
                "_faust: msgspec.Raw = msgspec.field", ['name="__faust"', f"default={metadata}"]
            )
    out.blank(2)
    dumper = f"{out.use_module('collections.abc', 'Callable')}[[Any], bytes | None]"
    with out.block(
        f"def encode_{snake}_out(out: _{info.name}Out, dump: {dumper}) -> bytes | None:"
    ):
        out.lines(
            f'"""{info.name} fields in _{info.name}Out -> the bytes dump() writes for the\n'
            f"{info.name}: msgspec writes them when the values have their fields' types (as\n"
            f'encode_{snake}_json does), else the {info.name} is built and dumped."""'
        )
        out.condition("if", list(json_out_checks(info, "out")))
        with out.indented():
            out.line("return _encode_json(out)")
        out.line(f"return dump({cls}({arguments}))")


#: field kinds whose values JSON carries natively (orjson needs no option for them)
_JSON_NATIVE = {"str": "str", "int": "int", "float": "float", "bool": "bool"}


def _json_encoder_head(out: Emitter, info: RecordInfo, cls: str, metadata: str | None) -> None:
    """The head of ``encode_<record>_json``: when every field is a str, int, float or bool
    (maybe optional) and the values have exactly those types (as they usually do), orjson
    writes the payload without the options and ``default`` that other values may need
    (they change nothing for these), which costs a third of the call; else the tail the
    caller adds writes the generic payload."""
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
            return
    if not fields:
        return
    with out.block(f"if type(record) is {cls}:"):
        for field in fields:
            out.line(f"f_{field.name} = record.{field.name}")
        out.line("# values of their fields' own types (as usual): orjson needs no options")
        out.condition("if", checks)
        with out.indented():
            out.line("return _orjson_dumps(")
            with out.indented():
                with out.block("{"):
                    for field in fields:
                        out.line(f"{quote(field.output_name)}: f_{field.name},")
                    if metadata is not None:
                        out.line(f'"__faust": {metadata},')
                out.line("}")
            out.line(")")
