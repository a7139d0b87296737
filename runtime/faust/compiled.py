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

The groups: streams and agents (the fused loops), Records (what a codec asks of a Record
class), JSON codecs, Avro codecs.
"""

from __future__ import annotations

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
from faust.serializers.avro.codec import avro_type
from faust.serializers.codecs import JSON_OPTIONS, json_default, json_loads
from faust.serializers.generated import Fallback, GeneratedCodecs, blessed
from faust.serializers.generated import install as install_codecs
from faust.streams import RateLimiter, Stream, derived_topic, repartition_topic
from faust.worker.app_module import load_app_module
from faust.worker.cli import run_worker_cli

#: the version of this surface; a worker built for another one is refused
SURFACE_VERSION = 1

R = TypeVar("R")

#: a Record not yet initialised (a generated decoder stores its fields one by one, as
#: ``Record.__init__`` does): ``object.__new__``, typed
new_record: Callable[[type[R]], R] = object.__new__
#: ``object.__setattr__``: a frozen Record's fields are stored through it, at once
set_attribute: Callable[[object, str, Any], None] = object.__setattr__

__all__ = [
    "AVRO_SHORT_LENGTHS",
    "JSON_OPTIONS",
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
    "timezone_converter",
]


def require_surface(version: int) -> None:
    """Refuse to run a worker built for another version of this surface (one line, exit
    status 1: rebuilding the worker with this runtime's faustc is the fix)."""
    if version != SURFACE_VERSION:
        raise SystemExit(
            f"error: this worker was built for version {version} of faust.compiled, the "
            f"runtime offers version {SURFACE_VERSION}: rebuild it with `faustc build`"
        )


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
