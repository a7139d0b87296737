"""Generated Avro converters of a Record: datum <-> Record, and straight reading/writing.

:func:`write_avro_converters` writes the functions turning a Record into the datum
fastavro writes and back; :func:`plan_avro_straight` decides, and
:func:`write_avro_straight` writes, the writer and reader of the datum's bytes for Records
whose schema has primitive fields alone. Example::

    plan_avro_straight(module, records, records["Order"]).schema_text   # '{"fields":...}'
    write_avro_straight(out, records["Order"], plan, "app.py")
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from faust.models.typeinfo import TypeNode
from faustc.codecs.common import quote, snake_case, unknown_call, write_record
from faustc.codecs.model import AvroWriterPlan
from faustc.diagnostics import CompileError
from faustc.emit.emitter import Emitter, Ternary
from faustc.front.ir import AppModule
from faustc.schema import record_schema
from faustc.types import FieldInfo, RecordInfo, literal_value


class _AvroNames:
    """Hoisted module-level names one Record's Avro converters use."""

    def __init__(self, snake: str, use: Callable[[str], str]) -> None:
        self.snake = snake
        self.use = use
        self.hoisted: list[str] = []

    def add(self, name: str, value: str) -> str:
        line = f"{name} = {value}"
        if line not in self.hoisted:
            self.hoisted.append(line)
        return name


def _item_var(depth: int) -> str:
    return "item" if depth == 0 else f"item{depth + 1}"


def _avro_from_expr(
    ref: TypeNode, var: str, names: _AvroNames, zone: str | None, depth: int = 0
) -> str:
    """Expression turning the datum value ``var`` into the field's value (``var`` itself
    when fastavro's value is already it), as ``faust.serializers.avro.from_datum`` does."""
    kind = ref.kind
    if kind == "enum":
        table = names.add(
            f"_{names.snake}_{snake_case(ref.name)}_by_name",
            f"dict(app_module.{ref.name}.__members__)",
        )
        return f"{table}[{var}]"
    if kind == "datetime" and zone is not None:
        return f"{zone}({var})"
    if kind == "record":
        return f"_avro_record_{snake_case(ref.name)}({var})"
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


def _has_datetime(ref: TypeNode) -> bool:
    return ref.kind == "datetime" or any(_has_datetime(arg) for arg in ref.args)


def _avro_to_expr(ref: TypeNode, var: str, depth: int = 0) -> str:
    """Expression turning the field value ``var`` into what fastavro writes, as
    ``faust.serializers.avro.to_datum`` does (``var`` itself when it is that already)."""
    kind = ref.kind
    if kind == "enum":
        return f"{var}.name"
    if kind == "record":
        return f"_avro_datum_{snake_case(ref.name)}({var})"
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
    snake = snake_case(info.name)
    cls = f"app_module.{info.name}"
    values: list[tuple[str, str]] = []
    for field in info.fields:

        def descriptor(field: FieldInfo = field) -> str:
            return f"{names.use('field')}({cls}, {quote(field.name)})"

        if field.exclude:
            default = names.add(f"_{snake}_{field.name}_default", f"{descriptor()}.make_default")
            values.append((field.name, f"{default}()"))
            continue
        zone = None
        unknown = unknown_call(field)  # maybe a descriptor of the user's: ask at run time
        if (field.specifier == "DatetimeField" and "timezone" in field.args) or (
            unknown and _has_datetime(field.type)
        ):
            timezone = (
                f'getattr({descriptor()}, "timezone", None)'
                if unknown
                else f"{descriptor()}.timezone"
            )
            converter = names.use("timezone_converter")
            zone = names.add(f"_{snake}_{field.name}_zone", f"{converter}({timezone})")
        decode = _avro_from_expr(field.type, source(field), names, zone)
        if (field.specifier == "StringField" and "trim_whitespace" in field.args) or (
            unknown and field.type.kind != "datetime"
        ):
            prepare = names.add(f"_{snake}_{field.name}_prepare", f"{descriptor()}.prepare_value")
            decode = f"{prepare}({decode})"
        values.append((field.name, decode))
    return values


