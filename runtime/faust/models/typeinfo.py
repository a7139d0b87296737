"""Field types of Records: what an annotation means for decoding, encoding and validation.

:func:`describe` turns a type hint into a :class:`TypeNode` tree once per field; the
converters below are built from that tree once per class, so decoding a message walks no
type hints. Example::

    >>> node = describe(list[datetime.datetime])
    >>> str(node)
    'list[datetime]'
    >>> json_decoder(node)(["2024-05-01T12:30:00Z"])
    [datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)]

The JSON forms are Faust's: datetimes as ISO-8601 (UTC written with ``Z``), dates as
Faust writes them (``2024-05-01T00:00:00``), Decimals and UUIDs as strings, Enums by value,
sets and tuples as arrays. ``bytes`` travel as base64 (Faust itself cannot write them).
Decoding is strict: a value of the wrong JSON type is a :class:`ConversionError` naming what
was expected and what came, so a bad message never becomes a Record holding a string
where mypy promises a float. The helper functions (``parse_datetime`` ...) are also what the
compiler's generated codecs call, so both paths agree to the byte.
"""

from __future__ import annotations

import base64
import binascii
import collections.abc
import dataclasses
import datetime
import decimal
import enum
import re
import types
import typing
import uuid
from collections.abc import Callable
from typing import Any

Converter = Callable[[Any], Any]

SCALAR_KINDS = ("str", "int", "float", "bool", "bytes")
#: kinds whose JSON form needs a conversion (done by helpers, in both codec paths)
CONVERTED_KINDS = ("bytes", "decimal", "datetime", "date", "uuid", "enum")


class ConversionError(ValueError):
    """A payload value does not fit the field's type; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class TypeNode:
    """One level of a field type: the one type tree of the runtime and the compiler.

    ``kind`` is one of ``str int float bool bytes decimal datetime date uuid enum literal
    optional list set frozenset tuple fixed_tuple dict record any unsupported``, and, in
    trees ``faustc`` builds from the source, ``unknown`` (a name the module does not define)
    and ``none``; ``args`` are the element types; ``py`` is the Enum or Record class (its
    name, in the compiler's trees), the literal values, or the unsupported hint itself (its
    text).
    """

    kind: str
    args: tuple[TypeNode, ...] = ()
    py: Any = None

    @property
    def name(self) -> str:
        """The Enum's or Record's name (the hint's text for ``unknown``/``unsupported``)."""
        return self.py if isinstance(self.py, str) else str(getattr(self.py, "__name__", self.py))

    def __str__(self) -> str:
        if self.kind in ("enum", "record", "unknown"):
            return self.name
        if self.kind == "literal":
            return f"Literal[{', '.join(repr(v) for v in self.py)}]"
        if self.kind == "optional":
            return f"Optional[{self.args[0]}]"
        if self.kind == "fixed_tuple":
            return f"tuple[{', '.join(str(a) for a in self.args)}]"
        if self.kind == "tuple":
            return f"tuple[{self.args[0]}, ...]"
        if self.args:
            return f"{self.kind}[{', '.join(str(a) for a in self.args)}]"
        if self.kind == "unsupported":
            return str(self.py)
        return self.kind


ANY = TypeNode("any")

_SIMPLE: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    bytes: "bytes",
    decimal.Decimal: "decimal",
    datetime.datetime: "datetime",
    datetime.date: "date",
    uuid.UUID: "uuid",
}
_LISTS = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_SETS = (set, collections.abc.Set, collections.abc.MutableSet)
_DICTS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def describe(hint: Any) -> TypeNode:
    """The TypeNode for a resolved type hint (``Optional[list[Order]]`` ...)."""
    from faust.models.record import Record

    if hint is Any or hint is object:
        return ANY
    simple = _SIMPLE.get(hint)
    if simple is not None:
        return TypeNode(simple, py=hint)
    if isinstance(hint, type):
        if issubclass(hint, Record):
            return TypeNode("record", py=hint)
        if issubclass(hint, enum.Enum):
            return TypeNode("enum", py=hint)
        if hint in _LISTS:
            return TypeNode("list", (ANY,))
        if hint in _SETS:
            return TypeNode("set", (ANY,))
        if hint is frozenset:
            return TypeNode("frozenset", (ANY,))
        if hint is tuple:
            return TypeNode("tuple", (ANY,))
        if hint in _DICTS:
            return TypeNode("dict", (ANY, ANY))
        return TypeNode("unsupported", py=hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            return TypeNode("optional", (describe(rest[0]),))
        return TypeNode("unsupported", py=hint)
    if origin is typing.Literal:
        return TypeNode("literal", py=tuple(args))
    if origin in _LISTS:
        return TypeNode("list", (describe(args[0]) if args else ANY,))
    if origin in _SETS:
        return TypeNode("set", (describe(args[0]) if args else ANY,))
    if origin is frozenset:
        return TypeNode("frozenset", (describe(args[0]) if args else ANY,))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return TypeNode("tuple", (describe(args[0]),))
        if not args:
            return TypeNode("tuple", (ANY,))
        return TypeNode("fixed_tuple", tuple(describe(arg) for arg in args))
    if origin in _DICTS:
        key, value = (describe(args[0]), describe(args[1])) if args else (ANY, ANY)
        return TypeNode("dict", (key, value))
    return TypeNode("unsupported", py=hint)


def unsupported_parts(node: TypeNode) -> list[str]:
    """Human descriptions of every part of ``node`` no codec can carry."""
    found: list[str] = []
    if node.kind == "unsupported":
        found.append(f"{node.py!r} is not a supported field type")
    if node.kind == "dict" and node.args[0].kind not in ("str", "int", "uuid", "enum", "any"):
        found.append(f"dict keys of type {node.args[0]} cannot be JSON object keys")
    for arg in node.args:
        found.extend(unsupported_parts(arg))
    return found


# -- helpers shared by the generic path and the generated codecs ----------------------------

_DATETIME_TEXT = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?([Zz]|[+-]\d\d(:?\d\d)?)?\Z"
)
_DATE_TEXT = re.compile(r"\d{4}-\d\d-\d\d\Z")


