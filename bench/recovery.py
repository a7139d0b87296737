"""The ``recovery`` scenario: restore a table's changelog into an empty RocksDB directory.

A worker that takes a partition over (a new worker, a lost disk, a rebalance) first
restores the partition's tables from their changelogs. This scenario preloads the
changelog of ``bench/apps/stateful_table.py``'s ``totals`` table with N records, then
measures, one after the other and alternating which goes first:

- the worker built from ``bench/apps/stateful_table.py`` (its input topic empty), started
  with an empty ``--datadir``: from its ``assigned`` log line (the group join is over; the
  stores are about to open) to its ``recovered ...`` line (every partition at its end);
- ``bench/raw_loops.py``'s ``recovery`` loop (a consumer assigned to the four changelog
  partitions, the worker's reader settings, one rocksdict ``WriteBatch`` per consumed
  partition batch): from its ``restoring`` line to its ``restored`` line;

then starts each once more on the directory it filled (**up to date**: nothing to replay)
and times the same window. The harness sees each line within its 25 ms polling interval
and samples the process's CPU as for every scenario (``bench/measure.py``), so records/s
and CPU µs per record cover the restore alone, not start-up or the group join. After each
run the harness opens the RocksDB directories and checks them against the changelog's last
value per key and its end offsets (**exact**, or the run fails).

Two changelogs (``VARIANTS``): ``distinct`` (every record a new key: N keys, as a table of
orders by id) and ``repeated`` (the running ``[count, sum]`` of 1,000 accounts, one record
per order: what ``stateful_table`` writes when Faust sends one record per update).
Example::

    python bench/run.py --scenarios recovery --messages 1000000 --repetitions 3
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Producer
from data import PARTITIONS, Order
from measure import ChildRun, RunFailed, run_child

#: the table restored: stateful_table's, so the worker is the one the bench already builds
APP = "stateful_table.py"
TABLE = "totals"
CHANGELOG = "bench-stateful-table-totals-changelog"
RAW_CHANGELOG = "raw-recovery-changelog"
VARIANTS = ("distinct", "repeated")
#: what ends each side's restore in its log, and what starts it
WORKER_START, WORKER_END = b"faust.worker: assigned ", b"faust.recovery: recovered "
RAW_START, RAW_END = b"restoring", b"restored "

Records = list[tuple[bytes, bytes]]


def changelog_records(orders: list[Order], variant: str) -> Records:
    """The changelog: ``distinct``: one key per order (``"o0000001"`` -> ``[1, amount]``);
    ``repeated``: the running ``[count, sum]`` of the order's account, as Faust writes it
    (keys and values JSON, as a table of ``str`` to ``list``)."""
    dumps = orjson.dumps
    if variant == "distinct":
        return [(dumps(o.order_id), dumps([1, o.amount])) for o in orders]
    totals: dict[str, list[Any]] = {}
    records: Records = []
    for o in orders:
        state = totals.setdefault(o.account_id, [0, 0.0])
        state[0] += 1
        state[1] += o.amount
        records.append((dumps(o.account_id), dumps(state)))
    return records


def preload(bootstrap: str, topic: str, records: Records) -> dict[int, int]:
    """Produce ``records`` keyed (murmur2, as Kafka's clients partition); return each
    partition's end offset."""
    ends: dict[int, int] = {}
    errors: list[str] = []

    def delivered(error: Any, message: Any) -> None:
        if error is not None:
            errors.append(str(error))
        else:
            ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "enable.idempotence": True,
        }
    )
    for key, value in records:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120) or errors:
        raise SystemExit(f"preloading {topic} failed: {errors[:1]}")
    return ends


def expected_stores(records: Records) -> dict[bytes, bytes]:
    """The last value of every key (every key lives in one partition)."""
    latest: dict[bytes, bytes] = {}
    for key, value in records:
        latest[key] = value
    return latest


class LogMarkers:
    """Progress read from a process's log: 0 until ``start`` appears, 1 until ``end``
    does, then 2 (``run_child`` stops the process at 2)."""

    def __init__(self, path: Path, start: bytes, end: bytes) -> None:
        self.path, self.start, self.end = path, start, end
        self.state = 0
        self.end_line = b""
        self._seen = b""

    def __call__(self) -> int:
        if self.state == 2:
            return 2
        try:
            with self.path.open("rb") as log:
                log.seek(len(self._seen))
                self._seen += log.read()
        except FileNotFoundError:
            return 0
        if self.state == 0 and self.start in self._seen:
            self.state = 1
        if self.state == 1:
            at = self._seen.find(self.end, self._seen.find(self.start))
            if at >= 0 and b"\n" in self._seen[at:]:
                self.state = 2
                self.end_line = self._seen[at : self._seen.index(b"\n", at)]
        return self.state


