"""Schemas: how a topic's keys and values become bytes and back, following Faust's rules.

``make_loader(type, serializer)`` returns one function ``(bytes, headers=None) -> value``
chosen once, so the per-message path does no lookups. The rules are Faust's:

- no serializer named: keys ``raw``, values ``json`` (the App defaults), unless the Record
  names its own ``serializer``;
- after decoding, ``int``/``float``/``Decimal``/``str``/``bytes`` types are coerced from the
  payload, a Record type is built with ``from_data``, and no type at all means "a dict with
  Faust metadata becomes its Record, anything else stays as decoded";
- a codec that needs the type (Avro) is bound to it once (:meth:`Codec.bind`); a Record
  with compiler-generated codecs (``faust.serializers.generated``) uses those, when the
  loader is made for the app that installed them (``CodecContext.registry``: a topic's
  loaders are; ``app.codecs``).

Every failure is a :class:`~faust.exceptions.KeyDecodeError` /
:class:`~faust.exceptions.ValueDecodeError` naming the Record and what was wrong; the
worker adds topic, partition and offset. Example::

    >>> loads = make_loader(str, "json")
    >>> loads(b'"hello"')
    'hello'

``make_batch_loader`` decodes the keys or values of a whole consumer batch in one call:
one entry per message, the value or a :class:`DecodeFailed` holding the error
``make_loader`` would have raised for that message (so each bad message meets the error
policy with its own topic, partition and offset, and its neighbours decode as usual)::

    load_values = make_batch_loader(Order, "avro")
    for message, value in zip(batch, load_values(batch)):
        if type(value) is DecodeFailed:
            policy.handle(value.error, message, ...)
"""

from __future__ import annotations

import dataclasses
import decimal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from faust.exceptions import DecodeError, KeyDecodeError, ValueDecodeError
from faust.models.fields import FieldDescriptor
from faust.models.record import Record, maybe_model
from faust.serializers import codecs
from faust.serializers.codecs import BoundCodec, CodecContext, DecodeFailed, Headers

if TYPE_CHECKING:
    from faust.events import TransportMessage
    from faust.serializers.registry import CodecRegistry
    from faust.settings import Settings

__all__ = [
    "BatchLoader",
    "DecodeFailed",
    "Dumper",
    "KeysCheck",
    "Loader",
    "Schema",
    "make_batch_loader",
    "make_dumper",
    "make_keys_check",
    "make_loader",
]


class Loader(Protocol):
    """``loads(data, headers=None) -> value``; ``wants_headers`` when headers matter."""

    def __call__(self, data: bytes | None, headers: Headers = None, /) -> Any: ...


Dumper = Callable[[Any], bytes | None]
#: ``bytes -> key or value`` without headers (see :func:`make_decoder`)
Loader1 = Callable[[bytes | None], Any]
#: ``load_batch(messages) -> [value or DecodeFailed, ...]`` (see the module docstring)
BatchLoader = Callable[[Sequence["TransportMessage"]], list[Any]]


def choose_serializer(typ: Any, *candidates: str | codecs.Codec | None) -> str | codecs.Codec:
    """The first serializer named, else ``raw`` (Faust's rule)."""
    for candidate in candidates:
        if candidate:
            return candidate
    return "raw"