def _got(value: Any) -> str:
    return type(value).__name__


def parse_datetime(value: Any) -> datetime.datetime:
    """An ISO-8601 / RFC 3339 string (or a datetime) as a datetime; a JSON number is kept
    as it is, as Faust keeps it (``date=int(time())`` written by a Faust app)."""
    if isinstance(value, datetime.datetime):
        return value
    if type(value) is int or type(value) is float:
        return value  # type: ignore[return-value]
    if type(value) is not str:
        raise ConversionError(f"expected an ISO-8601 datetime string, got {_got(value)}")
    if not _DATETIME_TEXT.match(value):
        raise ConversionError(f"expected an ISO-8601 datetime, got {value[:40]!r}")
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConversionError(f"invalid datetime {value[:40]!r}: {exc}") from None


def parse_date(value: Any) -> datetime.date:
    """``2024-05-01``, or Faust's ``2024-05-01T00:00:00``, as a date."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if type(value) is int or type(value) is float:
        return value  # type: ignore[return-value]  # as Faust keeps it (parse_datetime)
    if type(value) is not str:
        raise ConversionError(f"expected an ISO-8601 date string, got {_got(value)}")
    if _DATE_TEXT.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ConversionError(f"invalid date {value!r}: {exc}") from None
    return parse_datetime(value).date()


def parse_decimal(value: Any) -> decimal.Decimal:
    """A decimal string or JSON number as a finite Decimal."""
    if isinstance(value, decimal.Decimal):
        result = value
    elif type(value) is str:
        try:
            result = decimal.Decimal(value)
        except decimal.InvalidOperation:
            raise ConversionError(f"invalid decimal {value[:40]!r}") from None
    elif type(value) is int or type(value) is float:
        result = decimal.Decimal(str(value))
    else:
        raise ConversionError(f"expected a decimal string, got {_got(value)}")
    if not result.is_finite():
        raise ConversionError(f"expected a finite decimal, got {value!r}")
    return result


def parse_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if type(value) is not str:
        raise ConversionError(f"expected a UUID string, got {_got(value)}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ConversionError(f"invalid UUID {value[:40]!r}") from None


def parse_bytes(value: Any) -> bytes:
    """Base64 text (how bytes travel in JSON) as bytes."""
    if isinstance(value, bytes):
        return value
    if type(value) is not str:
        raise ConversionError(f"expected base64 text, got {_got(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConversionError(f"invalid base64 {value[:40]!r}") from None


def enum_parser(enum_type: type[enum.Enum]) -> Converter:
    """``value -> member`` (by value; the JSON type must match the members' values)."""
    by_value = {(type(member.value), member.value): member for member in enum_type}

    def parse(value: Any) -> Any:
        if isinstance(value, enum_type):
            return value
        try:
            return by_value[(type(value), value)]
        except (KeyError, TypeError):
            raise ConversionError(
                f"{value!r} is not a value of {enum_type.__name__}"
                f" ({', '.join(repr(m.value) for m in enum_type)})"
            ) from None

    return parse


def format_datetime(value: datetime.datetime) -> str:
    """Faust's form: ``isoformat()``, with UTC written as ``Z``. A field holding anything
    else (a number: ``date=int(time())``) is written as it is, as Faust's JSON encoder
    writes what it was given."""
    try:
        text = value.isoformat()
    except AttributeError:
        return value  # type: ignore[return-value]
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def format_date(value: datetime.date) -> str:
    """Faust writes a date as the datetime at its midnight (anything else as it is, see
    :func:`format_datetime`)."""
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if not isinstance(value, datetime.date):
        return value
    return f"{value.isoformat()}T00:00:00"


def format_bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def timezone_converter(timezone: datetime.tzinfo | None) -> Callable[[Any], Any]:
    """What ``DatetimeField(timezone=tz)`` does to a decoded datetime."""
    if timezone is None:
        return lambda value: value

    def convert(value: datetime.datetime) -> datetime.datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone)
        return value.astimezone(timezone)

    return convert


