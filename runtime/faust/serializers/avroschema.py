"""The Avro schema of a Record: one mapping, for the runtime and the compiler alike.

The runtime describes a Record class it holds, ``faustc`` one it read from the source, in
the same terms: a :class:`SchemaRecord` of :class:`SchemaField` (each field's type a
``TypeNode``, its default, its descriptor's options), and a :class:`SchemaSource` that
describes the Records and Enums the fields name. :func:`record_schema` turns that into the
schema (JSON-ready), so a worker built by ``faustc`` and the reference runtime write the
same bytes, and ``faustc schema`` exports the schema the runtime uses. Example::

    record_schema(SchemaRecord("shop.Order", (SchemaField("id", TypeNode("str")),)), source)
    # {'type': 'record', 'name': 'Order', 'namespace': 'shop',
    #  'fields': [{'name': 'id', 'type': 'string'}]}

The mapping (``faust.serializers.avro`` documents it for users): ``str int float bool
bytes`` -> ``string long double boolean bytes``; ``Decimal`` -> ``bytes`` + ``decimal``
(precision and scale from ``DecimalField``); ``datetime`` -> ``long`` + ``timestamp-micros``
(or ``-millis``); ``date``/``UUID`` -> ``int`` + ``date``/``string`` + ``uuid``; an Enum -> an
``enum`` of its member names; ``Optional[T]`` -> ``["null", T]`` (``[T, "null"]`` when the
default is not None); lists, sets and tuples -> ``array``; ``dict[str, T]`` -> ``map``; a
Record -> a named ``record``, defined once and named after that.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Protocol

from faust.models.typeinfo import TypeNode

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


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: a field without a default (the field must be in every datum)
NO_DEFAULT: Any = _NoDefault()


@dataclasses.dataclass(frozen=True, slots=True)
class EnumSymbol:
    """An Enum member named by its member name, for a side that cannot import the Enum
    (the compiler reading ``Color.RED`` as a default)."""

    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class SchemaField:
    """One field of a Record, as its schema needs it: ``name`` is the name written (the
    output name), ``aliases`` the names it is read by besides, ``default`` the Python value
    of its default (``NO_DEFAULT``: none), the rest its descriptor's options."""

    name: str
    type: TypeNode
    where: str
    aliases: tuple[str, ...] = ()
    default: Any = NO_DEFAULT
    max_digits: int | None = None
    decimal_places: int | None = None
    precision: str = "micros"


@dataclasses.dataclass(frozen=True, slots=True)
class SchemaRecord:
    """A Record: its Avro full name (``namespace.Name``) and its fields, in order."""

    fullname: str
    fields: tuple[SchemaField, ...]


class SchemaSource(Protocol):
    """Describes the Records and Enums fields name (``TypeNode`` kinds ``record``/``enum``)."""

    def record(self, node: TypeNode) -> SchemaRecord: ...

    def enum(self, node: TypeNode) -> tuple[str, tuple[str, ...]]:
        """The Enum's Avro full name and its symbols (the member names)."""
        ...


def split_fullname(fullname: str) -> tuple[str, str | None]:
    """``"shop.Order"`` -> ``("Order", "shop")``."""
    namespace, _, name = fullname.rpartition(".")
    return name, namespace or None


def record_schema(record: SchemaRecord, source: SchemaSource) -> Any:
    """The Avro schema (JSON-ready) of ``record``; raises AvroSchemaError."""
    return _Builder(source).record(record)


def type_schema(node: TypeNode, source: SchemaSource, *, where: str) -> Any:
    """The Avro schema of a plain type (a Record type names the record)."""
    return _Builder(source).type(node, SchemaField(where, node, where))


def field_entry(field: SchemaField, source: SchemaSource) -> Any:
    """The entry of one field in its record's schema (raises AvroSchemaError naming why)."""
    return _Builder(source).field(field)


def avro_default(node: TypeNode, value: Any) -> Any:
    """A field default in Avro's JSON form, or ``NO_DEFAULT`` when it has none."""
    if value is None:
        return None if node.kind == "optional" else NO_DEFAULT
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
    return NO_DEFAULT


