"""Avro: schemas for Records, and the ``avro`` and ``avro-confluent`` codecs.

:func:`avro_schema` describes a Record (or a plain type) as an Avro schema; the codecs
write and read datums with fastavro. Example::

    class Order(faust.Record, namespace="shop.Order", serializer="avro"):
        order_id: str
        amount: Decimal = DecimalField(max_digits=12, decimal_places=2)

    avro_schema(Order)
    # {'type': 'record', 'name': 'Order', 'namespace': 'shop', 'fields': [...]}

``avro`` writes a bare (schemaless) datum: reader and writer must share the schema.
``avro-confluent`` writes Confluent's wire format: magic byte 0, the 4-byte schema id the
registry gave the schema under the subject ``<topic>-value`` (or ``-key``), then the datum.
It reads that form and the newer one where the schema's GUID travels in the
``__value_schema_id`` (``__key_schema_id``) header, and resolves the writer's schema
against the Record's own (Avro schema evolution). The registry URL is the App setting
``schema_registry_url`` (``mock://...`` gives confluent-kafka's in-process registry, for
tests). Mapping of types:

=====================  ==================================================================
``str int float bool``  ``string long double boolean``
``bytes``               ``bytes``
``Decimal``             ``bytes`` + ``decimal`` (precision/scale from ``DecimalField``)
``datetime``            ``long`` + ``timestamp-micros`` (``DatetimeField(precision="millis")``)
``date`` / ``UUID``     ``int`` + ``date`` / ``string`` + ``uuid``
``Enum``                ``enum`` of the member names
``Optional[T]``         ``["null", T]`` (default null)
``list/set/tuple[T]``   ``array``;  ``dict[str, T]``: ``map``;  a Record: a named ``record``
=====================  ==================================================================

Naive datetimes are written as UTC and read back as aware UTC datetimes (Avro timestamps
are instants).

Reading a datum: :func:`datum_reader` calls fastavro's reader without the schema parsing
``fastavro.schemaless_reader`` repeats on every call (2x the rate for a small record, see
``bench/codecs.py``), and insists that the datum ends where the message ends: bytes left
over mean the message was not written with this schema (a Confluent-framed message on an
``avro`` topic, say), and are a decode error rather than a silently wrong record. A Record
with compiler-generated converters (``faust.serializers.generated``) uses them for
datum <-> Record; :func:`record_to_datum` / :func:`record_from_datum` are the reference.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import io
import json
import struct
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import fastavro

from faust.models.fields import MISSING as _MISSING
from faust.models.record import Record
from faust.models.typeinfo import TypeNode, describe, timezone_converter
from faust.serializers import codecs
from faust.serializers.avroschema import (
    NO_DEFAULT,
    SchemaField,
    SchemaRecord,
    type_schema,
)
from faust.serializers.codecs import BoundCodec, Codec, CodecContext, DecodeFailed, Headers
from faust.serializers.generated import GeneratedCodecs


def record_fullname(model: type[Record]) -> str:
    return model._options.namespace


def enum_fullname(enum_type: type) -> str:
    from faust.models.record import canonical_module_name

    return f"{canonical_module_name(enum_type.__module__)}.{enum_type.__name__}"


def schema_record(model: type[Record]) -> SchemaRecord:
    """``model`` as the schema mapping (``faust.serializers.avroschema``) takes it."""
    fields = []
    for field in model._plan().fields:
        descriptor = field.descriptor
        if descriptor.exclude:
            continue
        has_default = descriptor.default_factory is None and descriptor.default is not _MISSING
        fields.append(
            SchemaField(
                field.output_name,
                field.node,
                f"{model.__name__}.{field.name}",
                aliases=(field.input_name,) if field.input_name != field.output_name else (),
                default=descriptor.default if has_default else NO_DEFAULT,
                max_digits=getattr(descriptor, "max_digits", None),
                decimal_places=getattr(descriptor, "decimal_places", None),
                precision=getattr(descriptor, "precision", "micros"),
            )
        )
    return SchemaRecord(record_fullname(model), tuple(fields))


class _Classes:
    """The Records and Enums a schema names, from the classes themselves."""

    def record(self, node: TypeNode) -> SchemaRecord:
        return schema_record(node.py)

    def enum(self, node: TypeNode) -> tuple[str, tuple[str, ...]]:
        return enum_fullname(node.py), tuple(member.name for member in node.py)


def avro_schema(typ: Any) -> Any:
    """The Avro schema (JSON-ready) for a Record class or a plain type."""
    return type_schema(describe(typ), _Classes(), where=getattr(typ, "__name__", "value"))


# -- datums: Python values <-> what fastavro reads and writes -------------------------------


def to_datum(node: TypeNode) -> Callable[[Any], Any] | None:
    """``value -> Avro datum`` for ``node`` (None when the value is the datum)."""
    kind = node.kind
    if kind == "enum":
        return lambda value: value.name
    if kind == "optional":
        inner = to_datum(node.args[0])
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if kind in ("list", "set", "frozenset", "tuple"):
        item = to_datum(node.args[0])
        if item is None:
            return None if kind == "list" else list
        return lambda value: [item(element) for element in value]
    if kind == "dict":
        val = to_datum(node.args[1])
        if val is None:
            return None
        return lambda value: {k: val(v) for k, v in value.items()}
    if kind == "record":
        model = node.py
        return lambda value: record_to_datum(model)(value)
    return None


def from_datum(node: TypeNode, *, timezone: Any = None) -> Callable[[Any], Any] | None:
    """``Avro datum -> value`` for ``node`` (None when the datum is the value)."""
    kind = node.kind
    if kind == "enum":
        enum_type = node.py
        return lambda symbol: enum_type[symbol]
    if kind == "datetime" and timezone is not None:
        return timezone_converter(timezone)
    if kind == "optional":
        inner = from_datum(node.args[0], timezone=timezone)
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if kind in ("list", "set", "frozenset", "tuple"):
        item = from_datum(node.args[0], timezone=timezone)
        build: Callable[[Any], Any] = {
            "list": list,
            "set": set,
            "frozenset": frozenset,
            "tuple": tuple,
        }[kind]
        if item is None:
            return None if kind == "list" else build
        return lambda value: build([item(element) for element in value])
    if kind == "dict":
        val = from_datum(node.args[1], timezone=timezone)
        if val is None:
            return None
        return lambda value: {k: val(v) for k, v in value.items()}
    if kind == "record":
        model = node.py
        return lambda value: record_from_datum(model)(value)
    return None


_to_datum_cache: dict[type[Record], Callable[[Record], dict[str, Any]]] = {}
_from_datum_cache: dict[type[Record], Callable[[dict[str, Any]], Record]] = {}


def record_to_datum(model: type[Record]) -> Callable[[Record], dict[str, Any]]:
    """``record -> dict`` that fastavro writes with ``avro_schema(model)``."""
    found = _to_datum_cache.get(model)
    if found is not None:
        return found
    steps = [
        (field.name, field.output_name, to_datum(field.node))
        for field in model._plan().fields
        if not field.descriptor.exclude
    ]

    def convert(record: Record) -> dict[str, Any]:
        values = record.__dict__
        return {
            output: (values[name] if step is None else step(values[name]))
            for name, output, step in steps
        }

    _to_datum_cache[model] = convert
    return convert


def record_from_datum(model: type[Record]) -> Callable[[dict[str, Any]], Record]:
    """``dict fastavro read -> record`` (validated when the class sets ``validation``)."""
    found = _from_datum_cache.get(model)
    if found is not None:
        return found
    steps = []
    for field in model._plan().fields:
        descriptor = field.descriptor
        step = from_datum(field.node, timezone=getattr(descriptor, "timezone", None))
        if _prepares(descriptor) and field.node.kind != "datetime":
            step = _then_prepare(step, descriptor.prepare_value)
        steps.append((field.name, field.output_name, descriptor, step))
    validate = model._options.validation

    def convert(datum: dict[str, Any]) -> Record:
        # fastavro reads every field of the Record's schema: only excluded ones are absent
        values = {}
        for name, output, descriptor, step in steps:
            if descriptor.exclude:
                values[name] = descriptor.make_default()
                continue
            value = datum[output]
            values[name] = value if step is None else step(value)
        record = object.__new__(model)
        record.__dict__.update(values)
        if validate:
            record.validate_or_raise()
        return record

    _from_datum_cache[model] = convert
    return convert


def _prepares(descriptor: Any) -> bool:
    """Does the descriptor change values it is given (``StringField(trim_whitespace=)``)?
    The JSON path applies it to decoded values (``faust.models.record``); so does Avro."""
    from faust.models.fields import FieldDescriptor

    return type(descriptor).prepare_value is not FieldDescriptor.prepare_value


def _then_prepare(
    step: Callable[[Any], Any] | None, prepare: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    if step is None:
        return prepare
    return lambda value: prepare(step(value))


def parse(schema: Any) -> Any:
    """fastavro's parsed form of ``schema`` (its own name table, so schemas never clash)."""
    return fastavro.parse_schema(schema, named_schemas={})


