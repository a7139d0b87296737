"""The codec plan: which generated encode/decode functions each Record gets.

Decisions only: ``faustc.codecs.plan`` makes it, ``faustc.codecs.json`` and
``faustc.codecs.avro`` write the functions it asks for. Example::

    CodecsPlan(records=(RecordCodecPlan(name="Order", view=True, ...),), installed=("Order",))
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class RecordCodecPlan:
    """The generated codecs of one Record (``faustc.codecs.json`` and ``faustc.codecs.avro``
    write them): JSON always, the rest as decided."""

    name: str
    #: ``view_<record>_json`` exists: the mirror struct can stand in for the Record where
    #: code only reads its fields (every field is the mirror's value as it is)
    view: bool = False
    #: ``_<Record>Out`` and ``encode_<record>_out`` can exist: the Record's fields in a
    #: msgspec struct that writes the Record's JSON itself, for fused code that builds the
    #: Record only to send it (written when a plan builds one: ``WorkerPlan.sent_as_json``)
    out: bool = False
    #: the datum <-> Record converters exist: a topic carries the Record (or a Record
    #: holding it) with the ``avro`` or ``avro-confluent`` codec
    avro: bool = False
    #: ``encode_<record>_avro``/``decode_<record>_avro``, writing and reading the datum's
    #: bytes straight, when every field of its Avro schema is a primitive
    avro_writer: AvroWriterPlan | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AvroWriterPlan:
    #: the Avro schema they write and read (JSON-ready)
    schema: Any = dataclasses.field(compare=False)
    #: its canonical text (the runtime uses the functions only when the Record's schema at
    #: run time is exactly this one)
    schema_text: str = ""
    #: ``view_<record>_avro`` exists: the datum's fields in a struct, for code that only
    #: reads fields (every field is the datum's value as it is)
    view: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CodecsPlan:
    records: tuple[RecordCodecPlan, ...]
    #: Records whose codecs are installed (top-level ones carried by a topic)
    installed: tuple[str, ...]
    #: Records with generated Avro converters
    avro: tuple[str, ...] = ()
