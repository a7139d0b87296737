"""faust.Record, first slice: fields, defaults, Faust's JSON wire format."""

from __future__ import annotations

import datetime
import decimal
import json

import pytest

import faust
from faust.models.record import FieldDescriptor, registry


class Point(faust.Record):
    x: int
    y: int = 0


class Labelled(faust.Record, namespace="shapes.Labelled", include_metadata=False):
    label: str
    tags: list[str] = faust.FieldDescriptor(default_factory=list)  # type: ignore[assignment]


class Stamp(faust.Record):
    at: datetime.datetime
    price: decimal.Decimal


def test_positional_keyword_and_default_construction() -> None:
    assert Point(1).asdict() == {"x": 1, "y": 0}
    assert Point(1, 2) == Point(x=1, y=2)
    assert Point(1, y=5).y == 5
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_class_attribute_is_the_field_descriptor() -> None:
    assert isinstance(Point.x, FieldDescriptor)
    assert (Point.x.field, Point.x.type, Point.x.model) == ("x", int, Point)
    assert Point.y.default == 0


def test_default_factory_gives_each_instance_its_own_value() -> None:
    first, second = Labelled("a"), Labelled("b")
    first.tags.append("t")
    assert second.tags == []


def test_dumps_uses_faust_metadata() -> None:
    data = json.loads(Point(1, 2).dumps())
    assert data == {"x": 1, "y": 2, "__faust": {"ns": f"{__name__}.Point"}}
    assert registry[f"{__name__}.Point"] is Point


def test_loads_with_and_without_metadata() -> None:
    assert Point.loads(b'{"x": 3, "y": 4, "__faust": {"ns": "somewhere.Point"}}') == Point(3, 4)
    assert Point.loads(b'{"x": 3}') == Point(3, 0)
    assert Point.loads(b'{"x": 3, "unknown": true}') == Point(3)


def test_include_metadata_false_and_namespace() -> None:
    assert json.loads(Labelled("a", ["b"]).dumps()) == {"label": "a", "tags": ["b"]}
    assert registry["shapes.Labelled"] is Labelled


def test_derive_and_equality() -> None:
    point = Point(1, 2)
    moved = point.derive(y=9)
    assert moved == Point(1, 9) and point == Point(1, 2)
    assert Point(1, 2) != Point(2, 1)
    assert repr(point) == "<Point: x=1, y=2>"


def test_datetime_and_decimal_written_as_faust_writes_them() -> None:
    stamp = Stamp(
        datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC), decimal.Decimal("9.95")
    )
    data = json.loads(stamp.dumps())
    assert data["at"] == "2024-05-01T12:30:00Z"  # faust-streaming writes UTC as Z
    assert data["price"] == "9.95"


def test_maybe_model_and_polymorphic_decode() -> None:
    class Base(faust.Record):
        name: str

    class Child(Base):
        extra: int = 1

    payload = json.loads(Child("c", 5).dumps())
    assert faust.maybe_model(payload) == Child("c", 5)
    assert Base.from_data(payload) == Child("c", 5)
    assert faust.maybe_model({"plain": 1}) == {"plain": 1}


def test_required_field_after_default_is_an_error() -> None:
    with pytest.raises(TypeError, match="without a default follows"):

        class Broken(faust.Record):
            a: int = 1
            b: int
