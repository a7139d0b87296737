"""faust.Record, first slice: fields, defaults, Faust's JSON wire format."""

from __future__ import annotations

import datetime
import decimal
import json
from pathlib import Path

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


def test_fields_are_plain_instance_attributes() -> None:
    # construction is one plain store per field (bench/records.py): no descriptor under a
    # field name in the class __dict__, no __setattr__ of the class's own
    assert not {"x", "y"} & set(vars(Point))
    assert Point.__setattr__ is object.__setattr__
    point = Point(1, 2)
    assert vars(point) == {"x": 1, "y": 2}
    point.y = 7
    assert point == Point(1, 7)
    assert isinstance(Point.y, FieldDescriptor) and "x" in dir(Point)
    with pytest.raises(AttributeError, match="has no attribute 'z'"):
        Point.z  # type: ignore[attr-defined]  # noqa: B018


def test_frozen_and_a_thawed_subclass() -> None:
    import dataclasses

    class Key(faust.Record, frozen=True):
        a: int

    class Thawed(Key, frozen=False):
        b: int = 0

    with pytest.raises(dataclasses.FrozenInstanceError):
        Key(1).a = 2  # type: ignore[misc]
    thawed = Thawed(1, 2)
    thawed.a = 5
    assert thawed == Thawed(5, 2)


def test_init_hook_classes_coerce_and_validate() -> None:
    class Trimmed(faust.Record, validation=True):
        name: str = faust.StringField(trim_whitespace=True, max_length=3)  # type: ignore[assignment]

    assert Trimmed("  ab ").name == "ab"
    with pytest.raises(faust.ValidationError):
        Trimmed("abcd")


def test_mypy_sees_record_fields(tmp_path: Path) -> None:
    import mypy.api

    app = tmp_path / "typed_app.py"
    app.write_text(
        "import faust\n"
        "class Point(faust.Record):\n"
        "    x: int\n"
        "    y: int = 0\n"
        'Point(x="a")\n'
        "label: str = Point(1).y\n"
        "Point.nope\n"
        "descriptor = Point.x\n"
    )
    out, _, status = mypy.api.run(["--strict", "--no-incremental", str(app)])
    assert status == 1
    assert sorted(
        line.split(": error: ")[0].rsplit(":", 1)[-1] for line in out.splitlines()[:-1]
    ) == [
        "5",
        "6",
        "7",
    ], out
