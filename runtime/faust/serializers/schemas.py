"""Schemas: how a topic's keys and values become bytes and back, following Faust's rules.

``make_loader(type, serializer)`` returns one function ``bytes -> value`` chosen once, so the
per-message path does no lookups. The rules are Faust's:

- no serializer named and the type is ``str``/``bytes``: the ``raw`` codec;
- after decoding, ``int``/``float``/``Decimal``/``str``/``bytes`` types are coerced from the
  payload, a Record type is built with ``from_data``, and no type at all means "a dict with
  Faust metadata becomes its Record, anything else stays as decoded".

Example::

    >>> loads = make_loader(str, "json")
    >>> loads(b'"hello"')
    'hello'
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from faust.exceptions import KeyDecodeError, ValueDecodeError
from faust.models.record import Record, maybe_model
from faust.serializers import codecs

Loader = Callable[[bytes | None], Any]
Dumper = Callable[[Any], bytes | None]


def choose_serializer(typ: Any, *candidates: str | codecs.Codec | None) -> str | codecs.Codec:
    """The first serializer named, else ``raw`` for str/bytes types (Faust's rule)."""
    for candidate in candidates:
        if candidate:
            return candidate
    return "raw"


def _want_str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _want_bytes(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def make_payload_converter(typ: Any) -> Callable[[Any], Any]:
    """What turns a decoded payload into a value of ``typ``."""
    if typ is None:
        return maybe_model
    if typ is str:
        return _want_str
    if typ is bytes:
        return _want_bytes
    if typ is int:
        return lambda value: int(_want_str(value)) if isinstance(value, bytes) else int(value)
    if typ is float:
        return lambda value: float(_want_str(value)) if isinstance(value, bytes) else float(value)
    if typ is decimal.Decimal:
        return lambda value: decimal.Decimal(_want_str(value))
    if isinstance(typ, type) and issubclass(typ, Record):
        return typ.from_data
    return lambda value: value


def make_loader(typ: Any, serializer: str | codecs.Codec, *, is_key: bool = False) -> Loader:
    """A function decoding one key (``is_key``) or value of type ``typ``."""
    codec = codecs.get_codec(serializer)
    convert = make_payload_converter(typ)
    error = KeyDecodeError if is_key else ValueDecodeError
    is_model = isinstance(typ, type) and issubclass(typ, Record)
    what = "key" if is_key else "value"
    codec_loads = codec.loads

    def loads(data: bytes | None) -> Any:
        if data is None:
            if is_model:
                raise error(f"expected a {typ.__name__} {what}, got no {what} (null)")
            return None
        try:
            return convert(codec_loads(data))
        except Exception as exc:
            kind = getattr(typ, "__name__", "value")
            raise error(
                f"cannot decode {what} as {kind} with the {codec.name} codec: {exc}"
            ) from exc

    return loads


def make_dumper(typ: Any, serializer: str | codecs.Codec) -> Dumper:
    """A function encoding one key or value; bytes pass through, None stays None."""
    codec = codecs.get_codec(serializer)
    codec_dumps = codec.dumps

    def dumps(value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes):
            return value
        if isinstance(value, Record):
            return codecs.dumps(value._options.serializer or codec, value.to_representation())
        return codec_dumps(value)

    return dumps


class Schema:
    """Key and value types plus their serializers (``faust.Schema``).

    Serializers left as None are filled from the App defaults when a topic binds the schema.
    """

    def __init__(
        self,
        *,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: str | codecs.Codec | None = None,
        value_serializer: str | codecs.Codec | None = None,
    ) -> None:
        self.key_type = key_type
        self.value_type = value_type
        self.key_serializer = key_serializer
        self.value_serializer = value_serializer

    def resolved(self, default_key: str, default_value: str) -> Schema:
        """A copy whose serializers are chosen (Faust's rules), given the App defaults."""
        key_model = _model_serializer(self.key_type)
        value_model = _model_serializer(self.value_type)
        return Schema(
            key_type=self.key_type,
            value_type=self.value_type,
            key_serializer=choose_serializer(
                self.key_type, self.key_serializer, key_model, default_key
            ),
            value_serializer=choose_serializer(
                self.value_type, self.value_serializer, value_model, default_value
            ),
        )

    def key_loader(self) -> Loader:
        return make_loader(self.key_type, self.key_serializer or "raw", is_key=True)

    def value_loader(self) -> Loader:
        return make_loader(self.value_type, self.value_serializer or "json")

    def key_dumper(self) -> Dumper:
        return make_dumper(self.key_type, self.key_serializer or "raw")

    def value_dumper(self) -> Dumper:
        return make_dumper(self.value_type, self.value_serializer or "json")

    def loads_key(self, data: bytes | None) -> Any:
        return self.key_loader()(data)

    def loads_value(self, data: bytes | None) -> Any:
        return self.value_loader()(data)

    def dumps_key(self, key: Any) -> bytes | None:
        return self.key_dumper()(key)

    def dumps_value(self, value: Any) -> bytes | None:
        return self.value_dumper()(value)


def _model_serializer(typ: Any) -> str | None:
    if isinstance(typ, type) and issubclass(typ, Record):
        return typ._options.serializer
    return None