def write_avro_converters(out: Emitter, info: RecordInfo, display_name: str) -> None:
    """``_avro_datum_<record>(record) -> datum`` and ``_avro_record_<record>(datum) ->
    record``: the datum is the dict fastavro writes/reads with the Record's own schema
    (``faust.serializers.avro.avro_schema``), so every field is in it."""
    snake = snake_case(info.name)
    cls = f"app_module.{info.name}"
    line = info.definition.span.line
    names = _AvroNames(snake, out.use)
    values = _avro_values(info, names, lambda field: f"datum[{quote(field.output_name)}]")
    validation = literal_value(info.options.get("validation")) is True
    out.line(
        f"# Avro: datum <-> {info.name}; fastavro reads and writes the bytes (the datum is the dict"
    )
    out.line("# of the Record's own schema, faust.serializers.avro.avro_schema).")
    for hoisted in names.hoisted:
        out.line(hoisted)
    if names.hoisted:
        out.blank(2)
    any_ = out.use_module("typing", "Any")
    with out.block(f"def _avro_datum_{snake}(record: {cls}) -> dict[str, {any_}]:"):
        out.line(f'"""{info.name} -> the Avro datum fastavro writes ({display_name}:{line})."""')
        with out.block("return {"):
            for field in info.fields:
                if not field.exclude:
                    datum = _avro_to_expr(field.type, f"record.{field.name}")
                    out.line(f"{quote(field.output_name)}: {datum},")
        out.line("}")
    out.blank(2)
    with out.block(f"def _avro_record_{snake}(datum: dict[str, {any_}]) -> {cls}:"):
        out.line(f'"""The Avro datum fastavro read -> {info.name} ({display_name}:{line})."""')
        write_record(out, info, cls, values, validation)
        out.line("return record")


#: Avro primitive -> the Python type a field value must have exactly to be written straight
_AVRO_PYTHON_TYPES = {
    "string": "str",
    "bytes": "bytes",
    "long": "int",
    "double": "float",
    "boolean": "bool",
}


def _avro_write_parts(
    avro_type: str, var: str, use: Callable[[str], str]
) -> tuple[list[str], list[str]]:
    """(lines preparing, the parts of the datum's bytes) writing ``var`` as ``avro_type``."""
    long = use("avro_write_long")
    if avro_type == "string":
        return [f"{var}_utf8 = {var}.encode()"], [f"{long}(len({var}_utf8))", f"{var}_utf8"]
    if avro_type == "bytes":
        return [], [f"{long}(len({var}))", var]
    if avro_type == "long":
        return [], [f"{long}({var})"]
    if avro_type == "double":
        return [], [f"{use('avro_write_double')}({var})"]
    return [], [f'(b"\\x01" if {var} else b"\\x00")']


def _avro_write_whole(avro_type: str, var: str, use: Callable[[str], str]) -> str:
    """One bytes expression writing ``var`` as ``avro_type`` (a union branch)."""
    if avro_type == "string":
        return f"{use('avro_write_string')}({var})"
    if avro_type == "bytes":
        return f"{use('avro_write_long')}(len({var})) + {var}"
    return _avro_write_parts(avro_type, var, use)[1][0]


def _write_read(out: Emitter, avro_type: str, var: str) -> None:
    """Read ``var`` (an ``avro_type`` at ``data[pos]``) and move ``pos`` past it; a length
    or long longer than one byte takes a runtime helper."""
    if avro_type in ("string", "bytes"):
        decode = ".decode()" if avro_type == "string" else ""
        helper = out.use("avro_read_string" if avro_type == "string" else "avro_read_bytes")
        out.line(f"length = {out.use('AVRO_SHORT_LENGTHS')}[data[pos]]")
        with out.block("if length < 0:  # a length of two bytes or more"):
            out.line(f"{var}, pos = {helper}(data, pos)")
        with out.block("else:"):
            out.line("pos += 1")
            out.line(f"{var} = data[pos : pos + length]{decode}")
            out.line("pos += length")
    elif avro_type == "long":
        out.line("byte = data[pos]")
        with out.block("if byte < 0x80:"):
            out.line(f"{var} = (byte >> 1) ^ -(byte & 1)")
            out.line("pos += 1")
        with out.block("else:"):
            out.line(f"{var}, pos = {out.use('avro_read_long')}(data, pos)")
    elif avro_type == "double":
        out.line(f"({var},) = {out.use('avro_read_double')}(data, pos)")
        out.line("pos += 8")
    else:
        out.line(f"{var} = data[pos] != 0")
        out.line("pos += 1")


