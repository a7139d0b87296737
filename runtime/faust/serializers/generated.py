"""The seam between compiled workers and the runtime: codecs the compiler generated.

A built worker defines, for every Record its topics carry, straight-line encode/decode
functions, and installs them for its app when it is imported (``app.codecs``,
``faust.serializers.registry``: another app of the process keeps its own)::

    install(app, {
        Order: GeneratedCodecs(
            json_loads=decode_order_json,       # JSON bytes -> Order
            json_dumps=encode_order_json,       # Order -> JSON bytes
            to_avro=_avro_datum_order,          # Order -> the dict fastavro writes
            from_avro=_avro_record_order,       # the dict fastavro read -> Order
            avro_dumps=encode_order_avro,       # Order -> Avro bytes, written straight
            avro_loads=decode_order_avro,       # Avro bytes -> Order, read straight
            avro_schema='{"fields":[...],...}', # the schema those two write and read
            avro_view=view_order_avro,          # Avro bytes -> the fields, for views
        ),
    })

(the Avro ones only for Records on ``avro``/``avro-confluent`` topics; fastavro turns
datums into bytes and back, ``faust.serializers.avro``; ``avro_dumps``/``avro_loads`` only
for Records whose schema has primitive fields alone). From then on the app's topics'
loaders and dumpers, and its tables' codecs, use them for that exact class (a subclass
instance still takes the generic path). ``suspended(app)`` turns them off for a block, for
one app (``suspended()``: every app), which is how a test runs the reference runtime in
the process that imported a built worker (``faust.testing.AppDriver``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from faust.app import App


@dataclasses.dataclass(frozen=True, slots=True)
class GeneratedCodecs:
    """One Record's generated functions (None: that format is not generated)."""

    json_loads: Callable[[bytes], Any] | None = None
    json_dumps: Callable[[Any], bytes] | None = None
    #: JSON bytes -> an object with the Record's fields as attributes (cheaper than the
    #: Record), for code that only reads fields (``Topic.value_loader(fields_only=True)``)
    json_view: Callable[[bytes], Any] | None = None
    to_avro: Callable[[Any], dict[str, Any]] | None = None
    from_avro: Callable[[dict[str, Any]], Any] | None = None
    #: Record -> the bytes of its Avro datum, written straight; used only while the
    #: Record's Avro schema is exactly ``avro_schema`` (canonical JSON: sorted keys, no
    #: spaces), the schema the compiler wrote it for
    avro_dumps: Callable[[Any], bytes] | None = None
    #: the bytes of a datum of ``avro_schema`` -> Record, read straight
    avro_loads: Callable[[bytes], Any] | None = None
    avro_schema: str | None = None
    #: the bytes of a datum of ``avro_schema`` -> an object with the Record's fields as
    #: attributes, read straight (as ``json_view``, used where ``avro_loads`` is)
    avro_view: Callable[[bytes], Any] | None = None


class Fallback(Exception):
    """Raised inside a generated decoder: this message takes the generic path."""


def blessed(model: type, metadata: Any) -> bool:
    """Does the ``__faust`` metadata (raw JSON) name a subclass the generic path would use?"""
    from faust.models.record import Record, registry

    try:
        named = registry.get(orjson.loads(bytes(metadata)).get("ns", ""))
    except Exception:
        return False
    if named is None or named is model or not issubclass(named, model):
        return False
    assert issubclass(named, Record)
    return bool(named._options.allow_blessed_key or named._options.polymorphic_fields)


#: apps that installed generated codecs (their topics rebuild their dumpers on a change)
_apps: weakref.WeakSet[App] = weakref.WeakSet()
_suspended = 0


def install(app: App, codecs: Mapping[type, GeneratedCodecs]) -> None:
    """Use ``codecs`` for ``app``'s topics and tables from now on (``app.codecs``); its
    topics rebuild their dumpers. Another app of the process is not affected."""
    app.codecs.install(codecs)
    _apps.add(app)
    _refresh(app)


def is_suspended() -> bool:
    """Is a :func:`suspended` block in force (every codec built now is the generic one)?"""
    return _suspended > 0


@contextlib.contextmanager
def suspended(app: App | None = None) -> Iterator[None]:
    """Within the block, every loader/dumper built takes the generic (reference) path:
    for ``app`` alone when given, else for every app of the process (how tests run the
    reference runtime beside a compiled worker)."""
    global _suspended
    if app is not None:
        app.codecs.suspended += 1
        _refresh(app)
        try:
            yield
        finally:
            app.codecs.suspended -= 1
            _refresh(app)
        return
    _suspended += 1
    _refresh_all()
    try:
        yield
    finally:
        _suspended -= 1
        _refresh_all()


def _refresh(app: App) -> None:
    for topic in app.topics:
        topic.refresh_codecs()


def _refresh_all() -> None:
    for app in list(_apps):
        _refresh(app)