# -- JSON payload -> Python values ----------------------------------------------------------


def _expect(type_: type, name: str) -> Converter:
    def check(value: Any) -> Any:
        if type(value) is not type_:
            raise ConversionError(f"expected {name}, got {_got(value)}")
        return value

    return check


def _float(value: Any) -> float:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float(value)
    raise ConversionError(f"expected float, got {_got(value)}")


def _json_key_decoder(node: TypeNode) -> Converter:
    if node.kind in ("str", "any"):
        return _expect(str, "str") if node.kind == "str" else (lambda key: key)
    if node.kind == "int":

        def int_key(key: Any) -> int:
            if type(key) is int:
                return key
            if type(key) is str and re.fullmatch(r"-?(0|[1-9][0-9]*)", key):
                return int(key)
            raise ConversionError(f"expected an integer key, got {key!r}")

        return int_key
    if node.kind == "uuid":
        return parse_uuid
    if node.kind == "enum":
        parse = enum_parser(node.py)
        value_types = {type(member.value) for member in node.py}

        def enum_key(key: Any) -> Any:
            if int in value_types and type(key) is str and re.fullmatch(r"-?[0-9]+", key):
                key = int(key)
            return parse(key)

        return enum_key
    raise ConversionError(f"dict keys of type {node} are not supported")