def _python_type(avro_type: Any) -> str:
    """The Python type of a value read as ``avro_type`` (a primitive, maybe in a union)."""
    if isinstance(avro_type, str):
        return _AVRO_PYTHON_TYPES[avro_type]
    (other,) = [branch for branch in avro_type if branch != "null"]
    return f"{_AVRO_PYTHON_TYPES[other]} | None"


def _write_reads(out: Emitter, fields: list[tuple[FieldInfo, Any]]) -> None:
    """Read every field of the datum at ``data[pos]`` into ``f_<field>`` (declared first,
    so a union's two branches give it one type)."""
    for field, avro_type in fields:
        if not isinstance(avro_type, str):
            out.line(f"f_{field.name}: {_python_type(avro_type)}")
    for field, avro_type in fields:
        var = f"f_{field.name}"
        out.line(f"# {field.name}: {json.dumps(avro_type)}")
        if isinstance(avro_type, str):
            _write_read(out, avro_type, var)
            continue
        (other,) = [branch for branch in avro_type if branch != "null"]
        null_byte, value_byte = ("0", "2") if avro_type[0] == "null" else ("2", "0")
        out.line("byte = data[pos]")
        out.line("pos += 1")
        with out.block(f"if byte == {null_byte}:"):
            out.line(f"{var} = None")
        with out.block(f"elif byte == {value_byte}:"):
            _write_read(out, other, var)
        with out.block("else:"):
            out.line('raise ValueError("not a branch of the union")')


def _straight_fields(info: RecordInfo, schema: Any) -> list[tuple[FieldInfo, Any]] | None:
    """The Record's fields in the schema's order with their Avro types, when every one is
    a primitive (maybe in a union with null); else None."""
    by_output = {field.output_name: field for field in info.fields if not field.exclude}
    fields: list[tuple[FieldInfo, Any]] = []
    for entry in schema["fields"]:
        field = by_output.get(entry["name"])
        avro_type = entry["type"]
        if field is None:
            return None
        if (isinstance(avro_type, str) and avro_type in _AVRO_PYTHON_TYPES) or (
            isinstance(avro_type, list)
            and len(avro_type) == 2
            and "null" in avro_type
            and all(isinstance(branch, str) for branch in avro_type)
            and next(b for b in avro_type if b != "null") in _AVRO_PYTHON_TYPES
        ):
            fields.append((field, avro_type))
        else:
            return None
    return fields


def plan_avro_straight(
    module: AppModule, records: dict[str, RecordInfo], info: RecordInfo
) -> AvroWriterPlan | None:
    """Whether the Record's datum is written and read straight (:func:`write_avro_straight`):
    when every field of its Avro schema is a primitive (string, bytes, long, double,
    boolean, each maybe in a union with null); None for any other Record (fastavro reads
    and writes those). The view too, when every value is the Record's as read."""
    try:
        schema = record_schema(module, records, info.name)
    except CompileError:
        return None
    if _straight_fields(info, schema) is None:
        return None
    validation = literal_value(info.options.get("validation")) is True
    names = _AvroNames(snake_case(info.name), lambda name: name)
    values = _avro_values(info, names, lambda f: f"f_{f.name}")
    # the view: the same reading, the values in a struct instead of the Record (only when
    # they are the Record's values as read, as for the JSON view)
    view = not validation and all(value == f"f_{name}" for name, value in values)
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return AvroWriterPlan(schema, text, view)


