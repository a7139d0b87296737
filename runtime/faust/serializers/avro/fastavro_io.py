"""Reading and writing one schemaless Avro datum with fastavro, the schema parsed once.

:func:`datum_reader` calls fastavro's reader without the schema parsing
``fastavro.schemaless_reader`` repeats on every call (2x the rate for a small record, see
``bench/codecs.py``), and insists that the datum ends where the message ends: bytes left
over mean the message was not written with this schema (a Confluent-framed message on an
``avro`` topic, say), and are a decode error rather than a silently wrong record.
fastavro's internal reader and writer are used only when a start-up probe shows they
behave as the public ones; otherwise the public functions run. Example::

    read = datum_reader(schema)            # read(data, start=0) -> datum
    write = datum_writer(schema)           # write(datum) -> bytes
    read(write({"order_id": "o1"}))        # {"order_id": "o1"}
"""

from __future__ import annotations

import dataclasses
import decimal
import functools
import io
import json
import struct
from collections.abc import Callable
from typing import Any

import fastavro


def parse(schema: Any) -> Any:
    """fastavro's parsed form of ``schema`` (its own name table, so schemas never clash)."""
    return fastavro.parse_schema(schema, named_schemas={})


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