def _check_fullname(fullname: str, what: str) -> None:
    if not all(_NAME.match(part) for part in fullname.split(".")):
        raise AvroSchemaError(f"{what} name {fullname!r} is not a valid Avro name")


class _Builder:
    def __init__(self, source: SchemaSource) -> None:
        self.source = source
        self.defined: set[str] = set()

    def record(self, record: SchemaRecord) -> Any:
        if record.fullname in self.defined:
            return record.fullname
        _check_fullname(record.fullname, "record")
        self.defined.add(record.fullname)
        name, namespace = split_fullname(record.fullname)
        result: dict[str, Any] = {"type": "record", "name": name}
        if namespace:
            result["namespace"] = namespace
        result["fields"] = [self.field(field) for field in record.fields]
        return result

    def field(self, field: SchemaField) -> Any:
        if not _NAME.match(field.name):
            raise AvroSchemaError(f"{field.where}: {field.name!r} is not a valid Avro name")
        schema = self.type(field.type, field)
        entry: dict[str, Any] = {"name": field.name, "type": schema}
        default = NO_DEFAULT
        if field.default is not NO_DEFAULT:
            default = avro_default(field.type, field.default)
        if default is not NO_DEFAULT:
            if field.type.kind == "optional" and default is not None:
                entry["type"] = [schema[1], "null"]
            entry["default"] = default
        if field.aliases:
            entry["aliases"] = list(field.aliases)
        return entry

    def type(self, node: TypeNode, field: SchemaField, where: str | None = None) -> Any:
        where = where or field.where
        kind = node.kind
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind == "decimal":
            if field.max_digits is None or field.decimal_places is None:
                raise AvroSchemaError(
                    f"{where}: a Decimal needs DecimalField(max_digits=..., decimal_places=...) "
                    "to be written as Avro (precision and scale)"
                )
            return {
                "type": "bytes",
                "logicalType": "decimal",
                "precision": field.max_digits,
                "scale": field.decimal_places,
            }
        if kind == "datetime":
            return {"type": "long", "logicalType": f"timestamp-{field.precision}"}
        if kind == "date":
            return {"type": "int", "logicalType": "date"}
        if kind == "uuid":
            return {"type": "string", "logicalType": "uuid"}
        if kind == "enum":
            fullname, symbols = self.source.enum(node)
            if fullname in self.defined:
                return fullname
            _check_fullname(fullname, "enum")
            self.defined.add(fullname)
            name, namespace = split_fullname(fullname)
            result: dict[str, Any] = {"type": "enum", "name": name}
            if namespace:
                result["namespace"] = namespace
            result["symbols"] = list(symbols)
            return result
        if kind == "literal":
            kinds = {type(value) for value in node.py}
            if kinds == {str}:
                return "string"
            if kinds == {int}:
                return "long"
            raise AvroSchemaError(f"{where}: only Literal types of all str or all int are Avro")
        if kind == "optional":
            inner = self.type(node.args[0], field, where)
            if isinstance(inner, list):
                raise AvroSchemaError(f"{where}: nested optional types are not Avro")
            return ["null", inner]
        if kind in ("list", "set", "frozenset", "tuple"):
            return {"type": "array", "items": self.type(node.args[0], field, f"{where}[]")}
        if kind == "dict":
            if node.args[0].kind != "str":
                raise AvroSchemaError(
                    f"{where}: Avro maps have string keys; {node} has {node.args[0]} keys"
                )
            return {"type": "map", "values": self.type(node.args[1], field, f"{where}{{}}")}
        if kind == "record":
            return self.record(self.source.record(node))
        if kind == "unknown":
            raise AvroSchemaError(f"{where}: {node} is not defined in this module")
        if kind == "fixed_tuple":
            raise AvroSchemaError(f"{where}: a fixed-length tuple ({node}) is not Avro")
        if kind == "any":
            raise AvroSchemaError(f"{where}: a field typed Any has no Avro schema")
        raise AvroSchemaError(f"{where}: {node} has no Avro schema")
