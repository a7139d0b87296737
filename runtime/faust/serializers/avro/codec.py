"""The ``avro`` codec: a schemaless Avro datum per message, the schema the Record's own.

:class:`AvroType` is what the codecs need for one type, built once (:func:`avro_type`):
its schema, parsed, and a datum reader and writer. :class:`AvroCodec` binds to a type
(``Codec.bind``) and picks, for the app that binds it, the compiler's straight reader and
writer when that app's worker installed them for exactly this schema, else fastavro with
the generated or reference datum converters. Reader and writer must share the schema.
Example::

    codec = AvroCodec()
    bound = codec.bind(Order, CodecContext(registry=app.codecs))
    bound.loads(bound.dumps(order)) == order
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from faust.models.record import Record
from faust.models.typeinfo import describe
from faust.serializers.avro.datums import (
    from_datum,
    record_from_datum,
    record_to_datum,
    to_datum,
)
from faust.serializers.avro.fastavro_io import (
    datum_error,
    datum_reading,
    datum_writer,
    left_over,
    parse,
    read_with,
)
from faust.serializers.avro.schema import avro_schema
from faust.serializers.codecs import BoundCodec, Codec, CodecContext, DecodeFailed, Headers
from faust.serializers.generated import GeneratedCodecs


class AvroType:
    """What the Avro codecs need for one type: its schema, parsed, and a datum reader.

    Built once per type (:func:`avro_type`, shared by every app); the datum converters
    and the straight reader and writer are chosen at bind time, from the generated codecs
    the binding app installed for the type (``installed``; None: the reference ones).
    """

    def __init__(self, typ: Any) -> None:
        self.typ = typ
        self.schema = avro_schema(typ)
        self.schema_text = json.dumps(self.schema, sort_keys=True, separators=(",", ":"))
        self.parsed = parse(self.schema)
        self.reading = datum_reading(self.schema)
        self.read = read_with(self.reading)
        self.write_datum = datum_writer(self.schema)
        self.is_model = isinstance(typ, type) and issubclass(typ, Record)

    def converters(
        self, installed: GeneratedCodecs | None
    ) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """(value -> datum, datum -> value): generated when installed, else the reference."""
        typ = self.typ
        if self.is_model:
            if installed is not None and installed.to_avro and installed.from_avro:
                return installed.to_avro, installed.from_avro
            return record_to_datum(typ), record_from_datum(typ)
        node = describe(typ)
        return to_datum(node) or _identity, from_datum(node) or _identity

    def _straight(self, installed: GeneratedCodecs | None) -> GeneratedCodecs | None:
        """``installed`` when it holds the compiler's straight reader and writer for
        exactly this schema, else None."""
        if not self.is_model or installed is None or installed.avro_schema != self.schema_text:
            return None
        return installed

    def generated_reader(self, installed: GeneratedCodecs | None) -> Callable[[bytes], Any] | None:
        """``bytes -> value``, the compiler's straight-line reader of this schema (None
        when there is none; it reads what ``read`` + the converter read, faster)."""
        straight = self._straight(installed)
        return straight.avro_loads if straight is not None else None

    def writer(self, installed: GeneratedCodecs | None) -> Callable[[Any], bytes]:
        """``value -> bytes`` (one schemaless datum) for values of exactly this type."""
        straight = self._straight(installed)
        if straight is not None and straight.avro_dumps is not None:
            return straight.avro_dumps
        to_datum, _ = self.converters(installed)
        write = self.write_datum

        def dumps(value: Any) -> bytes:
            return write(to_datum(value))

        return dumps


_avro_types: dict[Any, AvroType] = {}


def avro_type(typ: Any) -> AvroType:
    """The (cached) :class:`AvroType` of ``typ``."""
    found = _avro_types.get(typ)
    if found is None:
        found = _avro_types[typ] = AvroType(typ)
    return found


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
        return avro_type(type(record)).writer(None)(record)

    def bind(self, typ: Any, context: CodecContext) -> BoundCodec:
        avro = avro_type(typ)
        installed = context.generated(typ)
        generated_loads = avro.generated_reader(installed)
        if generated_loads is not None:
            return BoundCodec(loads=generated_loads, dumps=avro.writer(installed), generated=True)
        _, from_datum = avro.converters(installed)
        # datum_reader's read, inlined: a Python call less per message
        reading, bytes_io = avro.reading, io.BytesIO
        read_data, writer, named, options = (
            reading.read_data,
            reading.writer,
            reading.named,
            reading.options,
        )

        def loads(data: bytes, headers: Headers = None) -> Any:
            buffer = bytes_io(data)
            try:
                datum = read_data(buffer, writer, named, None, options)
            except Exception as exc:
                raise datum_error(exc, data) from None
            if buffer.tell() != len(data):
                raise left_over(buffer.tell(), data)
            return from_datum(datum)

        def loads_batch(
            datas: Sequence[bytes], headers: Any, fail: Callable[[Exception], Exception]
        ) -> list[Any]:
            """The datums read one after another from one buffer; after each, the reader
            must stand exactly at the datum's end. When it does not (or reading raised),
            that message alone is decoded again by ``loads``, which decides what it is,
            and reading goes on at the next datum's start."""
            values: list[Any] = []
            append = values.append
            buffer = bytes_io(b"".join(datas))
            tell, seek = buffer.tell, buffer.seek
            end = 0
            for data in datas:
                end += len(data)
                try:
                    datum = read_data(buffer, writer, named, None, options)
                    if tell() == end:
                        append(from_datum(datum))
                        continue
                except Exception:  # loads(data) below says what is wrong
                    pass
                seek(end)
                try:
                    append(loads(data))
                except Exception as exc:
                    append(DecodeFailed(fail(exc)))
            return values

        return BoundCodec(loads=loads, dumps=avro.writer(installed), loads_batch=loads_batch)
