"""The surface a built worker may use: every runtime name generated code imports is here.

``faustc build`` writes workers that import from this module and from nothing else of the
runtime (``tests/test_contract.py`` reads every generated worker to check it), so what a
compiled worker depends on is this list, and a change to it is a change of
:data:`SURFACE_VERSION`: a worker calls :func:`require_surface` with the version it was
built for, and a runtime that offers another one refuses it in one line. Methods generated
code calls on the objects it is handed (``app.sender()``, ``topic.value_decoder()``,
``stream.batches()``, ``table.in_place()`` ...) are those objects' own API. Example::

    from faust.compiled import Stream, require_surface, run_worker_cli
    require_surface(1)

The groups: streams and agents (the fused loops), tables (the loop's direct access to a
partition's store, :func:`table_access`), Records (what a codec asks of a Record class),
JSON codecs, Avro codecs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from faust.events import Event, Message, set_current_event, set_current_message
from faust.models.fields import FieldDescriptor
from faust.models.record import Record
from faust.models.typeinfo import (
    enum_parser,
    format_bytes,
    format_date,
    format_datetime,
    parse_bytes,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_uuid,
    timezone_converter,
)
from faust.serializers.avro.binary import SHORT_LENGTHS as AVRO_SHORT_LENGTHS
from faust.serializers.avro.binary import read_bytes as avro_read_bytes
from faust.serializers.avro.binary import read_double as avro_read_double
from faust.serializers.avro.binary import read_long as avro_read_long
from faust.serializers.avro.binary import read_string as avro_read_string
from faust.serializers.avro.binary import write_double as avro_write_double
from faust.serializers.avro.binary import write_long as avro_write_long
from faust.serializers.avro.binary import write_string as avro_write_string
from faust.serializers.codecs import JSON_OPTIONS, json_default, json_loads
from faust.serializers.generated import Fallback, GeneratedCodecs, blessed
from faust.serializers.generated import install as install_codecs
from faust.streams import RateLimiter, Stream, derived_topic, repartition_topic
from faust.tables.base import Table
from faust.tables.stores import ABSENT, Store
from faust.tables.windowed import WindowedTable
from faust.tables.wrappers import WindowSet, WindowWrapper
from faust.windows import HoppingWindow, TumblingWindow
from faust.worker.app_module import load_app_module
from faust.worker.cli import run_worker_cli

#: the version of this surface; a worker built for another one is refused
SURFACE_VERSION = 5

R = TypeVar("R")

#: a Record not yet initialised (a generated decoder stores its fields one by one, as
#: ``Record.__init__`` does): ``object.__new__``, typed
new_record: Callable[[type[R]], R] = object.__new__
#: ``object.__setattr__``: a frozen Record's fields are stored through it, at once
set_attribute: Callable[[object, str, Any], None] = object.__setattr__

__all__ = [
    "ABSENT",
    "AVRO_SHORT_LENGTHS",
    "JSON_OPTIONS",
    "NO_DATA",
    "SURFACE_VERSION",
    "Event",
    "Fallback",
    "GeneratedCodecs",
    "Message",
    "RateLimiter",
    "Stream",
    "avro_read_bytes",
    "avro_read_double",
    "avro_read_long",
    "avro_read_string",
    "avro_type",
    "avro_write_double",
    "avro_write_long",
    "avro_write_string",
    "blessed",
    "derived_topic",
    "enum_parser",
    "field",
    "field_decoder",
    "field_encoder",
    "field_type",
    "format_bytes",
    "format_date",
    "format_datetime",
    "install_codecs",
    "json_default",
    "json_loads",
    "load_app_module",
    "new_record",
    "parse_bytes",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_uuid",
    "repartition_topic",
    "require_surface",
    "run_worker_cli",
    "set_attribute",
    "set_current_event",
    "set_current_message",
    "table_access",
    "table_get",
    "table_item",
    "table_missing",
    "table_take",
    "timezone_converter",
    "window_access",
    "window_limit",
]


def require_surface(version: int) -> None:
    """Refuse to run a worker built for another version of this surface (one line, exit
    status 1: rebuilding the worker with this runtime's faustc is the fix)."""
    if version != SURFACE_VERSION:
        raise SystemExit(
            f"error: this worker was built for version {version} of faust.compiled, the "
            f"runtime offers version {SURFACE_VERSION}: rebuild it with `faustc build`"
        )


def avro_type(typ: Any) -> Any:
    """The :class:`~faust.serializers.avro.AvroType` of ``typ`` (imports fastavro on first
    use: a worker without Avro never does)."""
    from faust.serializers import avro

    return avro.avro_type(typ)


def field(record: type[Record], name: str) -> FieldDescriptor[Any]:
    """The descriptor of ``record``'s field ``name`` (its default, timezone, ...)."""
    descriptor = getattr(record, name)
    assert isinstance(descriptor, FieldDescriptor), f"{record.__name__}.{name} is not a field"
    return descriptor


def field_type(record: type[Record], name: str) -> Any:
    """The type ``record``'s field ``name`` is declared with (a group_by key's type)."""
    return field(record, name).type


def field_decoder(record: type[Record], name: str) -> Any:
    """``payload value -> value`` of one field, the Record's own (generic) converter."""
    return record._field_decoder(name)


def field_encoder(record: type[Record], name: str) -> Any:
    """``value -> JSON-ready value`` of one field, the Record's own (generic) converter."""
    return record._field_encoder(name)


# -- tables: what a fused loop reads and writes directly ------------------------------------
#
# A fused loop that reads or writes a module-level table binds, once per batch,
# ``stores, _, target = table_access(table)`` (a windowed table it only updates:
# ``window_access(table)``) and, once per message, the store of the
# message's partition (``stores.get(message.partition())``) and its ``data``. A read is
# then one dict lookup (``data.get(key, ABSENT)``), a write a dict store and the key added
# to the store's ``dirty`` set: what the table's own methods do, without their frames and
# context-variable reads. Whatever the loop does not find in ``data`` (a key not cached
# from RocksDB, a ``memory://`` key in another partition, a missing key's default) goes
# through ``table_get`` / ``table_item`` / ``table_missing``, which are the table's own
# rules; with no store (``table_access`` said no, or the partition is not held) the loop
# calls the table's methods as written.

#: the ``data`` a loop reads when it has no store for a table: always empty, never written
NO_DATA: dict[Any, Any] = {}
_NO_STORES: dict[int, Store] = {}

#: ``window_access``: stores, size, target, expires, clock, hops (see there)
WindowAccess = tuple[
    dict[int, Store],
    float,
    Any,
    float | None,
    Callable[[], float],
    Callable[[float], list[tuple[float, float]]] | None,
]


def table_access(table: Any) -> tuple[dict[int, Store], float, Any]:
    """Once per batch: ``(stores, 0.0, target)``. ``stores`` maps a partition to the store
    a loop may read and write directly (empty: call the table's methods); ``target`` is
    the table whose rules the misses follow. Anything but a plain table (a subclass, a
    global table, a windowed table, a sensor with table hooks) gets ``({}, 0.0, None)``:
    the methods as written, so a sensor's hooks are called, and checked again each
    batch. (The 0.0 is the place a windowed table's size had before
    :func:`window_access`.)"""
    if type(table) is Table:
        stores = table._loop_stores()
        if stores is not None:
            return stores, 0.0, table
    return _NO_STORES, 0.0, None


#: what :func:`window_access` returns for a table the loop must leave to its methods
_NO_WINDOWS: WindowAccess = (_NO_STORES, 0.0, None, None, time.time, None)


def window_access(table: Any) -> WindowAccess:
    """Once per batch, for a loop that only updates ``table`` in place (a plain table, or
    a windowed table's wrapper): ``(stores, size, target, expires, clock, hops)``. A plain
    table gets ``table_access``'s stores and target and size 0.0. A windowed table of the
    message's time gets its size, so the loop computes the windows of the message and
    their keys itself, as ``WindowedTable.apply`` does: ``hops`` is None for a tumbling
    window (one window a time: ``ts // size * size``, as ``TumblingWindow.ranges``) and
    the window's own ``ranges`` for a hopping one. With ``expires`` the loop reads
    ``clock()`` once a message and writes directly only while every window of the
    message is certainly live (:func:`window_limit`); otherwise it calls the wrapper's
    ``in_place``, which decides with its own reading of the clock, so which late writes
    are dropped does not change. Anything else (a subclass, a sliding or gapped window,
    a relativity of its own, a sensor with table hooks) gets ``({}, 0.0, None, ...)``:
    the methods as written, checked again each batch."""
    if type(table) is Table:
        stores, _, target = table_access(table)
        return stores, 0.0, target, None, time.time, None
    if type(table) is not WindowWrapper or table.ValueType is not WindowSet:
        return _NO_WINDOWS
    windowed = table.table
    window = windowed.window
    if (
        type(windowed) is not WindowedTable
        or table.get_relative_timestamp is not None
        or windowed.app.sensors.table_hooks is not None
    ):
        return _NO_WINDOWS
    hops: Callable[[float], list[tuple[float, float]]] | None
    if type(window) is TumblingWindow:
        hops = None
    elif type(window) is HoppingWindow and window.step <= window.size:
        hops = window.ranges
    else:
        return _NO_WINDOWS
    return windowed._stores, window.size, windowed, window.expires, windowed.clock, hops


def window_limit(end: float, size: float, expires: float | None) -> float:
    """The reading of the clock below which a window ending at ``end`` is certainly live
    (``inf`` for windows that never expire). ``Window.stale_before(now)`` is the start of
    a window holding ``now - expires``, so at most ``now - expires`` plus float rounding
    (some 1e-16 of the magnitudes); the margin kept below ``end`` is a million times
    that, so a loop that reads the clock under the limit knows the wrapper would write
    too. At or above it the loop asks the wrapper, which decides exactly."""
    if expires is None:
        return math.inf
    return end - (abs(end) + size + abs(expires)) * 1e-9 + expires


def table_get(table: Any, target: Any, store: Store | None, key: Any, default: Any) -> Any:
    """``table.get(key, default)`` when the store's ``data`` did not have ``key``."""
    if store is None:
        return table.get(key, default)
    value = target._read_in(store, key)
    return default if value is ABSENT else value


def table_item(table: Any, target: Any, store: Store | None, key: Any) -> Any:
    """``table[key]`` when the store's ``data`` did not have ``key``."""
    if store is None:
        return table[key]
    value = target._read_in(store, key)
    return target.__missing__(key) if value is ABSENT else value


def table_missing(target: Any, store: Store, key: Any) -> Any:
    """The value an in-place update of ``key`` starts from when the store's ``data`` did
    not have it (the database's, another ``memory://`` partition's, or the default)."""
    return target._missing_in(store, key)


def table_take(target: Any, store: Store, key: Any) -> None:
    """Before ``table[key] = value`` of a ``memory://`` table, whose keys live in one
    partition at a time: move ``key`` out of the partition that holds it."""
    if target._spans_partitions and key not in store.data:
        target._take(key, store)
