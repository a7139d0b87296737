# ruff: noqa: B023  (each lambda is timed within its own loop iteration)
"""Codec micro-benchmark: records/s of generated vs generic codecs, JSON and Avro.

Not a test (no assertions); prints rates and ratios. Run::

    .venv/bin/python bench/codecs.py

It builds a small app (the Records below) with faustc's generator and imports the worker,
so the generated codecs are installed; "generic" rows run with them suspended (the
reference runtime). Avro rows also compare ways of reading datums:

- ``fastavro.schemaless_reader``, one call per datum (parses the schema on every call);
- ``datum_reader`` (faust.serializers.avro), one call per datum, schema parsed once;
- fastavro reading the whole batch as one Avro array in one call: fast, but Avro records
  carry no length, so a datum one byte short or long shifts every datum after it into
  garbage. Not usable for a topic (one bad message must not corrupt its neighbours);
  listed for the comparison only.

Batch rows decode 1,000 ``confluent_kafka.Message`` objects per call, as a compiled agent
would (``Topic.value_batch_loader()``) against the per-message loop it runs today. Each
figure is the best of several rounds (the machine is shared and noisy).
"""

from __future__ import annotations

import datetime
import decimal
import io
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import orjson
from confluent_kafka import Message

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

APP = """
import datetime, decimal, enum, uuid
import faust
from faust import DecimalField
app = faust.App("bench")
class Kind(enum.Enum):
    A = "a"
    B = "b"
class Small(faust.Record, namespace="bench.Small"):
    order_id: str
    account_id: str
    amount: float
class Wide(faust.Record, namespace="bench.Wide"):
    a: str
    b: str
    c: int
    d: int
    e: float
    f: float
    g: bool
    h: list[str]
    i: datetime.datetime
    k: Kind
    j: decimal.Decimal = DecimalField(max_digits=12, decimal_places=2)
small = app.topic("small", value_type=Small)
wide = app.topic("wide", value_type=Wide)
small_avro = app.topic("small-avro", value_type=Small, value_serializer="avro")
wide_avro = app.topic("wide-avro", value_type=Wide, value_serializer="avro")
"""

BATCH = 1000


class Cases:
    """Cases timed in interleaved rounds; each reports its best round (a shared, noisy
    machine disturbs some rounds, and interleaving spreads that over every case)."""

    def __init__(self) -> None:
        self.cases: list[tuple[str, Callable[[], Any], int, int]] = []

    def add(
        self, name: str, fn: Callable[[], Any], per_call: int = 1, number: int = 20_000
    ) -> None:
        """``fn`` handles ``per_call`` records; each round calls it ``number`` times."""
        self.cases.append((name, fn, per_call, number))

    def rates(self, rounds: int = 7) -> dict[str, float]:
        best: dict[str, float] = {}
        for _ in range(rounds):
            for name, fn, per_call, number in self.cases:
                elapsed = timeit.timeit(fn, number=number)
                best[name] = max(best.get(name, 0.0), number * per_call / elapsed)
        return best


def zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def main() -> None:
    from test_differential import load_worker

    from faust.serializers import generated
    from faust.serializers.avro import avro_schema, datum_reader, record_to_datum
    from faust.serializers.codecs import CodecContext
    from faust.serializers.schemas import make_batch_loader, make_dumper, make_loader

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bench_app.py"
        source.write_text(APP)
        worker = load_worker(source, Path(tmp) / "build")
        m = worker.app_module
        context = CodecContext(registry=m.app.codecs)  # the worker installed its codecs there
        small = m.Small("o1", "acct-7", 1234.5)
        wide = m.Wide(
            "a",
            "b",
            1,
            2,
            1.5,
            2.5,
            True,
            ["x", "y"],
            datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC),
            m.Kind.B,
            decimal.Decimal("9.95"),
        )
        for record in (small, wide):
            typ = type(record)
            print(f"{typ.__name__} ({len(typ._options.fields)} fields), records/s:")
            data = make_dumper(typ, "json", context=context)(record)
            json_load, json_dump = (
                make_loader(typ, "json", context=context),
                make_dumper(typ, "json", context=context),
            )
            with generated.suspended():
                json_load_ref, json_dump_ref = (
                    make_loader(typ, "json", context=context),
                    make_dumper(typ, "json", context=context),
                )
            json = Cases()
            json.add("orjson.loads (a dict)", lambda: orjson.loads(data))
            json.add("generated decode", lambda: json_load(data))
            json.add("generic decode", lambda: json_load_ref(data))
            json.add("generated encode", lambda: json_dump(record))
            json.add("generic encode", lambda: json_dump_ref(record))
            rates = json.rates()
            base = rates["orjson.loads (a dict)"]
            for name, r in rates.items():
                print(f"  JSON  {name:32s} {r:12,.0f}   ({r / base:.2f}x orjson.loads)")

            schema = avro_schema(typ)
            parsed = fastavro.parse_schema(schema, named_schemas={})
            array = fastavro.parse_schema({"type": "array", "items": schema}, named_schemas={})
            avro_bytes = make_dumper(typ, "avro", context=context)(record)
            read = datum_reader(schema)
            many = [avro_bytes] * BATCH
            avro_load, avro_dump = (
                make_loader(typ, "avro", context=context),
                make_dumper(typ, "avro", context=context),
            )
            avro_batch = make_batch_loader(typ, "avro", context=context)
            with generated.suspended():
                avro_load_ref, avro_dump_ref = (
                    make_loader(typ, "avro", context=context),
                    make_dumper(typ, "avro", context=context),
                )
            messages = [
                Message(topic="t", partition=0, offset=i, value=avro_bytes) for i in range(BATCH)
            ]

            def per_message(load: Callable[..., Any] = avro_load) -> None:
                for message in messages:
                    load(message.value())

            avro = Cases()
            avro.add(
                "fastavro.schemaless_reader",
                lambda: fastavro.schemaless_reader(io.BytesIO(avro_bytes), parsed, None),
            )
            avro.add("datum_reader (bytes -> dict)", lambda: read(avro_bytes))
            avro.add(
                f"one array of {BATCH} (unsafe)",
                lambda: fastavro.schemaless_reader(
                    io.BytesIO(zigzag(BATCH) + b"".join(many) + b"\x00"), array, None
                ),
                BATCH,
                20,
            )
            avro.add("generated decode", lambda: avro_load(avro_bytes))
            avro.add("generic decode", lambda: avro_load_ref(avro_bytes))
            avro.add("generated, per-message loop", per_message, BATCH, 20)
            avro.add("generated, batch loader", lambda: avro_batch(messages), BATCH, 20)
            datum = record_to_datum(typ)(record)

            def public_write() -> bytes:
                buffer = io.BytesIO()
                fastavro.schemaless_writer(buffer, parsed, datum)
                return buffer.getvalue()

            avro.add("fastavro.schemaless_writer", public_write)
            avro.add("generated encode", lambda: avro_dump(record))
            avro.add("generic encode", lambda: avro_dump_ref(record))
            rates = avro.rates()
            base = rates["fastavro.schemaless_reader"]
            for name, r in rates.items():
                print(f"  Avro  {name:32s} {r:12,.0f}   ({r / base:.2f}x schemaless_reader)")


if __name__ == "__main__":
    main()
