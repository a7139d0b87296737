"""A test app whose topics carry Records with every supported field type (JSON and Avro)."""

import datetime
import decimal
import enum
import uuid
from typing import Literal, Optional

import faust
from faust import DatetimeField, DecimalField, FieldDescriptor, StringField

app = faust.App("records-app")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(faust.Record, namespace="records.Point"):
    x: int
    y: int = 0


class Everything(faust.Record, namespace="records.Everything"):
    text: str
    number: int
    real: float
    flag: bool
    blob: bytes
    money: decimal.Decimal = DecimalField(max_digits=12, decimal_places=2)
    at: datetime.datetime
    day: datetime.date
    uid: uuid.UUID
    color: Color
    size: Literal["s", "m", "l"]
    point: Point
    points: list[Point]
    tags: set[str]
    frozen_tags: frozenset[int]
    numbers: tuple[int, ...]
    counts: dict[str, int]
    by_id: dict[int, str]
    maybe: Optional[Point] = None  # noqa: UP045
    label: str = StringField(default="", output_name="Label", input_name="Label")
    extras: list[str] = FieldDescriptor(default_factory=list)


class Reading(faust.Record, namespace="records.Reading", serializer="avro"):
    sensor: str
    value: float
    at: datetime.datetime = DatetimeField(timezone="UTC")
    color: Color = Color.RED
    history: list[float] = FieldDescriptor(default_factory=list)
    point: Optional[Point] = None  # noqa: UP045
    price: decimal.Decimal = DecimalField(
        max_digits=8, decimal_places=3, default=decimal.Decimal(0)
    )


everything_topic = app.topic("everything", value_type=Everything)
readings_topic = app.topic("readings", key_type=str, value_type=Reading)
out_topic = app.topic("out", value_type=Everything)


@app.agent(everything_topic)
async def copy(stream: faust.Stream[Everything]) -> None:
    async for item in stream:
        await out_topic.send(value=item)
