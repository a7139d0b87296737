"""How keys and values are decoded and encoded: Faust's rules."""

from __future__ import annotations

import pytest

import faust
from faust.exceptions import KeyDecodeError, ValueDecodeError
from faust.serializers.schemas import make_dumper, make_loader


class Item(faust.Record):
    name: str


def test_json_values_of_builtin_types() -> None:
    assert make_loader(str, "json")(b'"hello"') == "hello"
    assert make_loader(int, "json")(b"42") == 42
    assert make_loader(float, "json")(b"1.5") == 1.5
    assert make_dumper(str, "json")("hello") == b'"hello"'


def test_raw_keys() -> None:
    assert make_loader(str, "raw", is_key=True)(b"k1") == "k1"
    assert make_loader(None, "raw", is_key=True)(b"k1") == b"k1"
    assert make_loader(None, "raw", is_key=True)(None) is None
    assert make_dumper(str, "raw")("k1") == b"k1"


def test_untyped_json_reconstructs_records_from_metadata() -> None:
    loads = make_loader(None, "json")
    assert loads(Item("a").dumps()) == Item("a")
    assert loads(b'{"a": 1}') == {"a": 1}


def test_decode_errors_name_the_type_and_codec() -> None:
    with pytest.raises(
        ValueDecodeError, match=r"cannot decode value as test_schemas\.Item with the json codec"
    ):
        make_loader(Item, "json")(b"{not json")
    with pytest.raises(ValueDecodeError, match="got no value"):
        make_loader(Item, "json")(None)
    with pytest.raises(KeyDecodeError):
        make_loader(str, "raw", is_key=True)(b"\xff\xfe")


def test_topic_uses_app_defaults_and_model_serializer() -> None:
    app = faust.App("schemas-test")
    plain = app.topic("plain", value_type=str)
    assert (plain.key_serializer, plain.value_serializer) == ("raw", "json")
    explicit = app.topic("explicit", value_type=str, value_serializer="raw")
    assert explicit.value_serializer == "raw"
    assert explicit.value_loader()(b"abc") == "abc"
