"""Round trips for every field type through the generic codecs and the generated ones
(hypothesis), Avro with fastavro and the Apache avro package, the Confluent wire format
against confluent_kafka's own serializers, and the errors a bad message raises."""

from __future__ import annotations

import datetime
import decimal
import io
import json
import struct
import uuid
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import load_worker

import faust
from faust.exceptions import ValidationError, ValueDecodeError
from faust.serializers import codecs, generated
from faust.serializers.avro import avro_schema, registry_client
from faust.serializers.codecs import CodecContext
from faust.serializers.schemas import make_decoder, make_dumper, make_loader

APPS = Path(__file__).parent / "apps"


def app_context(m: Any) -> CodecContext:
    """The records app's codecs: its built worker installed the generated ones there."""
    return CodecContext(registry=m.app.codecs)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_worker(APPS / "records_app.py", tmp_path_factory.mktemp("build"))


def _app_module(worker: Any) -> Any:
    return worker.app_module


aware = st.datetimes(
    min_value=datetime.datetime(1970, 1, 2),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.just(datetime.UTC),
)
money = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
text = st.text(max_size=12)


def everything(m: Any) -> st.SearchStrategy[Any]:
    points = st.builds(m.Point, st.integers(-(2**40), 2**40), st.integers(-5, 5))
    return st.builds(
        m.Everything,
        text=text,
        number=st.integers(-(2**62), 2**62),
        real=st.floats(allow_nan=False, allow_infinity=False),
        flag=st.booleans(),
        blob=st.binary(max_size=16),
        money=money,
        at=st.one_of(aware, st.datetimes()),
        day=st.dates(),
        uid=st.uuids(),
        color=st.sampled_from(list(m.Color)),
        size=st.sampled_from(["s", "m", "l"]),
        point=points,
        points=st.lists(points, max_size=3),
        tags=st.sets(text, max_size=3),
        frozen_tags=st.frozensets(st.integers(-9, 9), max_size=3),
        numbers=st.tuples(st.integers(0, 9), st.integers(0, 9)),
        counts=st.dictionaries(text, st.integers(-9, 9), max_size=3),
        by_id=st.dictionaries(st.integers(-(2**31), 2**31), text, max_size=3),
        maybe=st.one_of(st.none(), points),
        label=text,
        extras=st.lists(text, max_size=2),
        shout=text,
    )


SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(data=st.data())
def test_json_round_trip_generic_and_generated_agree(worker: Any, data: st.DataObject) -> None:
    m = _app_module(worker)
    record = data.draw(everything(m))
    with generated.suspended():
        generic_dump = make_dumper(m.Everything, "json", context=app_context(m))(record)
        generic_load = make_loader(m.Everything, "json", context=app_context(m))
        assert generic_load(generic_dump) == record
    fast_dump = make_dumper(m.Everything, "json", context=app_context(m))(record)
    assert fast_dump == generic_dump
    fast = make_loader(m.Everything, "json", context=app_context(m))(fast_dump)
    assert fast == record
    quiet = json.dumps({**json.loads(fast_dump), "shout": "quiet"}).encode()
    assert (
        make_loader(m.Everything, "json", context=app_context(m))(quiet).shout == "QUIET"
    )  # the user's descriptor
    assert m.app.codecs.generated(m.Everything) is not None


@pytest.mark.parametrize("stamp", [1_700_000_000, 1_700_000_000.25])
def test_a_datetime_field_holding_a_number_is_written_as_given(worker: Any, stamp: float) -> None:
    """Faust writes what the field holds (``date=int(time())``) and reads a number back
    as the number, generated codecs and generic alike (issue 13, silent-wrong before)."""
    m = _app_module(worker)
    record = m.Everything(
        text="t", number=1, real=1.0, flag=True, blob=b"", money=decimal.Decimal("1.00"),
        at=stamp, day=stamp, uid=uuid.UUID(int=1), color=m.Color.RED, size="s",
        point=m.Point(1, 2), points=[], tags=set(), frozen_tags=frozenset(), numbers=(),
        counts={}, by_id={},
    )  # fmt: skip
    with generated.suspended():
        generic = make_dumper(m.Everything, "json", context=app_context(m))(record)
        back = make_loader(m.Everything, "json", context=app_context(m))(generic)
    assert json.loads(generic)["at"] == stamp and json.loads(generic)["day"] == stamp
    assert (back.at, back.day) == (stamp, stamp)
    fast = make_dumper(m.Everything, "json", context=app_context(m))(record)
    assert fast == generic
    assert make_loader(m.Everything, "json", context=app_context(m))(fast) == back
    assert json.loads(record.dumps())["at"] == stamp


