"""The codec plan: which generated encode/decode functions each Record gets.

Built by ``faustc.codecs.plan``, rendered into the worker by the emitter. Example::

    CodecsPlan(records=(RecordCodecPlan(name="Order", view=True, ...),), installed=("Order",))
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class RecordCodecPlan:
    """The generated codecs of one Record: each piece is finished Python source.

    ``avro`` holds the datum <-> Record functions when a topic carries the Record (or a
    Record holding it) with the ``avro`` or ``avro-confluent`` codec, else None.
    """

    name: str
    comment: str
    mirror: str
    functions: str
    generated: bool
    avro: str | None = None
    #: ``view_<record>_json`` exists: the mirror struct can stand in for the Record where
    #: code only reads its fields (every field is the mirror's value as it is)
    view: bool = False
    #: ``encode_<record>_avro``/``decode_<record>_avro``, writing and reading the datum's
    #: bytes straight, when every field of its Avro schema is a primitive
    #: (:func:`plan_avro_straight`)
    avro_writer: AvroWriterPlan | None = None
    #: ``_<Record>Out`` and ``encode_<record>_out``: the Record's fields in a msgspec struct
    #: that writes the Record's JSON itself, for fused code that builds the Record only to
    #: send it (:func:`_plan_json_out`); None when the Record does not qualify
    out: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AvroWriterPlan:
    #: the functions' source
    code: str
    #: the canonical text of the schema they write and read (the runtime uses them only
    #: when the Record's schema at run time is exactly this one)
    schema_text: str
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