# -- reading datums --------------------------------------------------------------------------

#: the options ``fastavro.schemaless_reader`` passes by default
_READ_OPTIONS = {
    "return_record_name": False,
    "return_record_name_override": False,
    "handle_unicode_errors": "strict",
    "return_named_type": False,
    "return_named_type_override": False,
}


class AvroDatumError(ValueError):
    """The bytes are not one datum of the schema (the message says why)."""


def datum_error(exc: BaseException, data: bytes) -> Exception:
    """What a failed read means, in words (fastavro's EOFError often has no message)."""
    if isinstance(exc, AvroDatumError):
        return exc
    if isinstance(exc, EOFError | StopIteration):
        detail = str(exc).split(" from <", 1)[0]  # fastavro names its buffer object
        return AvroDatumError(f"the datum ends early ({len(data)} bytes): {detail}".rstrip(": "))
    if isinstance(exc, IndexError | struct.error | OverflowError):
        return AvroDatumError(f"{len(data)} bytes are not a datum of the schema")
    return exc if isinstance(exc, Exception) else AvroDatumError(str(exc))


_PROBE_ITEM = {
    "type": "record",
    "name": "Item",
    "fields": [
        {"name": "n", "type": "long"},
        {"name": "c", "type": {"type": "enum", "name": "C", "symbols": ["A", "B"]}},
    ],
}
#: what the probes of fastavro's internals read and write
_PROBE_SCHEMA = {
    "type": "record",
    "name": "Probe",
    "namespace": "faust.probe",
    "fields": [
        {"name": "s", "type": "string"},
        {"name": "first", "type": _PROBE_ITEM},
        {"name": "more", "type": {"type": "array", "items": "Item"}},
        {"name": "maybe", "type": ["null", "Item"]},
        {"name": "tags", "type": {"type": "map", "values": "C"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
        },
    ],
}
_PROBE_DATUM = {
    "s": "é",
    "first": {"n": -3, "c": "B"},
    "more": [{"n": 2**40, "c": "A"}],
    "maybe": {"n": 1, "c": "A"},
    "tags": {"k": "B"},
    "at": 1_700_000_000_000_001,
    "price": decimal.Decimal("-12.30"),
}


def _probe_bytes() -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parse(_PROBE_SCHEMA), _PROBE_DATUM)
    return buffer.getvalue()