class _Text(str):
    """A str subclass: not a str by ``type(...) is str``, so it takes the generic path."""


_odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
    text.map(_Text),
    st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False),
)


@SETTINGS
@given(data=st.data())
def test_json_encoder_fast_path_writes_what_the_generic_path_writes(
    worker: Any, data: st.DataObject
) -> None:
    """Records of str/int/float/bool fields skip orjson's options when every value has its
    field's exact type; any other value (a bool in an int field, a str subclass, a Decimal)
    must still be written exactly as the generic path writes it."""
    m = _app_module(worker)
    usual = st.builds(
        m.Flat, name=text, count=st.integers(-(2**62), 2**62), ratio=st.floats(), ok=st.booleans()
    )
    odd = st.builds(m.Flat, name=_odd, count=_odd, ratio=_odd, ok=_odd)
    record = data.draw(st.one_of(usual, odd))
    with generated.suspended():
        generic_dump = make_dumper(m.Flat, "json", context=app_context(m))(record)
    assert make_dumper(m.Flat, "json", context=app_context(m))(record) == generic_dump
    point = m.Point(data.draw(_odd), data.draw(_odd))
    with generated.suspended():
        generic_point = make_dumper(m.Point, "json", context=app_context(m))(point)
    assert make_dumper(m.Point, "json", context=app_context(m))(point) == generic_point


@pytest.mark.parametrize("data", [b'{"name": "n", "count": 1, "ratio": 0.5, "ok": true}', None])
@pytest.mark.parametrize("fields_only", [False, True])
def test_a_decoder_in_two_halves_fails_as_the_loader_does(
    worker: Any, data: bytes | None, fields_only: bool
) -> None:
    """``make_decoder`` gives a compiled loop the generated decoder itself and ``failed``,
    which must turn what it raises into the loader's own error, message and all."""
    m = _app_module(worker)
    loader = make_loader(m.Flat, "json", fields_only=fields_only, context=app_context(m))
    decode, failed = make_decoder(m.Flat, "json", fields_only=fields_only, context=app_context(m))
    assert m.app.codecs.generated(m.Flat) is not None
    bad = [None, b"", b"{", b'{"name": 1}', b'{"name": "n", "count": "1", "ratio": 1, "ok": 1}']
    for value in [data, *bad]:
        try:
            expected: Any = loader(value)
        except Exception as exc:
            expected = (type(exc), str(exc))
        try:
            got: Any = decode(value)
        except Exception as exc:
            error = failed(exc, value)
            got = (type(error), str(error))
        assert got == expected, value


BAD_VALUES = [
    b"not json",
    b"[1, 2]",
    b'{"text": 1}',
    b'{"text": "a", "number": 1.5}',
    b'{"text": "a", "number": true}',
]


@pytest.mark.parametrize("data", BAD_VALUES)
def test_bad_json_fails_on_both_paths(worker: Any, data: bytes) -> None:
    m = _app_module(worker)
    with generated.suspended(), pytest.raises(ValueDecodeError) as generic:
        make_loader(m.Everything, "json", context=app_context(m))(data)
    with pytest.raises(ValueDecodeError) as fast:
        make_loader(m.Everything, "json", context=app_context(m))(data)
    assert generic.value.record == fast.value.record == "records.Everything"


def _flat_payloads() -> st.SearchStrategy[bytes]:
    """JSON for ``Flat``: right, with wrong types, missing or extra fields, and ``__faust``
    metadata naming Flat, its blessed subclass, another class or garbage."""
    value = st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.booleans(), text, st.none())
    field = {
        "name": st.one_of(text, text, value),
        "count": st.one_of(st.integers(-(2**40), 2**40), st.integers(-9, 9), value),
        "ratio": st.one_of(st.floats(allow_nan=False, allow_infinity=False), value),
        "ok": st.one_of(st.booleans(), st.booleans(), value),
    }
    metadata = st.sampled_from(
        [None, "records.Flat", "records.FlatPlus", "records.Point", "nowhere.Nothing", 5]
    )

    def payload(draw: st.DrawFn) -> bytes:
        fields = {name: draw(strategy) for name, strategy in field.items()}
        if draw(st.integers(0, 9)) == 0:
            del fields[draw(st.sampled_from(sorted(fields)))]
        if draw(st.booleans()):
            fields["extra"] = draw(text)
        named = draw(metadata)
        if named is not None:
            fields["__faust"] = {"ns": named} if isinstance(named, str) else named
        return json.dumps(fields).encode()

    return st.composite(payload)()


