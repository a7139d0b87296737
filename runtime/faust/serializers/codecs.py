"""Codecs: named transformations between Python objects and bytes, as in Faust.

A codec is looked up by name; new ones are registered with :func:`register` (for every app
of the process, as in Faust) or ``app.codecs.register`` (for one app:
``faust.serializers.registry``); ``|`` chains them (``json | binary`` is JSON, then
base64). Example::

    >>> from faust.serializers import codecs
    >>> codecs.dumps("json", {"word": "hi"})
    b'{"word":"hi"}'
    >>> codecs.loads("json|binary", codecs.dumps("json|binary", [1]))
    [1]

Built in: ``json`` (orjson; Faust's wire format), ``raw`` (bytes as they are), ``binary``
(base64), ``avro`` (a schemaless Avro datum, fastavro) and ``avro-confluent`` (the
Confluent Schema Registry wire format), both in ``faust.serializers.avro``. ``pickle`` is
available only by name and logs a warning: unpickling runs code chosen by whoever wrote the
message.

A custom codec subclasses :class:`Codec` and implements ``_dumps``/``_loads``::

    class Upper(faust.Codec):
        def _dumps(self, obj): return str(obj).upper().encode()
        def _loads(self, data): return data.decode()

    codecs.register("upper", Upper())

Codecs that need a value's type (Avro needs the Record's schema) implement
:meth:`Codec.bind`, which returns a :class:`BoundCodec` for one type on one topic.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import logging
import pickle as _pickle
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from faust.models.record import Record
    from faust.serializers.generated import GeneratedCodecs
    from faust.serializers.registry import CodecRegistry
    from faust.settings import Settings

log = logging.getLogger("faust.serializers")

#: message headers as confluent-kafka gives them
Headers = Sequence[tuple[str, bytes | None]] | None


@dataclasses.dataclass(frozen=True, slots=True)
class CodecContext:
    """Where a bound codec is used: the topic, key or value, the app's settings and its
    codecs (``faust.serializers.registry``; None: the process-wide codecs alone)."""

    topic: str | None = None
    is_key: bool = False
    settings: Settings | None = None
    registry: CodecRegistry | None = None

    def get_codec(self, name_or_codec: str | Codec) -> Codec:
        """The codec ``name_or_codec`` names for the app (or the process)."""
        if self.registry is not None:
            return self.registry.get(name_or_codec)
        return get_codec(name_or_codec)

    def generated(self, typ: Any) -> GeneratedCodecs | None:
        """The app's generated codecs for exactly ``typ`` (None without an app)."""
        return self.registry.generated(typ) if self.registry is not None else None


class DecodeFailed:
    """In a batch of decoded values, the place of one that did not decode.

    ``error`` is the exception (a :class:`~faust.exceptions.DecodeError` once the schema
    layer has named the type), for the error policy of that message alone.
    """

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"<DecodeFailed: {self.error}>"


@dataclasses.dataclass(frozen=True, slots=True)
class BoundCodec:
    """A codec specialised for one type: ``loads(data, headers)`` and ``dumps(value)``.

    ``wants_headers`` tells callers that ``loads`` reads the message headers (the
    Confluent header form carries the schema id there). ``loads_batch(datas, headers,
    fail)``, when given, decodes many payloads in one call: one entry per payload, the
    value or ``DecodeFailed(fail(exc))``; it never raises for a bad payload, so one bad
    message does not fail its neighbours (``headers`` is one list per payload, or None
    when the codec does not want them).
    """

    loads: Callable[..., Any]
    dumps: Callable[[Any], bytes]
    wants_headers: bool = False
    loads_batch: Callable[..., list[Any]] | None = None
    #: ``loads`` is a compiled worker's generated function: it reads no headers and
    #: raises for None, so loaders call it without checking first
    generated: bool = False


class Codec:
    """Base class of codecs: override ``_dumps`` and ``_loads``."""

    name: str = "codec"

    def dumps(self, obj: Any) -> bytes:
        return self._dumps(obj)

    def loads(self, data: bytes) -> Any:
        return self._loads(data)

    def _dumps(self, obj: Any) -> bytes:
        raise NotImplementedError

    def _loads(self, data: bytes) -> Any:
        raise NotImplementedError

    def dumps_record(self, record: Record) -> bytes:
        """Encode a Record (its JSON-ready :meth:`~faust.Record.to_representation`)."""
        return self.dumps(record.to_representation())

    def loads_record(self, cls: type[Record], data: bytes) -> Record:
        """Decode one ``cls`` (``Record.loads``): through the codec bound to ``cls`` when
        this codec needs the type (Avro reads by the Record's schema), else its payload
        made into the Record."""
        bound = self.bind(cls, CodecContext())
        if bound is not None:
            record: Record = bound.loads(data)
            return record
        return cls.from_data(self.loads(data))

    def bind(self, typ: Any, context: CodecContext) -> BoundCodec | None:
        """A codec specialised for ``typ``, or None when this codec is type-agnostic."""
        return None

    def __or__(self, other: Codec) -> Codec:
        return _Chain((self, other))

    def __repr__(self) -> str:
        return f"<codec {self.name}>"