@functools.cache
def _direct_read_data() -> Any:
    """fastavro's internal ``_read_data`` when it behaves as ``schemaless_reader`` does on a
    probe (named types, enum, union, array, map, logical types, schema resolution), else
    None. ``schemaless_reader`` parses the schema on every call; ``_read_data`` takes it
    parsed. It is not public API, hence the probe; without it we use the public reader."""
    try:
        from fastavro import _read

        read_data = _read._read_data  # type: ignore[attr-defined]  # not in its stubs
        reader = json.loads(json.dumps(_PROBE_SCHEMA))
        reader["fields"].append({"name": "added", "type": "string", "default": "x"})
        data = _probe_bytes()
        for reader_schema in (None, reader):
            expected = fastavro.schemaless_reader(
                io.BytesIO(data),
                parse(_PROBE_SCHEMA),
                None if reader_schema is None else parse(reader_schema),
            )
            read = datum_reader(_PROBE_SCHEMA, reader_schema, _direct=read_data)
            if read(data) != expected:
                return None
        return read_data
    except Exception:
        return None


#: the options ``fastavro.schemaless_writer`` passes by default
_WRITE_OPTIONS = {"strict": False, "strict_allow_default": False, "disable_tuple_notation": False}


@functools.cache
def _direct_write_data() -> Any:
    """fastavro's internal ``write_data`` when it writes the probe as ``schemaless_writer``
    does, else None (the same reasoning as :func:`_direct_read_data`)."""
    try:
        from fastavro import _write

        write_data = _write.write_data  # type: ignore[attr-defined]  # not in its stubs
        write = datum_writer(_PROBE_SCHEMA, _direct=write_data)
        return write_data if write(_PROBE_DATUM) == _probe_bytes() else None
    except Exception:
        return None


