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


class Shout(FieldDescriptor[str]):
    """A user's own descriptor: the compiler cannot know what its prepare_value does."""

    def prepare_value(self, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


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
    shout: str = Shout(default="")


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


class Size(enum.IntEnum):
    S = 1
    M = 2


class AvroEverything(faust.Record, namespace="records.AvroEverything", serializer="avro"):
    """Every field type Avro carries, for generated vs generic Avro converters."""

    text: str
    number: int
    real: float
    flag: bool
    blob: bytes
    money: decimal.Decimal = DecimalField(max_digits=12, decimal_places=2)
    at: datetime.datetime
    at_millis: datetime.datetime = DatetimeField(precision="millis")
    at_zoned: datetime.datetime = DatetimeField(timezone="Europe/Paris")
    zoned_history: list[datetime.datetime] = DatetimeField(timezone="UTC")
    day: datetime.date
    uid: uuid.UUID
    color: Color
    size: Size
    mode: Literal["on", "off"]
    level: Literal[1, 2, 3]
    point: Point
    points: list[Point]
    by_name: dict[str, Point]
    colors: list[Color]
    color_sets: dict[str, set[Color]]
    tags: set[str]
    frozen_tags: frozenset[int]
    numbers: tuple[int, ...]
    nested: list[list[Color]]
    counts: dict[str, int]
    maybe: Optional[Point] = None  # noqa: UP045
    maybe_color: Optional[Color] = None  # noqa: UP045
    maybe_at: Optional[datetime.datetime] = None  # noqa: UP045
    trimmed: str = StringField(default="", trim_whitespace=True)
    renamed: str = StringField(default="", output_name="Renamed", input_name="Renamed")
    hidden: int = FieldDescriptor(default=7, exclude=True)
    extras: list[str] = FieldDescriptor(default_factory=list)
    shout: str = Shout(default="")


class AvroPrimitives(faust.Record, namespace="records.AvroPrimitives", serializer="avro"):
    """Primitive fields alone: the compiler writes the Avro bytes of these straight."""

    text: str
    number: int
    real: float
    flag: bool
    blob: bytes
    maybe_text: Optional[str] = None  # noqa: UP045
    maybe_number: Optional[int] = None  # noqa: UP045
    maybe_real: Optional[float] = None  # noqa: UP045
    maybe_flag: Optional[bool] = None  # noqa: UP045
    maybe_blob: Optional[bytes] = None  # noqa: UP045
    text_first: Optional[str] = "x"  # noqa: UP045  (a default: the union is [string, null])
    renamed: int = FieldDescriptor(default=0, output_name="Renamed", input_name="Renamed")
    hidden: int = FieldDescriptor(default=7, exclude=True)


class Flat(faust.Record, namespace="records.Flat"):
    """Fields taken from the JSON as they are: code reading only fields may get a view."""

    name: str
    count: int
    ratio: float
    ok: bool


class FlatPlus(Flat, namespace="records.FlatPlus", allow_blessed_key=True):
    """A subclass a message may name in its ``__faust`` metadata (then it is what decodes)."""

    extra: str = ""


class AvroFlat(faust.Record, namespace="records.AvroFlat", serializer="avro"):
    """Primitive fields taken as read: code reading only fields may get an Avro view."""

    name: str
    count: int
    share: float
    flag: bool
    blob: bytes
    note: Optional[str] = None  # noqa: UP045


class FrozenKey(faust.Record, namespace="records.FrozenKey", serializer="avro", frozen=True):
    region: str
    shard: int


everything_topic = app.topic("everything", value_type=Everything)
avro_everything_topic = app.topic("avro-everything", key_type=FrozenKey, value_type=AvroEverything)
readings_topic = app.topic("readings", key_type=str, value_type=Reading)
primitives_topic = app.topic("avro-primitives", value_type=AvroPrimitives)
avro_flat_topic = app.topic("avro-flat", value_type=AvroFlat)
flat_topic = app.topic("flat", value_type=Flat)
out_topic = app.topic("out", value_type=Everything)


@app.agent(everything_topic)
async def copy(stream: faust.Stream[Everything]) -> None:
    async for item in stream:
        await out_topic.send(value=item)