def _want_str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _want_bytes(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def is_record_type(typ: Any) -> bool:
    return isinstance(typ, type) and issubclass(typ, Record)


def type_name(typ: Any) -> str:
    if is_record_type(typ):
        return str(typ._options.namespace)
    return str(getattr(typ, "__name__", "value"))


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
    if is_record_type(typ):
        from_data = typ.from_data
        return lambda value: from_data(value, preferred_type=typ)
    return lambda value: value


def _bound_for(
    typ: Any, codec: codecs.Codec, context: CodecContext, *, fields_only: bool = False
) -> tuple[BoundCodec | None, str]:
    """The specialised codec for ``typ`` (generated, or the codec's own), and its origin.

    ``fields_only``: the caller only reads the Record's fields, so a generated "view" (an
    object with the same attributes, cheaper to make) may stand in for the Record."""
    if is_record_type(typ) and codec is context.get_codec("json"):
        installed = context.generated(typ)
        if installed is not None and installed.json_loads and installed.json_dumps:
            loads = installed.json_view if fields_only and installed.json_view else None
            made = BoundCodec(loads or installed.json_loads, installed.json_dumps, generated=True)
            return made, "generated"
    bound = codec.bind(typ, context)
    if fields_only and bound is not None and bound.generated:
        installed = context.generated(typ)
        if (
            installed is not None
            and installed.avro_view is not None
            and bound.loads is installed.avro_loads
        ):
            bound = dataclasses.replace(bound, loads=installed.avro_view)
    return bound, "bound" if bound is not None else "generic"


def make_loader(
    typ: Any,
    serializer: str | codecs.Codec,
    *,
    is_key: bool = False,
    context: CodecContext | None = None,
    fields_only: bool = False,
) -> Loader:
    """A function decoding one key (``is_key``) or value of type ``typ``.

    ``fields_only``: the caller reads nothing of a Record but its fields (``value.amount``),
    so the loader may return an object with the Record's field values as attributes instead
    of the Record (a compiled worker's msgspec struct: no Record to build). Decoding fails
    exactly when it fails for the Record."""
    return _make_loader(typ, serializer, is_key=is_key, context=context, fields_only=fields_only)[0]


#: ``failed(exc, data) -> the exception to raise``, see :func:`make_decoder`
Failed = Callable[[Exception, "bytes | None"], Exception]


def make_decoder(
    typ: Any,
    serializer: str | codecs.Codec,
    *,
    is_key: bool = False,
    context: CodecContext | None = None,
    fields_only: bool = False,
) -> tuple[Callable[[bytes | None], Any], Failed]:
    """``(decode, failed)``: what :func:`make_loader` does, in two halves for code that
    has its own ``try`` (a compiled loop). ``decode(data)`` is the fastest function that
    decodes one key or value (the compiler's generated decoder itself, when there is one,
    without the loader's wrapping frame) and may raise anything; ``failed(exc, data)`` is
    the error the loader would have raised instead. Example::

        decode_value, value_failed = make_decoder(Order, "json")
        try:
            value = decode_value(data)
        except Exception as exc:
            raise value_failed(exc, data) from exc
    """
    loader, bound, _ = _make_loader(
        typ, serializer, is_key=is_key, context=context, fields_only=fields_only
    )
    if bound is not None and bound.generated:
        failed: Failed = loader.failed  # type: ignore[attr-defined]  # set by _make_loader
        return bound.loads, failed

    def passed_on(exc: Exception, data: bytes | None) -> Exception:
        return exc  # the loader raised the DecodeError itself

    return loader, passed_on


def _make_loader(
    typ: Any,
    serializer: str | codecs.Codec,
    *,
    is_key: bool,
    context: CodecContext | None,
    fields_only: bool = False,
) -> tuple[Loader, BoundCodec | None, Callable[[Exception], DecodeError]]:
    """The loader, the bound codec it uses (if any), and ``fail(exc) -> DecodeError``."""
    context = context or CodecContext(is_key=is_key)
    codec = context.get_codec(serializer)
    error = KeyDecodeError if is_key else ValueDecodeError
    what = "key" if is_key else "value"
    kind = type_name(typ)
    prefix = f"cannot decode {what} as {kind} with the {codec.name} codec"
    is_model = is_record_type(typ)
    bound, _ = _bound_for(typ, codec, context, fields_only=fields_only)
    record = kind if is_model else None

    def fail(exc: Exception) -> DecodeError:
        failure = error(f"{prefix}: {exc}", record=record)
        failure.__cause__ = exc
        return failure

    if bound is not None and bound.generated:
        generated_loads = bound.loads

        def failed(exc: Exception, data: bytes | None) -> Exception:
            if data is None:
                return error(f"expected a {kind} {what}, got no {what} (null)", record=record)
            return fail(exc)

        def loads_generated(data: bytes | None, headers: Headers = None) -> Any:
            # the compiler's decoder, called straight; None and errors are decided only
            # when it raised (it raises for None: msgspec takes bytes only)
            try:
                return generated_loads(data)
            except Exception as exc:
                raise failed(exc, data) from (None if data is None else exc)

        loads_generated.wants_headers = False  # type: ignore[attr-defined]
        loads_generated.failed = failed  # type: ignore[attr-defined]  # see make_decoder
        return loads_generated, bound, fail

    if bound is not None:
        bound_loads = bound.loads
        takes_headers = bound.wants_headers

        def loads_bound(data: bytes | None, headers: Headers = None) -> Any:
            if data is None:
                if is_model:
                    raise error(f"expected a {kind} {what}, got no {what} (null)", record=record)
                return None
            try:
                if takes_headers:
                    return bound_loads(data, headers)
                return bound_loads(data)
            except Exception as exc:
                raise fail(exc) from exc

        loads_bound.wants_headers = takes_headers  # type: ignore[attr-defined]
        return loads_bound, bound, fail

    if typ is str and type(codec) is codecs.RawCodec:
        # the common key: UTF-8 text (what _want_str(RawCodec.loads(data)) does, in one call)
        def loads_utf8(data: bytes | None, headers: Headers = None) -> Any:
            try:
                return data.decode()  # type: ignore[union-attr]  # None: handled below
            except UnicodeDecodeError as exc:
                raise fail(exc) from exc
            except AttributeError:
                if data is None:
                    return None
            try:
                return _want_str(data)
            except Exception as exc:
                raise fail(exc) from exc

        loads_utf8.wants_headers = False  # type: ignore[attr-defined]
        return loads_utf8, None, fail

    convert = make_payload_converter(typ)
    codec_loads = codec.loads

    def loads(data: bytes | None, headers: Headers = None) -> Any:
        if data is None:
            if is_model:
                raise error(f"expected a {kind} {what}, got no {what} (null)", record=record)
            return None
        try:
            return convert(codec_loads(data))
        except Exception as exc:
            raise fail(exc) from exc

    loads.wants_headers = False  # type: ignore[attr-defined]
    return loads, None, fail


def make_batch_loader(
    typ: Any,
    serializer: str | codecs.Codec,
    *,
    is_key: bool = False,
    context: CodecContext | None = None,
) -> BatchLoader:
    """A function decoding the keys (``is_key``) or values of a batch of messages.

    ``load_batch(messages)`` returns one entry per message: what :func:`make_loader`'s
    function returns for it, or a :class:`DecodeFailed` whose ``error`` is what it raises.
    A codec that can decode many payloads in one call (``BoundCodec.loads_batch``; Avro
    does) gets the whole batch; the rest are decoded one by one in the same call. Message
    headers are read only when the codec wants them (avro-confluent's header form).

    Pass chunks of a few dozen messages, not a whole consumer batch: thousands of decoded
    Records alive at once cost more in cyclic GC passes and cache misses than the batch
    call saves (measured on the compiled avro_orders worker: whole 4,000-message batches
    ran at ~0.55x the per-message loop, chunks of 64 at parity; see the README).
    """
    loads, bound, fail = _make_loader(typ, serializer, is_key=is_key, context=context)
    wants_headers: bool = getattr(loads, "wants_headers", False)
    many = bound.loads_batch if bound is not None else None
    if many is None and bound is not None and not wants_headers:
        many = _one_by_one(bound.loads)

    def load_batch(messages: Sequence[TransportMessage]) -> list[Any]:
        datas = [m.key() for m in messages] if is_key else [m.value() for m in messages]
        if many is not None and None not in datas:
            headers = [m.headers() for m in messages] if wants_headers else None
            return many(datas, headers, fail)
        values: list[Any] = []
        append = values.append
        for message, data in zip(messages, datas, strict=True):
            try:
                append(loads(data, message.headers() if wants_headers else None))
            except DecodeError as exc:
                append(DecodeFailed(exc))
        return values

    return load_batch


#: ``check(messages) -> bool``: True when the key of every message decodes
KeysCheck = Callable[[Sequence["TransportMessage"]], bool]


def make_keys_check(
    typ: Any, serializer: str | codecs.Codec, *, context: CodecContext | None = None
) -> KeysCheck:
    """For code that never reads the keys but must not let one that does not decode pass
    (it meets the error policy, as in Faust): ``check(batch)`` is True when every key of
    the batch decodes, found in one pass at C speed; False when some key may not, and then
    the caller decodes each key with its loader, which raises for the bad one.

    Text keys on a raw topic (``key_type=str``, the usual) are checked exactly: the keys
    joined by NUL bytes are UTF-8 exactly when each key is (a NUL can neither complete nor
    start a multi-byte sequence). For other types the check always says "decode each".
    """
    codec = (context or CodecContext()).get_codec(serializer)
    if typ is str and type(codec) is codecs.RawCodec:
        return _keys_are_utf8
    return _decode_each


def _keys_are_utf8(messages: Sequence[TransportMessage]) -> bool:
    keys = [message.key() for message in messages]
    try:
        joined = b"\0".join(keys)  # type: ignore[arg-type]  # None: handled below
    except TypeError:  # messages without a key (they decode to None)
        present = [key for key in keys if key is not None]
        if not all(isinstance(key, bytes) for key in present):
            return False
        joined = b"\0".join(present)
    if joined.isascii():
        return True
    try:
        joined.decode()
    except UnicodeDecodeError:
        return False
    return True


def _decode_each(messages: Sequence[TransportMessage]) -> bool:
    return False


def _one_by_one(bound_loads: Callable[..., Any]) -> Callable[..., list[Any]]:
    """``loads_batch`` for a bound codec that decodes one payload at a time."""

    def loads_batch(
        datas: Sequence[bytes], headers: Any, fail: Callable[[Exception], Exception]
    ) -> list[Any]:
        values: list[Any] = []
        append = values.append
        for data in datas:
            try:
                append(bound_loads(data))
            except Exception as exc:
                append(DecodeFailed(fail(exc)))
        return values

    return loads_batch


def make_dumper(
    typ: Any, serializer: str | codecs.Codec, *, context: CodecContext | None = None
) -> Dumper:
    """A function encoding one key or value; bytes pass through, None stays None."""
    context = context or CodecContext()
    codec = context.get_codec(serializer)
    codec_dumps = codec.dumps
    get_codec = context.get_codec
    bound = None
    if is_record_type(typ):
        try:
            bound, _ = _bound_for(typ, codec, context)
        except TypeError:
            bound = None  # e.g. avro-confluent without a registry: fails on first send
    bound_dumps = bound.dumps if bound is not None else None

    def dumps(value: Any) -> bytes | None:
        if value is None:
            return None
        if bound_dumps is not None and type(value) is typ:
            return bound_dumps(value)
        if isinstance(value, bytes):
            return value
        if isinstance(value, Record):
            own = value._options.serializer
            return get_codec(own or codec).dumps_record(value)
        return codec_dumps(value)

    # The common cases first, in one call: the topic's own Record type with a bound
    # codec (a compiled worker's generated encoder), and text on a raw topic.
    if bound_dumps is not None:
        dumps_bound = bound_dumps

        def dumps_record_type(value: Any) -> bytes | None:
            if type(value) is typ:
                return dumps_bound(value)
            return dumps(value)

        return dumps_record_type
    if writes_str_as_utf8(codec):

        def dumps_text(value: Any) -> bytes | None:
            if type(value) is str:
                return value.encode()
            return dumps(value)

        return dumps_text
    if type(codec) is codecs.JSONCodec:
        # a value of a plain JSON type (a table's list or count, a text key) is written by
        # json_dumps itself, as the codec's dumps would write it, without four frames
        json_dumps, plain = codecs.json_dumps, PLAIN_JSON_TYPES

        def dumps_json(value: Any) -> bytes | None:
            if type(value) in plain:
                return json_dumps(value)
            return dumps(value)

        return dumps_json
    return dumps


def writes_str_as_utf8(codec: codecs.Codec) -> bool:
    """Does a dumper on ``codec`` write a value of type ``str`` (exactly) as its UTF-8,
    ``value.encode()``? The raw codec's does (``make_dumper``'s ``dumps_text``); a compiled
    loop asks once (``Topic.key_dumper_is_text``) and encodes such keys itself."""
    return type(codec) is codecs.RawCodec


#: the types a JSON dumper hands to ``json_dumps`` at once (what ``dumps`` would do too:
#: none of them is None, bytes or a Record)
PLAIN_JSON_TYPES = frozenset({str, int, float, bool, list, dict, tuple})


#: ``decode(message)``: a key or value of a consumed message (``Schema.field_decoder``)
MessageDecode = Callable[["TransportMessage"], Any]
#: ``failed(exc, message)``: the loader's error for what ``decode(message)`` raised
MessageFailed = Callable[[Exception, "TransportMessage"], Exception]

_KEY_FIELD_VIEWS: dict[tuple[type, str], Callable[[str], Any]] = {}


def _key_field_view(record: type, name: str) -> Callable[[str], Any]:
    """A struct type with ``record``'s one field ``name`` (built from the field's value)."""
    view = _KEY_FIELD_VIEWS.get((record, name))
    if view is None:
        view = _KEY_FIELD_VIEWS[(record, name)] = msgspec.defstruct(
            f"{record.__name__}KeyView", [(name, str)], frozen=True
        )
    return view


class Schema:
    """Key and value types plus their serializers (``faust.Schema``).

    Serializers left as None are filled from the App defaults when a topic binds the schema.
    ``loads_key/loads_value/dumps_key/dumps_value`` encode one key or value.
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
        #: where the schema is used (set by the topic that binds it)
        self.topic: str | None = None
        self.settings: Settings | None = None
        self.registry: CodecRegistry | None = None

    def resolved(
        self,
        default_key: str,
        default_value: str,
        *,
        topic: str | None = None,
        settings: Settings | None = None,
        registry: CodecRegistry | None = None,
    ) -> Schema:
        """A copy whose serializers are chosen (Faust's rules), given the App defaults;
        its codecs come from ``registry`` (the app's: ``faust.serializers.registry``)."""
        key_model = _model_serializer(self.key_type)
        value_model = _model_serializer(self.value_type)
        schema = Schema(
            key_type=self.key_type,
            value_type=self.value_type,
            key_serializer=choose_serializer(
                self.key_type, self.key_serializer, key_model, default_key
            ),
            value_serializer=choose_serializer(
                self.value_type, self.value_serializer, value_model, default_value
            ),
        )
        schema.topic = topic
        schema.settings = settings
        schema.registry = registry
        return schema

    def _context(self, is_key: bool) -> CodecContext:
        return CodecContext(
            topic=self.topic, is_key=is_key, settings=self.settings, registry=self.registry
        )

    def key_loader(self) -> Loader:
        return make_loader(
            self.key_type,
            self.key_serializer or "raw",
            is_key=True,
            context=self._context(True),
        )

    def value_loader(self, *, fields_only: bool = False) -> Loader:
        return make_loader(
            self.value_type,
            self.value_serializer or "json",
            context=self._context(False),
            fields_only=fields_only,
        )

    def value_decoder(self, *, fields_only: bool = False) -> tuple[Loader1, Failed]:
        return make_decoder(
            self.value_type,
            self.value_serializer or "json",
            context=self._context(False),
            fields_only=fields_only,
        )

    def field_decoder(self, name: str) -> tuple[MessageDecode, MessageFailed]:
        """``(decode, failed)`` for the stage after ``group_by(Record.<name>)`` whose code
        reads only that field: ``decode(message)`` is a struct with the field ``name``,
        read from the message's key when this topic's keys are the field's text (a str
        key on the raw codec, a Record value whose field is a str: what the group_by
        wrote), else the value's view (``value_decoder(fields_only=True)``); ``failed(exc,
        message)`` is the error the key's or the value's loader would have raised.
        Example::

            decode, failed = topic.field_decoder("product_id")
            try:
                value = decode(message)   # value.product_id
            except Exception as exc:
                raise failed(exc, message) from exc
        """
        if self.key_field_is_text(name):
            view = _key_field_view(self.value_type, name)
            kind = type_name(self.value_type)
            prefix = f"cannot decode key as str with the {codecs.RawCodec.name} codec"

            def from_key(message: TransportMessage) -> Any:
                return view(message.key().decode())  # type: ignore[union-attr]

            def key_failed(exc: Exception, message: TransportMessage) -> Exception:
                if message.key() is None:
                    return KeyDecodeError(f"expected a {kind}.{name} key, got no key (null)")
                failure = KeyDecodeError(f"{prefix}: {exc}")
                failure.__cause__ = exc
                return failure

            return from_key, key_failed
        decode_value, value_failed = self.value_decoder(fields_only=True)

        def from_value(message: TransportMessage) -> Any:
            return decode_value(message.value())

        def failed(exc: Exception, message: TransportMessage) -> Exception:
            return value_failed(exc, message.value())

        return from_value, failed

    def key_field_is_text(self, name: str) -> bool:
        """Are this topic's keys the UTF-8 text of its Record values' str field ``name``
        (what ``group_by(Record.<name>)`` writes)? Then a key decodes to the field's value."""
        if self.key_type is not str or not is_record_type(self.value_type):
            return False
        codec = self._context(True).get_codec(self.key_serializer or "raw")
        if type(codec) is not codecs.RawCodec:
            return False
        descriptor = getattr(self.value_type, name, None)
        return (
            isinstance(descriptor, FieldDescriptor)
            and descriptor.type is str
            and descriptor.required  # a default may be None: a record without a key
        )

    def keys_check(self) -> KeysCheck:
        return make_keys_check(
            self.key_type, self.key_serializer or "raw", context=self._context(True)
        )

    def key_batch_loader(self) -> BatchLoader:
        return make_batch_loader(
            self.key_type,
            self.key_serializer or "raw",
            is_key=True,
            context=self._context(True),
        )

    def value_batch_loader(self) -> BatchLoader:
        return make_batch_loader(
            self.value_type, self.value_serializer or "json", context=self._context(False)
        )

    def key_dumper(self) -> Dumper:
        return make_dumper(self.key_type, self.key_serializer or "raw", context=self._context(True))

    def key_dumper_is_text(self) -> bool:
        """Does :meth:`key_dumper` write a key of type ``str`` (exactly) as ``key.encode()``
        (``writes_str_as_utf8``: the raw codec, the usual for ``key_type=str``)?"""
        return writes_str_as_utf8(self._context(True).get_codec(self.key_serializer or "raw"))

    def value_dumper(self) -> Dumper:
        return make_dumper(
            self.value_type, self.value_serializer or "json", context=self._context(False)
        )

    def loads_key(self, data: bytes | None, headers: Headers = None) -> Any:
        return self.key_loader()(data, headers)

    def loads_value(self, data: bytes | None, headers: Headers = None) -> Any:
        return self.value_loader()(data, headers)

    def dumps_key(self, key: Any) -> bytes | None:
        return self.key_dumper()(key)

    def dumps_value(self, value: Any) -> bytes | None:
        return self.value_dumper()(value)


def _model_serializer(typ: Any) -> str | None:
    if is_record_type(typ):
        serializer: str | None = typ._options.serializer
        return serializer
    return None