def datum_writer(schema: Any, *, _direct: Any = None) -> Callable[[Any], bytes]:
    """``write(datum) -> bytes``: one schemaless datum of ``schema``, parsed once."""
    named: dict[str, Any] = {}
    parsed = fastavro.parse_schema(schema, named_schemas=named)
    write_data = _direct or _direct_write_data()
    options = _WRITE_OPTIONS
    if write_data is None:  # the public writer (parses the schema on every call)
        public, bytes_io = fastavro.schemaless_writer, io.BytesIO

        def write_public(datum: Any) -> bytes:
            buffer = bytes_io()
            public(buffer, parsed, datum)
            return buffer.getvalue()

        return write_public

    def write(datum: Any) -> bytes:
        out = bytearray()
        write_data(out, datum, parsed, named, "", options)
        return bytes(out)

    return write


@dataclasses.dataclass(frozen=True, slots=True)
class DatumReading:
    """What reading one datum takes: ``read_data(buffer, writer, named, reader, options)``
    with the schemas parsed once (see :func:`datum_reader`; the codecs inline the call)."""

    read_data: Callable[[Any, Any, Any, Any, Any], Any]
    writer: Any
    named: dict[str, dict[str, Any]]
    reader: Any
    options: dict[str, Any]


def datum_reading(
    writer_schema: Any, reader_schema: Any = None, *, _direct: Any = None
) -> DatumReading:
    """Parse the schemas once, and pick fastavro's internal reader when the probe passed."""
    named: dict[str, dict[str, Any]] = {"writer": {}, "reader": {}}
    writer = fastavro.parse_schema(writer_schema, named_schemas=named["writer"])
    reader = (
        None
        if reader_schema is None
        else fastavro.parse_schema(reader_schema, named_schemas=named["reader"])
    )
    read_data = _direct or _direct_read_data()
    if read_data is None:  # the public reader (parses the schemas on every call)
        public = fastavro.schemaless_reader

        def read_data(buffer: Any, writer: Any, named: Any, reader: Any, options: Any) -> Any:
            return public(buffer, writer, reader)

    return DatumReading(read_data, writer, named, reader, _READ_OPTIONS)


def left_over(position: int, data: bytes) -> AvroDatumError:
    return AvroDatumError(
        f"{len(data) - position} of {len(data)} bytes left after the datum "
        "(not written with this schema?)"
    )


def datum_reader(
    writer_schema: Any, reader_schema: Any = None, *, _direct: Any = None
) -> Callable[..., Any]:
    """``read(data, start=0) -> datum``: one datum of ``writer_schema`` (resolved against
    ``reader_schema`` when given) that must end where ``data`` ends.

    Raises :class:`AvroDatumError` for bytes that are not one datum of the schema.
    """
    return read_with(datum_reading(writer_schema, reader_schema, _direct=_direct))


def read_with(reading: DatumReading) -> Callable[..., Any]:
    """The ``read(data, start=0)`` of :func:`datum_reader` for schemas parsed already."""
    read_data, writer, named = reading.read_data, reading.writer, reading.named
    reader, options, bytes_io = reading.reader, reading.options, io.BytesIO

    def read(data: bytes, start: int = 0) -> Any:
        buffer = bytes_io(data)
        if start:
            buffer.seek(start)
        try:
            datum = read_data(buffer, writer, named, reader, options)
        except Exception as exc:
            raise datum_error(exc, data) from None
        if buffer.tell() != len(data):
            raise left_over(buffer.tell(), data)
        return datum

    return read


# -- writing primitives straight (the compiler's generated writers use these) ---------------

#: the longs -64..63, whose zigzag varint is one byte, by ``n + 64``
_ONE_BYTE_LONGS = tuple(bytes(((n << 1) ^ (n >> 63),)) for n in range(-64, 64))
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
write_double = struct.Struct("<d").pack


