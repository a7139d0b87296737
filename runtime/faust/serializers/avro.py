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
"""

from __future__ import annotations

import io
import json
import re
import struct
import uuid
from collections.abc import Callable
from typing import Any

import fastavro

from faust.models.fields import MISSING as _MISSING
from faust.models.record import Record
from faust.models.typeinfo import TypeNode, describe, timezone_converter
from faust.serializers import codecs
from faust.serializers.codecs import BoundCodec, Codec, CodecContext, Headers

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_PRIMITIVES = {
    "str": "string",
    "int": "long",
    "float": "double",
    "bool": "boolean",
    "bytes": "bytes",
}


class AvroSchemaError(TypeError):
    """A type Avro cannot represent (the message names the field and why)."""


def split_fullname(fullname: str) -> tuple[str, str | None]:
    """``"shop.Order"`` -> ``("Order", "shop")``."""
    namespace, _, name = fullname.rpartition(".")
    return name, namespace or None


def record_fullname(model: type[Record]) -> str:
    return model._options.namespace


def enum_fullname(enum_type: type) -> str:
    from faust.models.record import canonical_module_name

    return f"{canonical_module_name(enum_type.__module__)}.{enum_type.__name__}"


def _check_fullname(fullname: str, what: str) -> None:
    if not all(_NAME.match(part) for part in fullname.split(".")):
        raise AvroSchemaError(f"{what} name {fullname!r} is not a valid Avro name")


def avro_schema(typ: Any) -> Any:
    """The Avro schema (JSON-ready) for a Record class or a plain type."""
    return _AvroSchemaBuilder().type_schema(describe(typ), where=getattr(typ, "__name__", "value"))


class _AvroSchemaBuilder:
    def __init__(self) -> None:
        self.defined: set[str] = set()

    def record_schema(self, model: type[Record]) -> Any:
        fullname = record_fullname(model)
        if fullname in self.defined:
            return fullname
        _check_fullname(fullname, "record")
        self.defined.add(fullname)
        name, namespace = split_fullname(fullname)
        fields = []
        for field in model._plan().fields:
            descriptor = field.descriptor
            if descriptor.exclude:
                continue
            where = f"{model.__name__}.{field.name}"
            if not _NAME.match(field.output_name):
                raise AvroSchemaError(f"{where}: {field.output_name!r} is not a valid Avro name")
            schema = self.type_schema(field.node, where=where, descriptor=descriptor)
            entry: dict[str, Any] = {"name": field.output_name, "type": schema}
            if descriptor.default_factory is None and descriptor.default is not _MISSING:
                default = avro_default(field.node, descriptor.default)
                if default is not _NO_DEFAULT:
                    if field.node.kind == "optional" and default is not None:
                        entry["type"] = [schema[1], "null"]
                    entry["default"] = default
            if field.input_name != field.output_name:
                entry["aliases"] = [field.input_name]
            fields.append(entry)
        result: dict[str, Any] = {"type": "record", "name": name}
        if namespace:
            result["namespace"] = namespace
        result["fields"] = fields
        return result

    def type_schema(self, node: TypeNode, *, where: str, descriptor: Any = None) -> Any:
        kind = node.kind
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind == "decimal":
            precision = getattr(descriptor, "max_digits", None)
            scale = getattr(descriptor, "decimal_places", None)
            if precision is None or scale is None:
                raise AvroSchemaError(
                    f"{where}: a Decimal needs DecimalField(max_digits=..., decimal_places=...) "
                    "to be written as Avro (precision and scale)"
                )
            return {
                "type": "bytes",
                "logicalType": "decimal",
                "precision": precision,
                "scale": scale,
            }
        if kind == "datetime":
            precision = getattr(descriptor, "precision", "micros")
            return {"type": "long", "logicalType": f"timestamp-{precision}"}
        if kind == "date":
            return {"type": "int", "logicalType": "date"}
        if kind == "uuid":
            return {"type": "string", "logicalType": "uuid"}
        if kind == "enum":
            fullname = enum_fullname(node.py)
            if fullname in self.defined:
                return fullname
            _check_fullname(fullname, "enum")
            self.defined.add(fullname)
            name, namespace = split_fullname(fullname)
            symbols = [member.name for member in node.py]
            result: dict[str, Any] = {"type": "enum", "name": name}
            if namespace:
                result["namespace"] = namespace
            result["symbols"] = symbols
            return result
        if kind == "literal":
            kinds = {type(value) for value in node.py}
            if kinds == {str}:
                return "string"
            if kinds == {int}:
                return "long"
            raise AvroSchemaError(f"{where}: only Literal types of all str or all int are Avro")
        if kind == "optional":
            inner = self.type_schema(node.args[0], where=where, descriptor=descriptor)
            if isinstance(inner, list):
                raise AvroSchemaError(f"{where}: nested optional types are not Avro")
            return ["null", inner]
        if kind in ("list", "set", "frozenset", "tuple"):
            items = self.type_schema(node.args[0], where=f"{where}[]", descriptor=descriptor)
            return {"type": "array", "items": items}
        if kind == "dict":
            if node.args[0].kind != "str":
                raise AvroSchemaError(
                    f"{where}: Avro maps have string keys; {node} has {node.args[0]} keys"
                )
            values = self.type_schema(node.args[1], where=f"{where}{{}}", descriptor=descriptor)
            return {"type": "map", "values": values}
        if kind == "record":
            return self.record_schema(node.py)
        if kind == "fixed_tuple":
            raise AvroSchemaError(f"{where}: a fixed-length tuple ({node}) is not Avro")
        if kind == "any":
            raise AvroSchemaError(f"{where}: a field typed Any has no Avro schema")
        raise AvroSchemaError(f"{where}: {node} has no Avro schema")


class _NoDefault:
    pass


_NO_DEFAULT: Any = _NoDefault()


def avro_default(node: TypeNode, value: Any) -> Any:
    """A field default in Avro's JSON form, or ``_NO_DEFAULT`` when it has none."""
    if value is None:
        return None if node.kind == "optional" else _NO_DEFAULT
    if node.kind == "optional":
        return avro_default(node.args[0], value)
    if node.kind in ("str", "bool") and isinstance(value, str | bool):
        return value
    if node.kind == "int" and type(value) is int:
        return value
    if node.kind == "float" and type(value) in (int, float):
        return float(value)
    if node.kind == "enum":
        return value.name
    if node.kind == "literal" and isinstance(value, str | int):
        return value
    return _NO_DEFAULT


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
        steps.append((field.name, field.output_name, descriptor, step))
    validate = model._options.validation

    def convert(datum: dict[str, Any]) -> Record:
        values = {}
        for name, output, descriptor, step in steps:
            if descriptor.exclude or output not in datum:
                values[name] = descriptor.make_default()
                continue
            value = datum[output]
            values[name] = value if step is None else step(value)
        record = object.__new__(model)
        object.__setattr__(record, "__dict__", values)
        if validate:
            record.validate_or_raise()
        return record

    _from_datum_cache[model] = convert
    return convert


