"""Avro: generated datum <-> Record converters against the generic (reference) ones, the
strict datum reader, and batch decoding with per-message error isolation.

The generated converters come from building tests/apps/records_app.py; ``AvroEverything``
there has a field of every type Avro carries.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import io
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import pytest
from confluent_kafka import Message
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_differential import load_worker

import faust
from faust.exceptions import ValueDecodeError
from faust.serializers import avro, generated
from faust.serializers.avro import (
    AvroDatumError,
    avro_schema,
    datum_reader,
    fastavro_io,
    record_from_datum,
    record_to_datum,
    registry_client,
)
from faust.serializers.codecs import CodecContext, DecodeFailed
from faust.serializers.schemas import make_batch_loader, make_decoder, make_dumper, make_loader

APPS = Path(__file__).parent / "apps"


def app_context(m: Any) -> CodecContext:
    """The records app's codecs: its built worker installed the generated ones there."""
    return CodecContext(registry=m.app.codecs)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_worker(APPS / "records_app.py", tmp_path_factory.mktemp("build"))


utc = st.datetimes(
    min_value=datetime.datetime(1900, 1, 1),
    max_value=datetime.datetime(2200, 1, 1),
    timezones=st.just(datetime.UTC),
)
millis = utc.map(lambda at: at.replace(microsecond=at.microsecond // 1000 * 1000))
text = st.text(max_size=8)


def avro_everything(m: Any) -> st.SearchStrategy[Any]:
    points = st.builds(m.Point, st.integers(-(2**62), 2**62), st.integers(-5, 5))
    colors = st.sampled_from(list(m.Color))
    return st.builds(
        m.AvroEverything,
        text=text,
        number=st.integers(-(2**63), 2**63 - 1),
        real=st.floats(allow_nan=False),
        flag=st.booleans(),
        blob=st.binary(max_size=12),
        money=st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
        at=utc,
        at_millis=millis,
        at_zoned=utc,
        zoned_history=st.lists(utc, max_size=2),
        day=st.dates(),
        uid=st.uuids(),
        color=colors,
        size=st.sampled_from(list(m.Size)),
        mode=st.sampled_from(["on", "off"]),
        level=st.sampled_from([1, 2, 3]),
        point=points,
        points=st.lists(points, max_size=3),
        by_name=st.dictionaries(text, points, max_size=2),
        colors=st.lists(colors, max_size=3),
        color_sets=st.dictionaries(text, st.sets(colors), max_size=2),
        tags=st.sets(text, max_size=3),
        frozen_tags=st.frozensets(st.integers(-9, 9), max_size=3),
        numbers=st.lists(st.integers(0, 9), max_size=3).map(tuple),
        nested=st.lists(st.lists(colors, max_size=2), max_size=2),
        counts=st.dictionaries(text, st.integers(-9, 9), max_size=3),
        maybe=st.one_of(st.none(), points),
        maybe_color=st.one_of(st.none(), colors),
        maybe_at=st.one_of(st.none(), utc),
        trimmed=st.text(alphabet=" ab", max_size=5),
        renamed=text,
        hidden=st.integers(0, 9),
        extras=st.lists(text, max_size=2),
        shout=text,
    )


def typed(value: Any) -> Any:
    """``value`` with every type made explicit (so 1 and 1.0 and True differ), sets sorted,
    floats by their repr."""
    if isinstance(value, faust.Record):
        return (type(value).__qualname__, {k: typed(v) for k, v in vars(value).items()})
    if isinstance(value, dict):
        return ("dict", sorted((repr(typed(k)), typed(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return (type(value).__name__, sorted(repr(typed(item)) for item in value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, datetime.datetime):
        return ("datetime", value.isoformat(), str(value.tzinfo))
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.name)
    if isinstance(value, float):  # by its repr: nan equals nan, -0.0 differs from 0.0
        return ("float", repr(value))
    return (type(value).__name__, value)


SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(data=st.data())
def test_generated_and_generic_converters_agree(worker: Any, data: st.DataObject) -> None:
    m = worker.app_module
    record = data.draw(avro_everything(m))
    generic_to, generic_from = (
        record_to_datum(m.AvroEverything),
        record_from_datum(m.AvroEverything),
    )
    fast_to, fast_from = worker._avro_datum_avro_everything, worker._avro_record_avro_everything
    # record -> datum
    datum = generic_to(record)
    assert typed(fast_to(record)) == typed(datum)
    # datum (as fastavro reads it back) -> record
    schema = fastavro.parse_schema(avro_schema(m.AvroEverything), named_schemas={})
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, datum)
    read = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), schema, None)
    assert typed(fast_from(read)) == typed(generic_from(read))
    read["shout"], read["trimmed"] = "quiet", "  spaced "  # what the descriptors prepare
    assert typed(fast_from(read)) == typed(generic_from(read))
    assert (fast_from(read).shout, fast_from(read).trimmed) == ("QUIET", "spaced")
    # the whole codec, generated vs the reference runtime: the same bytes, the same records
    dumper, loader = (
        make_dumper(m.AvroEverything, "avro", context=app_context(m)),
        make_loader(m.AvroEverything, "avro", context=app_context(m)),
    )
    with generated.suspended():
        reference_bytes = make_dumper(m.AvroEverything, "avro", context=app_context(m))(record)
        reference_record = make_loader(m.AvroEverything, "avro", context=app_context(m))(
            reference_bytes
        )
    assert dumper(record) == reference_bytes == buffer.getvalue()
    decoded = loader(reference_bytes)
    assert typed(decoded) == typed(reference_record)
    assert decoded.trimmed == record.trimmed.strip() and decoded.hidden == 7
    assert decoded.at == record.at and decoded.at_zoned == record.at_zoned
    assert str(decoded.at_zoned.tzinfo) == "Europe/Paris"


@SETTINGS
@given(region=text, shard=st.integers(-(2**31), 2**31))
def test_frozen_records_decode_through_generated_converters(
    worker: Any, region: str, shard: int
) -> None:
    m = worker.app_module
    key = m.FrozenKey(region, shard)
    data = make_dumper(m.FrozenKey, "avro", context=app_context(m))(key)
    decoded = make_loader(m.FrozenKey, "avro", context=app_context(m))(data)
    assert decoded == key and hash(decoded) == hash(key)
    with generated.suspended():
        assert make_loader(m.FrozenKey, "avro", context=app_context(m))(data) == decoded


def test_generated_converters_are_installed(worker: Any) -> None:
    m = worker.app_module
    for model in (m.AvroEverything, m.Point, m.FrozenKey, m.Reading):
        installed = m.app.codecs.generated(model)
        assert installed is not None and installed.to_avro and installed.from_avro, model
    assert m.app.codecs.generated(m.Everything).to_avro is None  # JSON only  # type: ignore[union-attr]


# -- the generated writer of primitive-only Records ----------------------------------------


class Text(str):
    """A str subclass: not exactly the declared type, so fastavro decides how to write it."""


def _avro_primitives(m: Any, *, odd_values: bool = True) -> st.SearchStrategy[Any]:
    """AvroPrimitives with values of the declared types and, now and then (``odd_values``),
    of others (an int where a float is declared, a bool for an int, None, a str subclass,
    too large ints, bytes for text): the generated writer must match fastavro for all."""
    long_ = st.integers(-(2**63), 2**63 - 1)
    odd = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        text.map(Text),
        st.binary(max_size=3),
        text,
    )

    def sometimes(usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(usual, usual, usual, odd) if odd_values else usual

    def maybe(usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return sometimes(st.one_of(st.none(), usual))

    return st.builds(
        m.AvroPrimitives,
        text=sometimes(text),
        number=sometimes(long_),
        real=sometimes(st.floats()),
        flag=sometimes(st.booleans()),
        blob=sometimes(st.binary(max_size=12)),
        maybe_text=maybe(text),
        maybe_number=maybe(long_),
        maybe_real=maybe(st.floats(allow_nan=False)),
        maybe_flag=maybe(st.booleans()),
        maybe_blob=maybe(st.binary(max_size=4)),
        text_first=maybe(text),
        renamed=sometimes(st.integers(-200, 200)),
    )


def _written(write: Callable[[Any], bytes], record: Any) -> bytes | str:
    try:
        return write(record)
    except Exception as exc:
        return f"raised {type(exc).__name__}"


@SETTINGS
@given(data=st.data())
def test_the_generated_avro_writer_writes_what_fastavro_writes(
    worker: Any, data: st.DataObject
) -> None:
    m = worker.app_module
    record = data.draw(_avro_primitives(m))
    with generated.suspended():
        reference = make_dumper(m.AvroPrimitives, "avro", context=app_context(m))
    installed = m.app.codecs.generated(m.AvroPrimitives)
    assert worker.encode_avro_primitives_avro is avro.avro_type(m.AvroPrimitives).writer(installed)
    written = _written(make_dumper(m.AvroPrimitives, "avro", context=app_context(m)), record)
    assert written == _written(reference, record)
    if isinstance(written, bytes):
        assert (
            make_loader(m.AvroPrimitives, "avro", context=app_context(m))(written).text
            == record.text
        )


def _mangled(data: bytes, draw: Any) -> bytes:
    """``data`` cut short, extended, or with a byte changed (the bytes of a bad message)."""
    how = draw(st.sampled_from(["as is", "cut", "extend", "flip"]))
    if how == "cut":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if how == "extend":
        return data + draw(st.binary(min_size=1, max_size=3))
    if how == "flip" and data:
        index = draw(st.integers(0, len(data) - 1))
        return data[:index] + bytes([draw(st.integers(0, 255))]) + data[index + 1 :]
    return data


def _read(loads: Callable[[bytes], Any], data: bytes) -> Any:
    try:
        return typed(loads(data))
    except ValueDecodeError:
        return "ValueDecodeError"


@SETTINGS
@given(data=st.data())
def test_the_generated_avro_reader_reads_what_fastavro_reads(
    worker: Any, data: st.DataObject
) -> None:
    """Every datum of the schema (lengths of one byte and more, every union branch, large
    longs), and the same bytes mangled: the generated reader returns the record fastavro's
    path returns, or fails as it does."""
    m = worker.app_module
    record = data.draw(_avro_primitives(m, odd_values=False))
    with generated.suspended():
        reference_dump = make_dumper(m.AvroPrimitives, "avro", context=app_context(m))
        reference_load = make_loader(m.AvroPrimitives, "avro", context=app_context(m))
    try:
        written = reference_dump(record)
    except Exception:
        written = None
    assume(written is not None)  # values fastavro will not write
    assert written is not None
    if data.draw(st.booleans()):
        written = _mangled(written, data.draw)
    installed = m.app.codecs.generated(m.AvroPrimitives)
    assert avro.avro_type(m.AvroPrimitives).generated_reader(installed) is (
        worker.decode_avro_primitives_avro
    )
    assert _read(make_loader(m.AvroPrimitives, "avro", context=app_context(m)), written) == _read(
        reference_load, written
    )


@SETTINGS
@given(data=st.data())
def test_the_avro_view_reads_the_fields_the_reader_reads(worker: Any, data: st.DataObject) -> None:
    """``fields_only`` on an avro topic gives the generated view: for every datum, and the
    same bytes mangled, it has the fields of the record the full loader returns (or is
    that record, when the datum is out of the ordinary), or fails as the loader does."""
    m = worker.app_module
    record = data.draw(
        st.builds(
            m.AvroFlat,
            name=text,
            count=st.integers(-(2**63), 2**63 - 1),
            share=st.floats(),
            flag=st.booleans(),
            blob=st.binary(max_size=300),
            note=st.one_of(st.none(), text),
        )
    )
    written = make_dumper(m.AvroFlat, "avro", context=app_context(m))(record)
    if data.draw(st.booleans()):
        written = _mangled(written, data.draw)
    names = list(m.AvroFlat._options.fields)

    def fields(loads: Callable[[bytes], Any]) -> Any:
        try:
            value = loads(written)
        except ValueDecodeError as exc:
            return str(exc)
        return [repr(getattr(value, name)) for name in names]

    view = make_loader(m.AvroFlat, "avro", fields_only=True, context=app_context(m))
    assert fields(view) == fields(make_loader(m.AvroFlat, "avro", context=app_context(m)))
    decode, _ = make_decoder(m.AvroFlat, "avro", fields_only=True, context=app_context(m))
    assert decode is worker.view_avro_flat_avro


def test_the_generated_avro_reader_takes_long_lengths_and_leaves_the_rest_to_fastavro(
    worker: Any,
) -> None:
    m = worker.app_module
    loads = make_loader(m.Point, "avro", context=app_context(m))
    assert loads(avro.write_long(2**40) + avro.write_long(-(2**62))) == m.Point(2**40, -(2**62))
    assert loads(b"\x80\x00\x02") == m.Point(0, 1)  # a long written in more bytes than needed
    # a 10-byte long beyond 64 bits: fastavro's reading of it, whatever that is
    odd = b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x03\x00"
    with generated.suspended():
        assert loads(odd) == make_loader(m.Point, "avro", context=app_context(m))(odd)
    with pytest.raises(ValueDecodeError, match="got no value"):
        loads(None)  # type: ignore[arg-type]
    long_text = "é" * 100
    primitives = m.AvroPrimitives(long_text, 1, 1.0, True, b"x" * 300, maybe_text=long_text)
    data = make_dumper(m.AvroPrimitives, "avro", context=app_context(m))(primitives)
    assert make_loader(m.AvroPrimitives, "avro", context=app_context(m))(data) == primitives


def test_the_generated_avro_writer_is_used_only_for_its_schema(worker: Any) -> None:
    m = worker.app_module
    for model, writer in (
        (m.AvroPrimitives, worker.encode_avro_primitives_avro),
        (m.Point, worker.encode_point_avro),
        (m.FrozenKey, worker.encode_frozen_key_avro),
    ):
        assert avro.avro_type(model).writer(m.app.codecs.generated(model)) is writer
    assert not hasattr(worker, "encode_avro_everything_avro")  # nested types: fastavro writes
    assert m.app.codecs.generated(m.AvroEverything).avro_dumps is None  # type: ignore[union-attr]
    # a schema the compiler did not write the function for (another field, say): fastavro
    installed = m.app.codecs.generated(m.Point)
    assert installed is not None
    other = dataclasses.replace(installed, avro_schema="{}")
    fresh = avro.AvroType(m.Point)
    assert fresh.writer(other) is not worker.encode_point_avro
    assert fresh.generated_reader(other) is None
    assert fresh.writer(other)(m.Point(3, -4)) == worker.encode_point_avro(m.Point(3, -4))


def test_avro_longs_are_written_as_fastavro_writes_them() -> None:
    write = avro.datum_writer(
        {"type": "record", "name": "L", "fields": [{"name": "n", "type": "long"}]}
    )
    edges = [0, 1, -1, 63, -64, 64, -65, 8191, 8192, -8193, 2**31, 2**62, -(2**63), 2**63 - 1]
    for n in edges:
        assert avro.write_long(n) == write({"n": n}), n
    for n in (2**63, -(2**63) - 1):
        with pytest.raises(OverflowError):
            avro.write_long(n)
    assert avro.write_string("é") == b"\x04\xc3\xa9"


# -- the datum reader -------------------------------------------------------------------


POINT = {
    "type": "record",
    "name": "P",
    "fields": [{"name": "name", "type": "string"}, {"name": "n", "type": "long"}],
}


def _datum(value: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(POINT), value)
    return buffer.getvalue()


@pytest.mark.parametrize("direct", [True, False], ids=["fastavro-internal", "public-reader"])
def test_datum_reader_insists_on_one_whole_datum(direct: bool) -> None:
    read = datum_reader(POINT) if direct else _public_reader(POINT)
    good = _datum({"name": "hello", "n": 5})
    assert read(good) == {"name": "hello", "n": 5}
    assert read(b"\x00" * 5 + good, 5) == {"name": "hello", "n": 5}
    with pytest.raises(AvroDatumError, match="2 of 9 bytes left after the datum"):
        read(good + b"xx")
    with pytest.raises(AvroDatumError, match="ends early"):
        read(good[:3])
    with pytest.raises(AvroDatumError, match="ends early"):
        read(b"")
    with pytest.raises(AvroDatumError, match="not a datum of the schema"):
        read(b"\xff" * 11)


def _public_reader(schema: Any) -> Callable[..., Any]:
    """A datum reader over fastavro's public reader (what runs when the probe fails)."""

    original = fastavro_io._direct_read_data
    fastavro_io._direct_read_data = lambda: None  # type: ignore[assignment]
    try:
        return datum_reader(schema)
    finally:
        fastavro_io._direct_read_data = original


def test_the_fastavro_probes_find_the_internal_reader_and_writer() -> None:
    # fastavro's internals behave as its public functions on the probes (see datum_reader);
    # when a fastavro release changes them, the public ones take over (tested here too)
    assert fastavro_io._direct_read_data() is not None
    assert fastavro_io._direct_write_data() is not None
    value = {"name": "hé", "n": -(2**40)}
    original = fastavro_io._direct_write_data
    fastavro_io._direct_write_data = lambda: None  # type: ignore[assignment]
    try:
        public = avro.datum_writer(POINT)
    finally:
        fastavro_io._direct_write_data = original
    assert public(value) == avro.datum_writer(POINT)(value) == _datum(value)


def test_a_confluent_framed_message_on_an_avro_topic_is_an_error(worker: Any) -> None:
    m = worker.app_module
    reading = m.Reading("s1", 1.5, datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    data = make_dumper(m.Reading, "avro", context=app_context(m))(reading)
    with pytest.raises(ValueDecodeError, match=r"records\.Reading.*bytes left after the datum"):
        make_loader(m.Reading, "avro", context=app_context(m))(struct.pack(">bI", 0, 1) + data)


# -- batch decoding -----------------------------------------------------------------------


def _messages(values: list[bytes | None], topic: str = "readings") -> list[Message]:
    return [
        Message(topic=topic, partition=2, offset=100 + index, key=b"k", value=value)
        for index, value in enumerate(values)
    ]


@pytest.mark.parametrize("use_generated", [True, False], ids=["generated", "generic"])
def test_batch_decoding_isolates_each_bad_message(worker: Any, use_generated: bool) -> None:
    m = worker.app_module
    readings = [
        m.Reading(f"s{i}", float(i), datetime.datetime(2024, 1, 1, i, tzinfo=datetime.UTC))
        for i in range(6)
    ]
    good = [make_dumper(m.Reading, "avro", context=app_context(m))(r) for r in readings]
    values: list[bytes | None] = list(good)
    values[1] = good[1][:4]  # truncated
    values[3] = good[3] + b"\x00"  # a byte too many: would shift its neighbours in an array
    values[4] = b"\xff" * 9  # garbage
    messages = _messages(values)
    with generated.suspended() if not use_generated else _nothing():
        load_batch = make_batch_loader(m.Reading, "avro", context=app_context(m))
        load_one = make_loader(m.Reading, "avro", context=app_context(m))
    decoded = load_batch(messages)
    assert len(decoded) == 6
    assert [decoded[i] for i in (0, 2, 5)] == [readings[i] for i in (0, 2, 5)]
    for index in (1, 3, 4):
        failed = decoded[index]
        assert type(failed) is DecodeFailed
        assert isinstance(failed.error, ValueDecodeError)
        assert failed.error.record == "records.Reading"
        with pytest.raises(ValueDecodeError) as one:
            load_one(values[index])
        assert str(failed.error) == str(one.value)  # exactly what the per-message loader says
    # a null value in the batch (no Record): the per-message rule, still one entry each
    decoded = load_batch(_messages([good[0], None, good[2]]))
    assert decoded[0] == readings[0] and decoded[2] == readings[2]
    assert type(decoded[1]) is DecodeFailed and "got no value (null)" in str(decoded[1].error)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_batch_decoding_of_other_codecs_matches_per_message(worker: Any) -> None:
    m = worker.app_module
    point_bytes = [b'{"x": 1}', b'{"x": "one"}', b"[", b'{"x": 2, "y": 3}']
    decoded = make_batch_loader(m.Point, "json", context=app_context(m))(
        _messages(point_bytes)
    )  # generated JSON
    assert decoded[0] == m.Point(1) and decoded[3] == m.Point(2, 3)
    assert all(type(decoded[i]) is DecodeFailed for i in (1, 2))
    words = make_batch_loader(str, "json")(_messages([b'"a"', b"nope", None]))
    assert words[0] == "a" and type(words[1]) is DecodeFailed and words[2] is None
    keys = make_batch_loader(str, "raw", is_key=True)(_messages([b"x", b"y"]))
    assert keys == ["k", "k"]


def test_batch_decoding_reads_the_confluent_header_form(worker: Any) -> None:
    from confluent_kafka.schema_registry import header_schema_id_serializer
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    m = worker.app_module
    url = "mock://issue3-batch"
    app = faust.App("confluent-batch", schema_registry_url=url)
    topic = app.topic("sensor-batch", value_type=m.Reading, value_serializer="avro-confluent")
    readings = [
        m.Reading(f"s{i}", float(i), datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC))
        for i in range(3)
    ]
    serializer = AvroSerializer(
        registry_client(url),
        avro.avro_type(m.Reading).schema_text,
        conf={"schema.id.serializer": header_schema_id_serializer},
    )
    messages = []
    for offset, reading in enumerate(readings):
        headers: list[tuple[str, bytes | None]] = []
        ctx = SerializationContext("sensor-batch", MessageField.VALUE, headers)
        bare = serializer(record_to_datum(m.Reading)(reading), ctx)
        messages.append(
            Message(topic="sensor-batch", partition=0, offset=offset, value=bare, headers=headers)
        )
    prefixed = topic.schema.dumps_value(readings[0])
    messages.append(Message(topic="sensor-batch", partition=0, offset=3, value=prefixed))
    messages.append(Message(topic="sensor-batch", partition=0, offset=4, value=b"\x07oops"))
    decoded = topic.value_batch_loader()(messages)
    assert decoded[:4] == [*readings, readings[0]]
    assert type(decoded[4]) is DecodeFailed and "magic byte 7" in str(decoded[4].error)


def test_decimal_precision_survives_both_paths(worker: Any) -> None:
    m = worker.app_module
    reading = m.Reading(
        "s",
        0.5,
        datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        price=decimal.Decimal("-12.345"),
    )
    data = make_dumper(m.Reading, "avro", context=app_context(m))(reading)
    assert make_loader(m.Reading, "avro", context=app_context(m))(data).price == decimal.Decimal(
        "-12.345"
    )


def test_record_loads_reads_what_record_dumps_wrote_with_the_record_s_serializer() -> None:
    """``Record.loads(data)`` on a Record with ``serializer='avro'`` reads by the Record's
    schema, as ``dumps()`` writes (Faust's ``Model.loads``: the class's serializer)."""

    class Sample(faust.Record, serializer="avro", namespace="tests.Sample"):
        sensor: str
        value: float
        at: datetime.datetime

    sample = Sample("s1", 2.5, datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC))
    data = sample.dumps()
    assert Sample.loads(data) == sample
    assert Sample.loads(sample.dumps(serializer="json"), serializer="json") == sample
    with pytest.raises(AvroDatumError, match="left after the datum"):
        Sample.loads(data + b"\x00")  # one whole datum, as a topic's loader insists