def write_long(n: int) -> bytes:
    """An Avro ``long`` (or ``int``): zigzag, then a base-128 varint, as fastavro writes it.

    >>> write_long(-1), write_long(64)
    (b'\\x01', b'\\x80\\x01')
    """
    if -64 <= n < 64:
        return _ONE_BYTE_LONGS[n + 64]
    if not _LONG_MIN <= n <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def write_string(text: str) -> bytes:
    """An Avro ``string``: its UTF-8 length as a long, then the bytes."""
    utf8 = text.encode()
    return write_long(len(utf8)) + utf8


# -- reading primitives straight (the compiler's generated readers use these) ---------------
# The generated readers read lengths of one byte inline (SHORT_LENGTHS) and call these for
# the rest. Each raises for what it will not read; the reader then hands the whole message
# to fastavro, which decides what it is (these only need to be right on what they accept).

#: a one-byte length (a long that is 0..63) by its byte; -1: not a one-byte length
SHORT_LENGTHS = tuple(byte >> 1 if byte < 0x80 and not byte & 1 else -1 for byte in range(256))
read_double = struct.Struct("<d").unpack_from


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    """The Avro long at ``data[pos]`` (a zigzag varint of at most 10 bytes whose value
    fits 64 bits, as fastavro reads it), and the position after it."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 63:
            raise ValueError("a long of more than 10 bytes")
    if value >> 64:
        raise ValueError("a long of more than 64 bits")
    return (value >> 1) ^ -(value & 1), pos


def read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """The Avro ``bytes`` at ``data[pos]`` and the position after them."""
    length, pos = read_long(data, pos)
    end = pos + length
    if length < 0 or end > len(data):
        raise ValueError(f"a length of {length} at {pos} in {len(data)} bytes")
    return data[pos:end], end


def read_string(data: bytes, pos: int) -> tuple[str, int]:
    """The Avro ``string`` at ``data[pos]`` and the position after it."""
    utf8, pos = read_bytes(data, pos)
    return utf8.decode(), pos


# -- one type's Avro codec -------------------------------------------------------------------


class AvroType:
    """What the Avro codecs need for one type: its schema, parsed, and a datum reader.

    Built once per type (:func:`avro_type`, shared by every app); the datum converters
    and the straight reader and writer are chosen at bind time, from the generated codecs
    the binding app installed for the type (``installed``; None: the reference ones).
    """

    def __init__(self, typ: Any) -> None:
        self.typ = typ
        self.schema = avro_schema(typ)
        self.schema_text = json.dumps(self.schema, sort_keys=True, separators=(",", ":"))
        self.parsed = parse(self.schema)
        self.reading = datum_reading(self.schema)
        self.read = read_with(self.reading)
        self.write_datum = datum_writer(self.schema)
        self.is_model = isinstance(typ, type) and issubclass(typ, Record)

    def converters(
        self, installed: GeneratedCodecs | None
    ) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """(value -> datum, datum -> value): generated when installed, else the reference."""
        typ = self.typ
        if self.is_model:
            if installed is not None and installed.to_avro and installed.from_avro:
                return installed.to_avro, installed.from_avro
            return record_to_datum(typ), record_from_datum(typ)
        node = describe(typ)
        return to_datum(node) or _identity, from_datum(node) or _identity

    def _straight(self, installed: GeneratedCodecs | None) -> GeneratedCodecs | None:
        """``installed`` when it holds the compiler's straight reader and writer for
        exactly this schema, else None."""
        if not self.is_model or installed is None or installed.avro_schema != self.schema_text:
            return None
        return installed

    def generated_reader(self, installed: GeneratedCodecs | None) -> Callable[[bytes], Any] | None:
        """``bytes -> value``, the compiler's straight-line reader of this schema (None
        when there is none; it reads what ``read`` + the converter read, faster)."""
        straight = self._straight(installed)
        return straight.avro_loads if straight is not None else None

    def writer(self, installed: GeneratedCodecs | None) -> Callable[[Any], bytes]:
        """``value -> bytes`` (one schemaless datum) for values of exactly this type."""
        straight = self._straight(installed)
        if straight is not None and straight.avro_dumps is not None:
            return straight.avro_dumps
        to_datum, _ = self.converters(installed)
        write = self.write_datum

        def dumps(value: Any) -> bytes:
            return write(to_datum(value))

        return dumps


_avro_types: dict[Any, AvroType] = {}


def avro_type(typ: Any) -> AvroType:
    """The (cached) :class:`AvroType` of ``typ``."""
    found = _avro_types.get(typ)
    if found is None:
        found = _avro_types[typ] = AvroType(typ)
    return found


def _identity(value: Any) -> Any:
    return value


class AvroCodec(Codec):
    """A schemaless Avro datum (no header; reader and writer share the Record's schema)."""

    name = "avro"

    def _dumps(self, obj: Any) -> bytes:
        raise TypeError(
            "the avro codec needs the value's type: declare the topic's key_type/value_type "
            "(or the Record's serializer) so the schema is known"
        )

    _loads = _dumps  # type: ignore[assignment]

    def dumps_record(self, record: Record) -> bytes:
        return avro_type(type(record)).writer(None)(record)

    def bind(self, typ: Any, context: CodecContext) -> BoundCodec:
        avro = avro_type(typ)
        installed = context.generated(typ)
        generated_loads = avro.generated_reader(installed)
        if generated_loads is not None:
            return BoundCodec(loads=generated_loads, dumps=avro.writer(installed), generated=True)
        _, from_datum = avro.converters(installed)
        # datum_reader's read, inlined: a Python call less per message
        reading, bytes_io = avro.reading, io.BytesIO
        read_data, writer, named, options = (
            reading.read_data,
            reading.writer,
            reading.named,
            reading.options,
        )

        def loads(data: bytes, headers: Headers = None) -> Any:
            buffer = bytes_io(data)
            try:
                datum = read_data(buffer, writer, named, None, options)
            except Exception as exc:
                raise datum_error(exc, data) from None
            if buffer.tell() != len(data):
                raise left_over(buffer.tell(), data)
            return from_datum(datum)

        def loads_batch(
            datas: Sequence[bytes], headers: Any, fail: Callable[[Exception], Exception]
        ) -> list[Any]:
            """The datums read one after another from one buffer; after each, the reader
            must stand exactly at the datum's end. When it does not (or reading raised),
            that message alone is decoded again by ``loads``, which decides what it is,
            and reading goes on at the next datum's start."""
            values: list[Any] = []
            append = values.append
            buffer = bytes_io(b"".join(datas))
            tell, seek = buffer.tell, buffer.seek
            end = 0
            for data in datas:
                end += len(data)
                try:
                    datum = read_data(buffer, writer, named, None, options)
                    if tell() == end:
                        append(from_datum(datum))
                        continue
                except Exception:  # loads(data) below says what is wrong
                    pass
                seek(end)
                try:
                    append(loads(data))
                except Exception as exc:
                    append(DecodeFailed(fail(exc)))
            return values

        return BoundCodec(loads=loads, dumps=avro.writer(installed), loads_batch=loads_batch)


# -- Confluent Schema Registry ------------------------------------------------------------

KEY_SCHEMA_ID_HEADER = "__key_schema_id"
VALUE_SCHEMA_ID_HEADER = "__value_schema_id"
_clients: dict[str, Any] = {}


def registry_client(url: str, config: dict[str, Any] | None = None) -> Any:
    """The (cached, one per URL) ``confluent_kafka.schema_registry`` client for ``url``;
    ``config`` comes from ``faust.transport.client_config.schema_registry_config``."""
    client = _clients.get(url)
    if client is None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        client = SchemaRegistryClient.new_client({**(config or {}), "url": url})
        _clients[url] = client
    return client


class ConfluentAvroCodec(Codec):
    """Confluent's wire format (magic byte, schema id, datum) via the Schema Registry."""

    name = "avro-confluent"

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def _dumps(self, obj: Any) -> bytes:
        raise TypeError("the avro-confluent codec is bound to a topic's key or value type")

    _loads = _dumps  # type: ignore[assignment]

    def dumps_record(self, record: Record) -> bytes:
        raise TypeError(
            "avro-confluent needs a topic to name the subject: send the record to a topic"
        )

    def bind(self, typ: Any, context: CodecContext) -> BoundCodec:
        url = self.url or (context.settings.schema_registry_url if context.settings else None)
        if not url:
            raise TypeError(
                "the avro-confluent codec needs the schema registry: set the App setting "
                "schema_registry_url (e.g. faust.App(..., schema_registry_url='http://...'))"
            )
        if context.topic is None:
            raise TypeError("the avro-confluent codec needs the topic name (subject)")
        from faust.transport.client_config import schema_registry_config

        config = schema_registry_config(context.settings, url) if context.settings else None
        return _ConfluentBinding(typ, context, registry_client(url, config)).bound()


class _ConfluentBinding:
    def __init__(self, typ: Any, context: CodecContext, client: Any) -> None:
        self.avro = avro_type(typ)
        installed = context.generated(typ)
        self.to_datum, self.from_datum = self.avro.converters(installed)
        self.write = self.avro.writer(installed)
        self.client = client
        self.subject = f"{context.topic}-{'key' if context.is_key else 'value'}"
        self.header = KEY_SCHEMA_ID_HEADER if context.is_key else VALUE_SCHEMA_ID_HEADER
        self.prefix: bytes | None = None
        #: schema id (int) or GUID (UUID) -> the datum reader for data written with it
        self.readers: dict[Any, Callable[..., Any]] = {}

    def _prefix(self) -> bytes:
        if self.prefix is None:
            from confluent_kafka.schema_registry import Schema

            schema_id = self.client.register_schema(
                self.subject, Schema(self.avro.schema_text, "AVRO")
            )
            self.prefix = struct.pack(">bI", 0, schema_id)
            self.readers[schema_id] = self.avro.read  # our own schema: no resolution
        return self.prefix

    def _reader(self, key: Any) -> Callable[..., Any]:
        """The datum reader for a writer schema id (int) or GUID (UUID), resolving the
        writer's schema against the Record's own when they differ."""
        found = self.readers.get(key)
        if found is not None:
            return found
        if isinstance(key, uuid.UUID):
            schema = self.client.get_schema_by_guid(str(key))
        else:
            schema = self.client.get_schema(key)
        writer_schema = json.loads(schema.schema_str)
        text = json.dumps(writer_schema, sort_keys=True, separators=(",", ":"))
        if text == self.avro.schema_text:
            reader = self.avro.read
        else:
            reader = datum_reader(writer_schema, self.avro.schema)
        self.readers[key] = reader
        return reader

    def dumps(self, value: Any) -> bytes:
        return self._prefix() + self.write(value)

    def loads(self, data: bytes, headers: Headers = None) -> Any:
        key: Any = None
        body = 0
        if headers:
            for name, header_value in headers:
                if name == self.header and header_value:
                    key = _schema_key(header_value)
                    break
        if key is None:
            if len(data) < 5:
                raise ValueError(f"{len(data)} bytes: too short for the Confluent wire format")
            magic = data[0]
            if magic == 0:
                key, body = struct.unpack_from(">I", data, 1)[0], 5
            elif magic == 1 and len(data) >= 17:
                key, body = uuid.UUID(bytes=data[1:17]), 17
            else:
                raise ValueError(
                    f"magic byte {magic} is not the Confluent wire format (0, or 1 with a GUID)"
                )
        return self.from_datum(self._reader(key)(data, body))

    def loads_batch(
        self,
        datas: Sequence[bytes],
        headers: Sequence[Headers] | None,
        fail: Callable[[Exception], Exception],
    ) -> list[Any]:
        values: list[Any] = []
        append = values.append
        loads = self.loads
        for index, data in enumerate(datas):
            try:
                append(loads(data, headers[index] if headers is not None else None))
            except Exception as exc:
                append(DecodeFailed(fail(exc)))
        return values

    def bound(self) -> BoundCodec:
        return BoundCodec(
            loads=self.loads, dumps=self.dumps, wants_headers=True, loads_batch=self.loads_batch
        )


def _schema_key(header_value: bytes) -> Any:
    if header_value[0] == 1 and len(header_value) >= 17:
        return uuid.UUID(bytes=header_value[1:17])
    if header_value[0] == 0 and len(header_value) >= 5:
        return struct.unpack_from(">I", header_value, 1)[0]
    raise ValueError(f"schema id header {header_value!r} is neither an id nor a GUID")


def register_codecs() -> None:
    """Make ``avro`` and ``avro-confluent`` known (done on first use of either name)."""
    codecs.codecs.setdefault("avro", AvroCodec())
    codecs.codecs.setdefault("avro-confluent", ConfluentAvroCodec())
