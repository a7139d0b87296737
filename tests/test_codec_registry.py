"""Codecs are registered per app (``faust.serializers.registry``): two apps in one process
never see each other's registrations, nor each other's generated codecs; Faust's
``codecs.register`` still registers for every app, as in Faust."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import faust
from faust.serializers import codecs, generated
from faust.serializers.generated import GeneratedCodecs

_ids = itertools.count()


class Upper(faust.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return str(obj).upper().encode()

    def _loads(self, data: bytes) -> Any:
        return data.decode().lower()


class Reverse(faust.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return str(obj)[::-1].encode()

    def _loads(self, data: bytes) -> Any:
        return data.decode()[::-1]


def two_apps() -> tuple[faust.App, faust.App]:
    n = next(_ids)
    return faust.App(f"registry-a-{n}"), faust.App(f"registry-b-{n}")


def test_a_codec_registered_on_one_app_is_unknown_to_another() -> None:
    first, second = two_apps()
    name = f"upper-{next(_ids)}"
    first.codecs.register(name, Upper())
    words = first.topic("words", value_type=str, value_serializer=name)
    assert words.value_dumper()("hi") == b"HI"
    assert words.value_loader()(b"HI") == "hi"
    with pytest.raises(KeyError, match=f"unknown serializer '{name}'"):
        second.topic("words", value_type=str, value_serializer=name)
    with pytest.raises(KeyError):
        codecs.get_codec(name)  # not process-wide either


def test_chains_resolve_through_the_apps_codecs() -> None:
    first, _ = two_apps()
    name = f"upper-{next(_ids)}"
    first.codecs.register(name, Upper())
    topic = first.topic("chained", value_type=str, value_serializer=f"{name}|binary")
    assert topic.value_dumper()("hi") == b"SEk="  # base64 of HI
    assert topic.value_loader()(b"SEk=") == "hi"


def test_fausts_register_is_for_every_app_and_an_apps_own_wins_for_it() -> None:
    first, second = two_apps()
    name = f"shared-{next(_ids)}"
    codecs.register(name, Upper())  # Faust's API: every app of the process
    second.codecs.register(name, Reverse())  # this app's own, under the same name
    assert first.topic("a", value_type=str, value_serializer=name).value_dumper()("ab") == b"AB"
    assert second.topic("b", value_type=str, value_serializer=name).value_dumper()("ab") == b"ba"


def test_generated_codecs_installed_for_one_app_are_not_used_by_another() -> None:
    first, second = two_apps()

    class Point(faust.Record, serializer="json"):
        x: int

    def encode_point(point: Any) -> bytes:
        return b'{"x":"generated"}'

    generated.install(
        first, {Point: GeneratedCodecs(json_loads=Point.loads, json_dumps=encode_point)}
    )
    with_codecs = first.topic("points", value_type=Point)
    without = second.topic("points", value_type=Point)
    assert first.codecs.generated(Point) is not None and second.codecs.generated(Point) is None
    assert with_codecs.value_dumper()(Point(1)) == b'{"x":"generated"}'
    assert without.value_dumper()(Point(1)).startswith(b'{"x":1')
    with generated.suspended():  # the reference path, for every app
        assert first.codecs.generated(Point) is None
        assert with_codecs.value_dumper()(Point(1)).startswith(b'{"x":1')
    assert with_codecs.value_dumper()(Point(1)) == b'{"x":"generated"}'


def test_a_tables_codec_comes_from_its_apps_codecs() -> None:
    first, second = two_apps()
    name = f"upper-{next(_ids)}"
    first.codecs.register(name, Upper())

    class Shout(faust.Record, serializer=name):
        word: str

    shouts = first.Table("shouts", value_type=Shout)
    assert shouts.codec.dump_value(Shout("hi")).isupper()
    with pytest.raises(KeyError, match="unknown serializer"):
        second.Table("shouts", value_type=Shout).codec  # noqa: B018