def _decoded(loads: Any, data: bytes) -> tuple[str, Any]:
    try:
        value = loads(data)
    except ValueDecodeError as exc:
        return "error", str(exc)
    if isinstance(value, faust.Record):
        return type(value).__name__, value
    return "view", value


@SETTINGS
@given(data=_flat_payloads())
def test_a_fields_only_loader_reads_the_fields_the_record_would_hold(
    worker: Any, data: bytes
) -> None:
    """What fused code that reads only fields decodes (the msgspec struct, when the message
    names no other class) fails when the Record fails and holds what the Record holds."""
    m = _app_module(worker)
    full_kind, full = _decoded(make_loader(m.Flat, "json", context=app_context(m)), data)
    kind, view = _decoded(
        make_loader(m.Flat, "json", fields_only=True, context=app_context(m)), data
    )
    if full_kind == "error":
        assert (kind, view) == (full_kind, full)
        return
    if kind != "view":  # a blessed subclass, or metadata written otherwise: the Record
        assert (kind, view) == (full_kind, full)
        return
    assert full_kind == "Flat" and not isinstance(view, faust.Record)
    for name in ("name", "count", "ratio", "ok"):
        assert type(getattr(view, name)) is type(getattr(full, name)), name
        assert getattr(view, name) == getattr(full, name), name
    with generated.suspended():  # the reference runtime decodes the same Record
        assert make_loader(m.Flat, "json", fields_only=True, context=app_context(m))(data) == full


def test_what_a_fields_only_loader_returns(worker: Any) -> None:
    m = _app_module(worker)
    loads = make_loader(m.Flat, "json", fields_only=True, context=app_context(m))
    plain = b'{"name":"a","count":1,"ratio":0.5,"ok":true}'
    faust_written = make_dumper(m.Flat, "json", context=app_context(m))(m.Flat("a", 1, 0.5, True))
    assert b'"__faust":{"ns":"records.Flat"}' in faust_written
    for data in (plain, faust_written):
        view = loads(data)
        assert not isinstance(view, faust.Record)
        assert (view.name, view.count, view.ratio, view.ok) == ("a", 1, 0.5, True)
    blessed = faust_written.replace(b"records.Flat", b"records.FlatPlus")
    assert type(loads(blessed)) is m.FlatPlus
    with pytest.raises(ValueDecodeError, match="got no value"):
        loads(None)
    with generated.suspended():
        assert (
            type(make_loader(m.Flat, "json", fields_only=True, context=app_context(m))(plain))
            is m.Flat
        )
    # a Record with a field the JSON does not hold as it is (a datetime) has no view
    assert m.app.codecs.generated(m.Everything).json_view is None  # type: ignore[union-attr]


def readings(m: Any) -> st.SearchStrategy[Any]:
    return st.builds(
        m.Reading,
        sensor=text,
        value=st.floats(allow_nan=False, allow_infinity=False),
        at=aware,
        color=st.sampled_from(list(m.Color)),
        history=st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=3),
        point=st.one_of(st.none(), st.builds(m.Point, st.integers(-9, 9), st.integers(-9, 9))),
        price=st.decimals(min_value=-(10**4), max_value=10**4, places=3, allow_nan=False),
    )


@SETTINGS
@given(data=st.data())
def test_avro_round_trip_and_apache_avro_interop(worker: Any, data: st.DataObject) -> None:
    m = _app_module(worker)
    reading = data.draw(readings(m))
    schema = m.readings_topic.schema
    encoded = schema.dumps_value(reading)
    assert schema.loads_value(encoded) == reading
    # the Apache implementation reads our bytes with the exported schema ...
    parsed = avro.schema.parse(json.dumps(avro_schema(m.Reading)))
    datum = avro.io.DatumReader(parsed).read(avro.io.BinaryDecoder(io.BytesIO(encoded)))
    assert datum["sensor"] == reading.sensor and datum["color"] == reading.color.name
    # ... and writes bytes we read back as the same record
    buffer = io.BytesIO()
    avro.io.DatumWriter(parsed).write(datum, avro.io.BinaryEncoder(buffer))
    assert schema.loads_value(buffer.getvalue()) == reading


