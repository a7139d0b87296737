"""Field types a topic's codec cannot represent (FC300)."""

import decimal
from typing import Any

import faust

app = faust.App("codec-types")


class Line(faust.Record, serializer="avro"):
    sku: str
    price: decimal.Decimal  # E: FC300 a Decimal needs DecimalField
    extra: dict[int, str]  # E: FC300 Avro maps have string keys
    anything: Any  # E: FC300 a field typed Any has no Avro schema


class Cart(faust.Record):
    lines: list[Line]
    pair: tuple[int, str] = (0, "")  # E: FC300 a fixed-length tuple
    by_line: dict[Line, int] = faust.FieldDescriptor(default_factory=dict)  # E: FC300 dict keys of type Line


carts = app.topic("carts", value_type=Cart, value_serializer="avro")  # the avro codec
lines = app.topic("lines", value_type=Line)


@app.agent(lines)
async def count(stream: faust.Stream[Line]) -> None:
    async for line in stream:
        print(line)
