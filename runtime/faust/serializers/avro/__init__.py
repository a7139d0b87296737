"""Avro: schemas for Records, and the ``avro`` and ``avro-confluent`` codecs.

The package, one job a module:

- ``schema.py``: :func:`avro_schema`, a Record class (or a plain type) as an Avro schema
  (the type mapping itself is ``faust.serializers.avroschema``, shared with the compiler);
- ``datums.py``: Python values <-> the datums fastavro reads and writes
  (:func:`record_to_datum`, :func:`record_from_datum`, the reference converters);
- ``fastavro_io.py``: one datum read or written with fastavro, the schema parsed once, a
  datum that does not end where the message ends refused (:func:`datum_reader`,
  :func:`datum_writer`);
- ``binary.py``: Avro's primitives read and written straight (what generated codecs call);
- ``codec.py``: :class:`AvroType` and the ``avro`` codec (a schemaless datum);
- ``confluent.py``: the ``avro-confluent`` codec (Confluent's wire format, the Schema
  Registry).

Example::

    class Order(faust.Record, namespace="shop.Order", serializer="avro"):
        order_id: str
        amount: Decimal = DecimalField(max_digits=12, decimal_places=2)

    avro_schema(Order)
    # {'type': 'record', 'name': 'Order', 'namespace': 'shop', 'fields': [...]}

Mapping of types:

=====================  ==================================================================
``str int float bool``  ``string long double boolean``
``bytes``               ``bytes``
``Decimal``             ``bytes`` + ``decimal`` (precision/scale from ``DecimalField``)
``datetime``            ``long`` + ``timestamp-micros`` (``DatetimeField(precision="millis")``)
``date`` / ``UUID``     ``int`` + ``date`` / ``string`` + ``uuid``
``Enum``                ``enum`` of the member names
``Optional[T]``         ``["null", T]`` (default null)
``list/set/tuple[T]``   ``array``;  ``dict[str, T]``: ``map``;  a Record: a named ``record``
=====================  ==================================================================

Naive datetimes are written as UTC and read back as aware UTC datetimes (Avro timestamps
are instants).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from faust.serializers import codecs
from faust.serializers.avro.binary import (
    SHORT_LENGTHS,
    read_bytes,
    read_double,
    read_long,
    read_string,
    write_double,
    write_long,
    write_string,
)
from faust.serializers.avro.datums import (
    from_datum,
    record_from_datum,
    record_to_datum,
    to_datum,
)
from faust.serializers.avro.schema import avro_schema, enum_fullname, record_fullname, schema_record

if TYPE_CHECKING:
    from faust.serializers.avro.codec import AvroCodec, AvroType, avro_type
    from faust.serializers.avro.confluent import (
        KEY_SCHEMA_ID_HEADER,
        VALUE_SCHEMA_ID_HEADER,
        ConfluentAvroCodec,
        registry_client,
    )
    from faust.serializers.avro.fastavro_io import (
        AvroDatumError,
        DatumReading,
        datum_error,
        datum_reader,
        datum_reading,
        datum_writer,
        parse,
        read_with,
    )

#: the names of the modules that import fastavro (~2.7 MB of a worker's memory): loaded on
#: first use, so that a worker whose generated code only reads and writes Avro's
#: primitives (``binary``), or that has no Avro at all, does not import it
_LAZY = {
    **dict.fromkeys(("AvroCodec", "AvroType", "avro_type"), "codec"),
    **dict.fromkeys(
        ("KEY_SCHEMA_ID_HEADER", "VALUE_SCHEMA_ID_HEADER", "ConfluentAvroCodec", "registry_client"),
        "confluent",
    ),
    **dict.fromkeys(
        (
            "AvroDatumError",
            "DatumReading",
            "datum_error",
            "datum_reader",
            "datum_reading",
            "datum_writer",
            "parse",
            "read_with",
        ),
        "fastavro_io",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def register_codecs() -> None:
    """Make ``avro`` and ``avro-confluent`` known (done on first use of either name)."""
    from faust.serializers.avro.codec import AvroCodec
    from faust.serializers.avro.confluent import ConfluentAvroCodec

    codecs.codecs.setdefault("avro", AvroCodec())
    codecs.codecs.setdefault("avro-confluent", ConfluentAvroCodec())


__all__ = [
    "KEY_SCHEMA_ID_HEADER",
    "SHORT_LENGTHS",
    "VALUE_SCHEMA_ID_HEADER",
    "AvroCodec",
    "AvroDatumError",
    "AvroType",
    "ConfluentAvroCodec",
    "DatumReading",
    "avro_schema",
    "avro_type",
    "datum_error",
    "datum_reader",
    "datum_reading",
    "datum_writer",
    "enum_fullname",
    "from_datum",
    "parse",
    "read_bytes",
    "read_double",
    "read_long",
    "read_string",
    "read_with",
    "record_from_datum",
    "record_fullname",
    "record_to_datum",
    "register_codecs",
    "registry_client",
    "schema_record",
    "to_datum",
    "write_double",
    "write_long",
    "write_string",
]
