"""Decide the generated codecs: every Record a topic carries gets JSON codecs, those on
Avro topics Avro converters too; where a view (a struct of the fields) can stand in for the
Record, where a struct can be built in its place to be sent, where its Avro datum is
written and read straight. Example::

    plan_codecs(module, records).installed       # ('Order', 'BigOrder')
"""

from __future__ import annotations

from faustc.codecs.avro import plan_avro_straight
from faustc.codecs.json import json_out_ok, json_view_ok
from faustc.codecs.model import CodecsPlan, RecordCodecPlan
from faustc.front.ir import AppModule
from faustc.types import AVRO_CODECS, RecordInfo, nested_records, topic_codec


def codec_records(module: AppModule, records: dict[str, RecordInfo]) -> list[str]:
    """Every Record a topic carries (as key or value) and the Records they nest."""
    order: list[str] = []
    for topic in module.topics:
        for is_key in (False, True):
            record, _ = topic_codec(topic, records, is_key=is_key)
            if record is not None:
                for name in nested_records(records[record], records):
                    if name not in order:
                        order.append(name)
    return order


def avro_records(module: AppModule, records: dict[str, RecordInfo]) -> list[str]:
    """Every Record a topic carries with an Avro codec, and the Records they nest."""
    order: list[str] = []
    for topic in module.topics:
        for is_key in (False, True):
            record, codec = topic_codec(topic, records, is_key=is_key)
            if record is not None and codec in AVRO_CODECS:
                for name in nested_records(records[record], records):
                    if name not in order:
                        order.append(name)
    return order


def plan_codecs(module: AppModule, records: dict[str, RecordInfo]) -> CodecsPlan | None:
    """Generated encode/decode functions for every Record a topic carries: JSON for all,
    Avro datum <-> Record for those on Avro topics."""
    names = codec_records(module, records)
    if not names:
        return None
    with_avro = avro_records(module, records)
    plans = [
        RecordCodecPlan(
            name=name,
            view=json_view_ok(records[name], records),
            out=json_out_ok(records[name]),
            avro=name in with_avro,
            avro_writer=(
                plan_avro_straight(module, records, records[name]) if name in with_avro else None
            ),
        )
        for name in names
    ]
    return CodecsPlan(tuple(plans), tuple(names), tuple(n for n in names if n in with_avro))