def write_avro_straight(
    out: Emitter, info: RecordInfo, plan: AvroWriterPlan, display_name: str
) -> None:
    """``encode_<record>_avro(record) -> bytes`` and ``decode_<record>_avro(data) ->
    record`` (and ``view_<record>_avro`` when the plan says so), straight-line Python.

    The writer writes what fastavro writes (zigzag varints, UTF-8, little-endian doubles);
    a value whose type is not exactly the one its field declares (an ``int`` in a ``float``
    field, a ``str`` subclass, ...) makes it hand the datum to fastavro, so what fastavro
    accepts, coerces or rejects stays its decision. The reader reads what fastavro reads;
    anything out of the ordinary (a length of more than one byte is read by a helper, but
    a truncated datum, a bad union index, bytes left over) makes it read the message again
    with fastavro, whose value or error it then is. About 3x faster than fastavro's
    per-message reader on the benchmark's orders (bench/README.md)."""
    fields = _straight_fields(info, plan.schema)
    assert fields is not None
    snake = snake_case(info.name)
    cls = f"app_module.{info.name}"
    checks: list[str] = []
    prepared: list[str] = []
    parts: list[str | Ternary] = []
    for field, avro_type in fields:
        var = f"f_{field.name}"
        if isinstance(avro_type, str):
            checks.append(f"type({var}) is {_AVRO_PYTHON_TYPES[avro_type]}")
            lines, written = _avro_write_parts(avro_type, var, out.use)
            prepared += lines
            parts += written
            continue
        (other,) = [branch for branch in avro_type if branch != "null"]
        checks.append(f"({var} is None or type({var}) is {_AVRO_PYTHON_TYPES[other]})")
        # the branch index is a long: 0 is written 0x00, 1 is 0x02
        null_byte, value_byte = ("0", "2") if avro_type[0] == "null" else ("2", "0")
        whole = _avro_write_whole(other, var, out.use)
        parts.append(
            Ternary(f'b"\\x0{null_byte}"', f"{var} is None", f'b"\\x0{value_byte}" + {whole}')
        )
    line = info.definition.span.line
    validation = literal_value(info.options.get("validation")) is True
    names = _AvroNames(snake, out.use)  # the names write_avro_converters hoisted already
    values = _avro_values(info, names, lambda field: f"f_{field.name}")
    out.line(f"_avro_type_{snake} = {out.use('avro_type')}({cls})")
    out.blank(2)
    with out.block(f"def encode_{snake}_avro(record: {cls}) -> bytes:"):
        out.line(
            f'"""{info.name} -> its Avro datum, the bytes fastavro writes ({display_name}:{line});'
        )
        out.raw_line(
            'a value of another type than its field declares: fastavro writes the datum."""'
        )
        for field, _ in fields:
            out.line(f"f_{field.name} = record.{field.name}")
        out.condition("if not (", checks)
        with out.indented():
            out.line(f"return _avro_type_{snake}.write_datum(_avro_datum_{snake}(record))")
        for prepare in prepared:
            out.line(prepare)
        out.line('return b"".join(')
        with out.indented():
            with out.block("("):
                for part in parts:
                    if isinstance(part, Ternary):
                        out.element(part)
                    else:
                        out.line(f"{part},")
            out.line(")")
        out.line(")")
    out.blank(2)
    with out.block(f"def decode_{snake}_avro(data: bytes) -> {cls}:"):
        out.line(f'"""Its Avro datum -> {info.name}, read straight ({display_name}:{line});')
        out.raw_line(
            'anything out of the ordinary: fastavro reads the message again and decides."""'
        )
        with out.block("try:"):
            out.line("pos = 0")
            _write_reads(out, fields)
            with out.block("if pos != len(data):"):
                out.line('raise ValueError("bytes left after the datum")')
        with out.block("except Exception:"):
            out.line(f"return _avro_record_{snake}(_avro_type_{snake}.read(data))")
        write_record(out, info, cls, values, validation)
        out.line("return record")
    if not plan.view:
        return
    out.blank(2)
    out.line("# its values are strings, numbers, booleans and None: the GC need not track it")
    with out.block(f"class _{info.name}AvroView(msgspec.Struct, gc=False):"):
        for field, avro_type in fields:
            out.line(f"{field.name}: {_python_type(avro_type)}")
    out.blank(2)
    with out.block(f"def view_{snake}_avro(data: bytes) -> _{info.name}AvroView | {cls}:"):
        out.line(f'"""Its Avro datum -> {info.name} fields as attributes ({display_name}:{line}),')
        out.raw_line(f"for code that reads nothing else: read as decode_{snake}_avro reads it;")
        out.raw_line(
            f'anything out of the ordinary: the {info.name} decode_{snake}_avro returns."""'
        )
        with out.block("try:"):
            out.line("pos = 0")
            _write_reads(out, fields)
            with out.block("if pos != len(data):"):
                out.line('raise ValueError("bytes left after the datum")')
        with out.block("except Exception:"):
            out.line(f"return decode_{snake}_avro(data)")
        out.line(f"return _{info.name}AvroView({', '.join(value for _, value in values)})")