def test_confluent_wire_format_against_confluent_serializers(worker: Any) -> None:
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    m = _app_module(worker)
    url = "mock://issue3-confluent"
    app = faust.App("confluent-test", schema_registry_url=url)
    topic = app.topic("sensor-readings", value_type=m.Reading, value_serializer="avro-confluent")
    reading = m.Reading("s1", 1.5, datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    ours = topic.schema.dumps_value(reading)
    assert ours is not None and ours[0] == 0
    client = registry_client(url)
    schema_id = struct.unpack(">I", ours[1:5])[0]
    assert client.get_schema(schema_id) is not None
    ctx = SerializationContext("sensor-readings", MessageField.VALUE)
    theirs_read = AvroDeserializer(client)(ours, ctx)
    assert theirs_read["sensor"] == "s1" and theirs_read["color"] == "RED"
    serializer = AvroSerializer(client, json.dumps(avro_schema(m.Reading)))
    theirs = serializer(theirs_read, ctx)
    assert topic.schema.loads_value(theirs) == reading
    # the header form: the GUID travels in __value_schema_id, the payload is the bare datum
    from confluent_kafka.schema_registry import header_schema_id_serializer

    headers: list[tuple[str, bytes | None]] = []
    header_serializer = AvroSerializer(
        client,
        json.dumps(avro_schema(m.Reading)),
        conf={"schema.id.serializer": header_schema_id_serializer},
    )
    ctx_headers = SerializationContext("sensor-readings", MessageField.VALUE, headers)
    bare = header_serializer(theirs_read, ctx_headers)
    assert headers and headers[0][0] == "__value_schema_id" and headers[0][1][0] == 1
    loader = topic.value_loader()
    assert loader.wants_headers  # type: ignore[attr-defined]
    assert loader(bare, headers) == reading


def test_decode_error_names_record_and_field(worker: Any) -> None:
    m = _app_module(worker)
    with generated.suspended(), pytest.raises(ValueDecodeError) as caught:
        make_loader(m.Point, "json", context=app_context(m))(b'{"x": "one"}')
    error = caught.value
    assert error.record == "records.Point"
    assert "field 'x': expected int, got str" in str(error)
    error.topic, error.partition, error.offset = "points", 3, 41
    assert str(error).endswith("(topic=points partition=3 offset=41)")


def test_validation_error_lists_every_field() -> None:
    class Checked(faust.Record, validation=True):
        name: str = faust.StringField(max_length=3)
        amount: decimal.Decimal = faust.DecimalField(max_digits=5, decimal_places=2)
        count: int = faust.IntegerField(min_value=0)

    with pytest.raises(ValidationError) as caught:
        Checked(name="toolong", amount=decimal.Decimal("1.234"), count=-1)
    fields = [error.field for error in caught.value.errors]
    assert fields == ["name", "amount", "count"]
    assert "3 invalid fields" in str(caught.value)
    with pytest.raises(ValidationError):
        Checked.loads(b'{"name": "abcdef", "amount": "1.00", "count": 1}')
    assert Checked(name="ok", amount=decimal.Decimal("1.5"), count=0).is_valid()


def test_codec_registry_chains_and_pickle_by_name(caplog: pytest.LogCaptureFixture) -> None:
    class Upper(faust.Codec):
        name = "upper"

        def _dumps(self, obj: Any) -> bytes:
            return str(obj).upper().encode()

        def _loads(self, data: bytes) -> Any:
            return data.decode()

    codecs.register("upper", Upper())
    assert codecs.loads("upper|binary", codecs.dumps("upper|binary", "hi")) == "HI"
    chained = codecs.get_codec("json") | codecs.get_codec("binary")
    assert chained.loads(chained.dumps({"a": 1})) == {"a": 1}
    with caplog.at_level("WARNING"):
        assert codecs.loads("pickle", codecs.dumps("pickle", {1, 2})) == {1, 2}
    assert "pickle" in caplog.text


def test_faust_schema_api() -> None:
    schema = faust.Schema(
        key_type=str, value_type=int, key_serializer="raw", value_serializer="json"
    )
    assert schema.loads_key(schema.dumps_key("k")) == "k"
    assert schema.loads_value(schema.dumps_value(5)) == 5


def test_frozen_records_hash_and_refuse_changes() -> None:
    import dataclasses

    class Key(faust.Record, frozen=True):
        a: int
        b: str

    key = Key(1, "x")
    assert hash(key) == hash(Key(1, "x")) and {key: 1}[Key(1, "x")] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.a = 2  # type: ignore[misc]


def test_coerce_and_options_from_meta() -> None:
    class Coerced(faust.Record):
        when: datetime.datetime
        amount: decimal.Decimal
        uid: uuid.UUID

        class Meta:
            coerce = True
            namespace = "opts.Coerced"

    made = Coerced(when="2024-01-01T00:00:00Z", amount="1.5", uid=str(uuid.UUID(int=1)))  # type: ignore[arg-type]
    assert made.when == datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    assert made.amount == decimal.Decimal("1.5") and made.uid == uuid.UUID(int=1)
    assert faust.models.registry["opts.Coerced"] is Coerced