def parse(schema: Any) -> Any:
    """fastavro's parsed form of ``schema`` (its own name table, so schemas never clash)."""
    return fastavro.parse_schema(schema, named_schemas={})


class _TypeAvro:
    """Everything the Avro codecs need for one type: schema, parsed schema, converters."""

    def __init__(self, typ: Any) -> None:
        from faust.serializers import generated

        self.typ = typ
        self.schema = avro_schema(typ)
        self.schema_text = json.dumps(self.schema, sort_keys=True, separators=(",", ":"))
        self.parsed = parse(self.schema)
        is_model = isinstance(typ, type) and issubclass(typ, Record)
        installed = generated.lookup(typ) if is_model else None
        self.to_datum: Callable[[Any], Any]
        self.from_datum: Callable[[Any], Any]
        if installed is not None and installed.to_avro and installed.from_avro:
            self.to_datum = installed.to_avro
            self.from_datum = installed.from_avro
        elif is_model:
            self.to_datum = record_to_datum(typ)
            self.from_datum = record_from_datum(typ)
        else:
            node = describe(typ)
            self.to_datum = to_datum(node) or _identity
            self.from_datum = from_datum(node) or _identity

    def write(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, self.parsed, self.to_datum(value))
        return buffer.getvalue()


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
        return _TypeAvro(type(record)).write(record)

    def bind(self, typ: Any, context: CodecContext) -> BoundCodec:
        avro = _TypeAvro(typ)
        parsed, from_datum, reader = avro.parsed, avro.from_datum, fastavro.schemaless_reader
        bytes_io = io.BytesIO

        def loads(data: bytes, headers: Headers = None) -> Any:
            return from_datum(reader(bytes_io(data), parsed, None))

        return BoundCodec(loads=loads, dumps=avro.write)


# -- Confluent Schema Registry ------------------------------------------------------------

KEY_SCHEMA_ID_HEADER = "__key_schema_id"
VALUE_SCHEMA_ID_HEADER = "__value_schema_id"
_clients: dict[str, Any] = {}


def registry_client(url: str, config: dict[str, Any] | None = None) -> Any:
    """The (cached, one per URL) ``confluent_kafka.schema_registry`` client for ``url``."""
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
        config = context.settings.schema_registry_config if context.settings else {}
        return _ConfluentBinding(typ, context, registry_client(url, config)).bound()


class _ConfluentBinding:
    def __init__(self, typ: Any, context: CodecContext, client: Any) -> None:
        self.avro = _TypeAvro(typ)
        self.client = client
        self.subject = f"{context.topic}-{'key' if context.is_key else 'value'}"
        self.header = KEY_SCHEMA_ID_HEADER if context.is_key else VALUE_SCHEMA_ID_HEADER
        self.prefix: bytes | None = None
        self.writers: dict[Any, Any] = {}

    def _prefix(self) -> bytes:
        if self.prefix is None:
            from confluent_kafka.schema_registry import Schema

            schema_id = self.client.register_schema(
                self.subject, Schema(self.avro.schema_text, "AVRO")
            )
            self.prefix = struct.pack(">bI", 0, schema_id)
            self.writers[schema_id] = None  # our own schema: no resolution needed
        return self.prefix

    def _writer_schema(self, key: Any) -> Any:
        """The parsed writer schema for a schema id (int) or GUID (UUID); None = ours."""
        if key in self.writers:
            return self.writers[key]
        if isinstance(key, uuid.UUID):
            schema = self.client.get_schema_by_guid(str(key))
        else:
            schema = self.client.get_schema(key)
        text = json.dumps(json.loads(schema.schema_str), sort_keys=True, separators=(",", ":"))
        parsed = None if text == self.avro.schema_text else parse(json.loads(schema.schema_str))
        self.writers[key] = parsed
        return parsed

    def dumps(self, value: Any) -> bytes:
        return self._prefix() + self.avro.write(value)

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
        writer = self._writer_schema(key)
        buffer = io.BytesIO(data)
        buffer.seek(body)
        if writer is None:
            datum = fastavro.schemaless_reader(buffer, self.avro.parsed, None)
        else:
            datum = fastavro.schemaless_reader(buffer, writer, self.avro.parsed)
        return self.avro.from_datum(datum)

    def bound(self) -> BoundCodec:
        return BoundCodec(loads=self.loads, dumps=self.dumps, wants_headers=True)


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