def json_decoder(node: TypeNode, *, timezone: datetime.tzinfo | None = None) -> Converter:
    """A strict ``JSON payload value -> Python value`` function for ``node``."""
    kind = node.kind
    if kind == "str":
        return _expect(str, "str")
    if kind == "int":
        return _expect(int, "int")
    if kind == "bool":
        return _expect(bool, "bool")
    if kind == "float":
        return _float
    if kind == "bytes":
        return parse_bytes
    if kind == "decimal":
        return parse_decimal
    if kind == "datetime":
        if timezone is None:
            return parse_datetime
        to_zone = timezone_converter(timezone)
        return lambda value: to_zone(parse_datetime(value))
    if kind == "date":
        return parse_date
    if kind == "uuid":
        return parse_uuid
    if kind == "enum":
        return enum_parser(node.py)
    if kind == "literal":
        allowed = {(type(v), v) for v in node.py}

        def literal(value: Any) -> Any:
            if (type(value), value) not in allowed:
                raise ConversionError(f"expected one of {', '.join(map(repr, node.py))}")
            return value

        return literal
    if kind == "optional":
        inner = json_decoder(node.args[0], timezone=timezone)
        return lambda value: None if value is None else inner(value)
    if kind in ("list", "set", "frozenset", "tuple"):
        item = json_decoder(node.args[0], timezone=timezone)
        build: Callable[[Any], Any] = {
            "list": list,
            "set": set,
            "frozenset": frozenset,
            "tuple": tuple,
        }[kind]

        def sequence(value: Any) -> Any:
            if type(value) is not list and not isinstance(value, list | tuple | set | frozenset):
                raise ConversionError(f"expected an array, got {_got(value)}")
            return build([item(element) for element in value])

        return sequence
    if kind == "fixed_tuple":
        items = [json_decoder(arg, timezone=timezone) for arg in node.args]

        def fixed(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise ConversionError(f"expected an array, got {_got(value)}")
            if len(value) != len(items):
                raise ConversionError(f"expected {len(items)} items, got {len(value)}")
            return tuple(convert(element) for convert, element in zip(items, value, strict=True))

        return fixed
    if kind == "dict":
        key = _json_key_decoder(node.args[0])
        val = json_decoder(node.args[1], timezone=timezone)

        def mapping(value: Any) -> Any:
            if not isinstance(value, dict):
                raise ConversionError(f"expected an object, got {_got(value)}")
            return {key(k): val(v) for k, v in value.items()}

        return mapping
    if kind == "record":
        model = node.py
        decode_payload = model._decode_payload  # (bound once: class attributes cost)

        def nested(value: Any) -> Any:
            if isinstance(value, model):
                return value
            if not isinstance(value, dict):
                raise ConversionError(f"expected an object for {model.__name__}, got {_got(value)}")
            return decode_payload(value, nested=True)

        return nested
    if kind == "any":
        return lambda value: value
    raise ConversionError(f"unsupported field type {node}")


# -- Python values -> JSON payload ----------------------------------------------------------


def _json_key_encoder(node: TypeNode) -> Converter:
    if node.kind == "str" or node.kind == "any":
        return lambda key: key
    if node.kind == "int":
        return str
    if node.kind == "uuid":
        return str
    if node.kind == "enum":
        return lambda key: str(key.value)
    raise TypeError(f"dict keys of type {node} are not supported")


def json_encoder(node: TypeNode) -> Converter | None:
    """``Python value -> JSON-ready value`` for ``node`` (None: the value is JSON already)."""
    kind = node.kind
    if kind in ("str", "int", "float", "bool", "literal", "any"):
        return None
    if kind == "bytes":
        return format_bytes
    if kind == "decimal":
        return str
    if kind == "datetime":
        return format_datetime
    if kind == "date":
        return format_date
    if kind == "uuid":
        return str
    if kind == "enum":
        return lambda value: value.value
    if kind == "optional":
        inner = json_encoder(node.args[0])
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if kind in ("list", "set", "frozenset", "tuple"):
        item = json_encoder(node.args[0])
        if item is None:
            return list if kind != "list" else None
        return lambda value: [item(element) for element in value]
    if kind == "fixed_tuple":
        items = [json_encoder(arg) or (lambda v: v) for arg in node.args]
        return lambda value: [
            convert(element) for convert, element in zip(items, value, strict=True)
        ]
    if kind == "dict":
        key = _json_key_encoder(node.args[0])
        val = json_encoder(node.args[1]) or (lambda v: v)
        return lambda value: {key(k): val(v) for k, v in value.items()}
    if kind == "record":
        return lambda value: value.to_representation()
    raise TypeError(f"unsupported field type {node}")


# -- checking values (validation) -----------------------------------------------------------


def type_checker(node: TypeNode) -> Callable[[Any], bool]:
    """``value -> bool``: does ``value`` have the annotated type (shallow for containers)?"""
    kind = node.kind
    if kind == "any" or kind == "unsupported":
        return lambda value: True
    if kind == "float":
        return lambda value: type(value) is not bool and isinstance(value, float | int)
    if kind == "int":
        return lambda value: type(value) is not bool and isinstance(value, int)
    if kind == "datetime":
        return lambda value: isinstance(value, datetime.datetime)
    if kind == "date":
        return lambda value: (
            isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
        )
    if kind == "literal":
        allowed = {(type(v), v) for v in node.py}
        return lambda value: (type(value), value) in allowed
    if kind == "optional":
        inner = type_checker(node.args[0])
        return lambda value: value is None or inner(value)
    if kind in ("list", "set", "frozenset", "tuple", "fixed_tuple", "dict"):
        container = {
            "list": list,
            "set": set,
            "frozenset": frozenset,
            "tuple": tuple,
            "fixed_tuple": tuple,
            "dict": dict,
        }[kind]
        return lambda value: isinstance(value, container)
    if kind in ("str", "bool", "bytes", "decimal", "uuid", "enum", "record"):
        py = node.py
        return lambda value: isinstance(value, py)
    return lambda value: True


# -- lenient coercion (``coerce=True``) ----------------------------------------------------


def coercer(node: TypeNode) -> Converter:
    """``value -> value of the annotated type`` where a conversion makes sense, else as is."""
    kind = node.kind
    decode = json_decoder(node) if kind != "unsupported" else (lambda v: v)
    if kind == "int":
        return lambda v: int(v) if isinstance(v, str | float) and type(v) is not bool else v
    if kind == "float":
        return lambda v: float(v) if isinstance(v, str | int) and type(v) is not bool else v
    if kind == "str":
        return lambda v: v if isinstance(v, str) else str(v)
    if kind == "bytes":
        return lambda v: v.encode("utf-8") if isinstance(v, str) else v
    if kind == "optional":
        inner = coercer(node.args[0])
        return lambda v: None if v is None else inner(v)
    check = type_checker(node)

    def coerce(value: Any) -> Any:
        if check(value) and kind not in ("list", "set", "frozenset", "tuple", "dict"):
            return value
        try:
            return decode(value)
        except ConversionError:
            return value

    return coerce