@dataclasses.dataclass
class Restore:
    """One measured restore: the window from the start line to the end line."""

    seconds: float
    cpu_seconds: float
    records: int
    rss_mb: float

    def figures(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "records": self.records,
            "records_s": self.records / self.seconds if self.seconds > 0 else 0.0,
            "cpu_us_per_record": self.cpu_seconds / self.records * 1e6 if self.records else 0.0,
            "cpu_s": round(self.cpu_seconds, 3),
            "rss_mb": round(self.rss_mb, 1),
        }


def window(run: ChildRun) -> tuple[float, float]:
    """(seconds, CPU seconds) from the first sample that saw the start line to the first
    that saw the end line."""
    first = next(s for s in run.samples if s.progress >= 1)
    last = next(s for s in run.samples if s.progress >= 2)
    return last.time - first.time, last.cpu - first.cpu


def run_restore(
    side: str,
    *,
    argv: list[str],
    env: dict[str, str],
    log_path: Path,
    broker_pid: int,
    records: int,
    timeout: float,
) -> Restore:
    start, end = (WORKER_START, WORKER_END) if side == "worker" else (RAW_START, RAW_END)
    markers = LogMarkers(log_path, start, end)
    run = run_child(
        argv,
        log_path,
        progress=markers,
        target=2,
        broker_pid=broker_pid,
        timeout=timeout,
        env=env,
        interval=0.01,
    )
    seconds, cpu = window(run)
    return Restore(seconds, cpu, records, run.peak_rss_mb)


def read_stores(directories: list[Path]) -> tuple[dict[bytes, bytes], dict[int, int]]:
    """Every key and value of the RocksDB stores (raw mode, the worker's layout: offsets in
    the ``__faust__`` column family), and the changelog offset each says it applied."""
    from rocksdict import AccessType, Options, Rdict

    contents: dict[bytes, bytes] = {}
    offsets: dict[int, int] = {}
    for partition, path in enumerate(directories):
        options = Options(raw_mode=True)
        db = Rdict(
            str(path),
            options,
            column_families={"__faust__": Options(raw_mode=True)},
            access_type=AccessType.read_only(),
        )
        try:
            for key, value in db.items():
                contents[bytes(key)] = bytes(value)
            meta = db.get_column_family("__faust__")
            for _key, value in meta.items():
                offsets[partition] = int(value)
            meta.close()
        finally:
            db.close()
    return contents, offsets


def verify(side: str, datadir: Path, expected: dict[bytes, bytes], ends: dict[int, int]) -> None:
    if side == "worker":
        directories = [datadir / "tables" / TABLE / str(p) for p in range(PARTITIONS)]
    else:
        directories = [datadir / f"recovery-{p}" for p in range(PARTITIONS)]
    contents, offsets = read_stores(directories)
    if contents != expected:
        missing = len(expected.keys() - contents.keys())
        wrong = sum(1 for k, v in contents.items() if expected.get(k) != v)
        raise RunFailed(
            f"recovery ({side}): {len(contents)} keys restored, {len(expected)} expected; "
            f"{missing} missing, {wrong} wrong or extra"
        )
    want = {p: end - 1 for p, end in ends.items()}
    if offsets != want:
        raise RunFailed(f"recovery ({side}): stores applied up to {offsets}, ends are {want}")


