# ruff: noqa: B023  (each lambda is timed within its own loop iteration)
"""Codec micro-benchmark: records/s of generated vs generic codecs, JSON and Avro.

Not a test (no assertions); prints rates and ratios. Run::

    .venv/bin/python bench/codecs.py

It builds tests/apps/bench_records.py-like Records in memory via faustc's generator.
"""

from __future__ import annotations

import datetime
import decimal
import io
import sys
import tempfile
import timeit
from pathlib import Path

import fastavro
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

APP = """
import datetime, decimal, uuid
import faust
from faust import DecimalField
app = faust.App("bench")
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
    j: decimal.Decimal = DecimalField(max_digits=12, decimal_places=2)
small = app.topic("small", value_type=Small)
wide = app.topic("wide", value_type=Wide)
"""


def rate(fn, number: int = 100_000) -> float:
    return number / min(timeit.repeat(fn, number=number, repeat=3))


def main() -> None:
    from test_differential import load_worker

    from faust.serializers import generated
    from faust.serializers.schemas import make_dumper, make_loader

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bench_app.py"
        source.write_text(APP)
        worker = load_worker(source, Path(tmp) / "build")
        m = worker.app_module
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
            decimal.Decimal("9.95"),
        )
        for record in (small, wide):
            typ = type(record)
            data = make_dumper(typ, "json")(record)
            fast_load, fast_dump = make_loader(typ, "json"), make_dumper(typ, "json")
            with generated.suspended():
                slow_load, slow_dump = make_loader(typ, "json"), make_dumper(typ, "json")
            base = rate(lambda: orjson.loads(data))
            print(f"{typ.__name__} ({len(typ._options.fields)} fields), JSON, records/s:")
            print(f"  orjson.loads (dict only) {base:12,.0f}")
            for name, fn in [
                ("generated decode", lambda: fast_load(data)),
                ("generic decode", lambda: slow_load(data)),
                ("generated encode", lambda: fast_dump(record)),
                ("generic encode", lambda: slow_dump(record)),
            ]:
                r = rate(fn)
                print(f"  {name:24s} {r:12,.0f}   ({r / base:.2f}x orjson.loads)")
            schema = fastavro.parse_schema(
                __import__("faust.serializers.avro", fromlist=["x"]).avro_schema(typ),
                named_schemas={},
            )
            avro_load = make_loader(typ, "avro")
            avro_bytes = make_dumper(typ, "avro")(record)
            raw = rate(lambda: fastavro.schemaless_reader(io.BytesIO(avro_bytes), schema, None))
            r = rate(lambda: avro_load(avro_bytes))
            print(
                f"  avro: fastavro.schemaless_reader {raw:12,.0f}; record decode {r:12,.0f}"
                f" ({r / raw:.2f}x)"
            )


if __name__ == "__main__":
    main()