class _Chain(Codec):
    """``a | b``: encode with ``a`` then ``b``; decode in reverse."""

    parts: tuple[Codec, ...]

    def __init__(self, parts: tuple[Codec, ...]) -> None:
        flat: list[Codec] = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, _Chain) else (part,))
        self.parts = tuple(flat)
        self.name = "|".join(part.name for part in self.parts)

    def dumps(self, obj: Any) -> bytes:
        for part in self.parts:
            obj = part.dumps(obj)
        result: bytes = obj
        return result

    def loads(self, data: bytes) -> Any:
        value: Any = data
        for part in reversed(self.parts):
            value = part.loads(value)
        return value


def _json_default(obj: Any) -> Any:
    """Encode what orjson does not know natively, the way Faust's JSON encoder does."""
    to_representation = getattr(obj, "to_representation", None)
    if to_representation is not None:
        return to_representation()
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime.datetime):
        text = obj.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(obj, datetime.date):
        return f"{obj.isoformat()}T00:00:00"
    if isinstance(obj, uuid.UUID):
        return str(obj)
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


#: datetimes go through _json_default (Faust's isoformat form); str keys of int etc. allowed
#: what orjson calls for values it does not encode natively (compiled encoders pass it)
json_default = _json_default

JSON_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
)


def json_dumps(obj: Any) -> bytes:
    """Encode ``obj`` as compact JSON bytes."""
    return orjson.dumps(obj, default=_json_default, option=JSON_OPTIONS)


json_loads = orjson.loads


class JSONCodec(Codec):
    """JSON, as Faust writes it."""

    name = "json"

    def _dumps(self, obj: Any) -> bytes:
        return json_dumps(obj)

    def _loads(self, data: bytes) -> Any:
        return json_loads(data)


class RawCodec(Codec):
    """Bytes in, bytes out; ``str`` is encoded as UTF-8."""

    name = "raw"

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, str):
            return obj.encode("utf-8")
        if isinstance(obj, bytes):
            return obj
        raise TypeError(f"the raw codec carries bytes or str, not {type(obj).__name__}")

    def _loads(self, data: bytes) -> Any:
        return data

    def dumps_record(self, record: Record) -> bytes:
        raise TypeError(
            f"the raw codec carries bytes or str, not a {type(record).__name__} record: "
            "give the Record or the topic a serializer (json, avro, ...)"
        )


class BinaryCodec(Codec):
    """Base64: bytes in, base64 bytes out (usually chained: ``json|binary``)."""

    name = "binary"

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, str):
            obj = obj.encode("utf-8")
        return base64.b64encode(obj)

    def _loads(self, data: bytes) -> Any:
        return base64.b64decode(data)


class PickleCodec(Codec):
    """Python pickle. Only by name, and never for data you do not trust."""

    name = "pickle"

    def _dumps(self, obj: Any) -> bytes:
        return _pickle.dumps(obj)

    def _loads(self, data: bytes) -> Any:
        return _pickle.loads(data)

    def dumps_record(self, record: Record) -> bytes:
        return self.dumps(record)


codecs: dict[str, Codec] = {
    "json": JSONCodec(),
    "raw": RawCodec(),
    "binary": BinaryCodec(),
}

#: codecs that exist only when asked for by name, each with a warning
_ON_REQUEST: dict[str, Callable[[], Codec]] = {"pickle": PickleCodec}
_LAZY = ("avro", "avro-confluent")


def register(name: str, codec: Codec) -> None:
    """Make ``codec`` available under ``name`` (``value_serializer=name``) to every app of
    the process, as in Faust (``app.codecs.register`` registers for one app only)."""
    codecs[name] = codec


def known_names() -> set[str]:
    """Every codec name :func:`get_codec` knows (registered, or built in and loaded on
    first use)."""
    return {*codecs, *_ON_REQUEST, *_LAZY}


def _load_builtin(name: str) -> Codec | None:
    if name in _ON_REQUEST:
        log.warning(
            "using the %r codec: decoding runs code chosen by whoever wrote the message; "
            "use it only for data you produce yourself",
            name,
        )
        codec = _ON_REQUEST[name]()
        codecs[name] = codec
        return codec
    if name in _LAZY:
        from faust.serializers import avro  # imports fastavro only when Avro is used

        avro.register_codecs()
        return codecs.get(name)
    return None


def get_codec(name_or_codec: str | Codec) -> Codec:
    """The codec registered as ``name_or_codec``; ``"a|b"`` chains; a Codec is returned."""
    if isinstance(name_or_codec, Codec):
        return name_or_codec
    found = codecs.get(name_or_codec)
    if found is not None:
        return found
    if "|" in name_or_codec:
        parts = [get_codec(part.strip()) for part in name_or_codec.split("|")]
        chain = parts[0]
        for part in parts[1:]:
            chain = chain | part
        return chain
    loaded = _load_builtin(name_or_codec)
    if loaded is not None:
        return loaded
    known = ", ".join(sorted(known_names()))
    raise KeyError(f"unknown serializer {name_or_codec!r} (known: {known})") from None


def codec_name(name_or_codec: str | Codec) -> str:
    return name_or_codec if isinstance(name_or_codec, str) else name_or_codec.name


def dumps(codec: str | Codec, obj: Any) -> bytes:
    """Encode ``obj`` with the named codec."""
    return get_codec(codec).dumps(obj)


def loads(codec: str | Codec, data: bytes) -> Any:
    """Decode ``data`` with the named codec."""
    return get_codec(codec).loads(data)