def run_recovery(
    *,
    broker: Any,
    orders: list[Order],
    worker: Path | None,
    work: Path,
    repetitions: int,
    variants: tuple[str, ...],
    worker_env: dict[str, str],
    log: Callable[[str], None],
    create_topics: Callable[[str, list[str]], None],
) -> dict[str, Any]:
    """Every variant: preload its changelog, then ``repetitions`` interleaved pairs of
    restores (and up-to-date restarts) of the worker and the raw loop. Returns the runs'
    figures by variant, side and kind (``empty``, ``up_to_date``)."""
    figures: dict[str, Any] = {}
    bench = Path(__file__).resolve().parent
    for variant in variants:
        records = changelog_records(orders, variant)
        # one topic per side, preloaded alike (the worker's changelog name is its app's)
        create_topics(broker.bootstrap, [CHANGELOG, RAW_CHANGELOG])
        started = time.monotonic()
        ends = preload(broker.bootstrap, CHANGELOG, records)
        raw_ends = preload(broker.bootstrap, RAW_CHANGELOG, records)
        if ends != raw_ends:
            raise RunFailed(f"the two changelogs differ: {ends} against {raw_ends}")
        log(
            f"  recovery/{variant}: preloaded 2 x {len(records):,} changelog records in "
            f"{time.monotonic() - started:.1f}s"
        )
        expected = expected_stores(records)
        runs: dict[str, list[dict[str, Any]]] = {"worker": [], "raw": []}
        for repetition in range(repetitions):
            sides = ["worker", "raw"] if worker is not None else ["raw"]
            if repetition % 2:
                sides.reverse()
            for side in sides:
                datadir = work / f"recovery-{variant}-r{repetition}-{side}"
                if side == "worker":
                    assert worker is not None
                    argv = [sys.executable, str(worker), "worker", "--broker", broker.url]
                    argv += ["--loglevel", "info", "--datadir", str(datadir)]
                    env = worker_env
                else:
                    config = {
                        "scenario": "recovery",
                        "bootstrap": broker.bootstrap,
                        "group": "raw-recovery",
                        "changelog_topic": RAW_CHANGELOG,
                        "datadir": str(datadir),
                        "partitions": PARTITIONS,
                    }
                    argv = [sys.executable, str(bench / "raw_loops.py"), json.dumps(config)]
                    env = {}
                entry: dict[str, Any] = {}
                for kind in ("empty", "up_to_date"):
                    log_path = work / f"recovery-{variant}-r{repetition}-{side}-{kind}.log"
                    restore = run_restore(
                        side,
                        argv=argv,
                        env=env,
                        log_path=log_path,
                        broker_pid=broker.process.pid,
                        records=len(records) if kind == "empty" else 0,
                        timeout=120 + len(records) / 10_000,
                    )
                    verify(side, datadir, expected, ends)
                    entry[kind] = restore.figures()
                empty, again = entry["empty"], entry["up_to_date"]
                log(
                    f"  recovery/{variant:8s} {side:6s} {empty['records_s']:>10,.0f} records/s "
                    f"{empty['cpu_us_per_record']:6.2f} us/record CPU  "
                    f"({empty['seconds']:.2f}s, verified); up to date: {again['seconds']:.2f}s"
                )
                runs[side].append(entry)
        figures[variant] = runs
        delete_topics(broker.bootstrap, [CHANGELOG, RAW_CHANGELOG])
    return figures


def delete_topics(bootstrap: str, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics(names).values():
        future.result()
    deadline = time.monotonic() + 15
    while set(names) & set(admin.list_topics(timeout=5).topics):
        if time.monotonic() > deadline:
            raise RunFailed(f"topics not deleted: {names}")
        time.sleep(0.05)


def summarize(figures: dict[str, Any]) -> dict[str, Any]:
    """Medians by variant: records/s and CPU µs per record of each side, their ratio, and
    the up-to-date restore's seconds."""
    summary: dict[str, Any] = {}
    for variant, runs in figures.items():

        def median(side: str, kind: str, key: str, runs: dict[str, Any] = runs) -> float | None:
            values = [entry[kind][key] for entry in runs[side]]
            return statistics.median(values) if values else None

        worker_rate = median("worker", "empty", "records_s")
        raw_rate = median("raw", "empty", "records_s")
        entry = {
            "records": runs["raw"][0]["empty"]["records"],
            "worker_records_s": round(worker_rate) if worker_rate is not None else None,
            "raw_records_s": round(raw_rate) if raw_rate is not None else None,
            "ratio": round(worker_rate / raw_rate, 3) if worker_rate and raw_rate else None,
            "worker_cpu_us_per_record": _round(median("worker", "empty", "cpu_us_per_record")),
            "raw_cpu_us_per_record": _round(median("raw", "empty", "cpu_us_per_record")),
            "worker_up_to_date_s": _round(median("worker", "up_to_date", "seconds"), 3),
            "raw_up_to_date_s": _round(median("raw", "up_to_date", "seconds"), 3),
            "worker_rss_mb": _round(median("worker", "empty", "rss_mb"), 0),
        }
        summary[variant] = entry
    return summary


def _round(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def print_table(summary: dict[str, Any]) -> None:
    header = (
        f"{'recovery':10s} {'records':>9s} {'worker rec/s':>12s} {'raw rec/s':>10s} "
        f"{'ratio':>6s} {'worker CPU us':>13s} {'raw CPU us':>10s} {'up to date w/r s':>16s}"
    )
    print(header)
    print("-" * len(header))
    for variant, e in summary.items():

        def cell(value: Any, spec: str) -> str:
            return format(value, spec) if isinstance(value, int | float) else "-"

        print(
            f"{variant:10s} {e['records']:>9,} {cell(e['worker_records_s'], ','):>12s} "
            f"{cell(e['raw_records_s'], ','):>10s} {cell(e['ratio'], '.2f'):>6s} "
            f"{cell(e['worker_cpu_us_per_record'], '.2f'):>13s} "
            f"{cell(e['raw_cpu_us_per_record'], '.2f'):>10s} "
            f"{cell(e['worker_up_to_date_s'], '.2f'):>7s} / {cell(e['raw_up_to_date_s'], '.2f')}"
        )
