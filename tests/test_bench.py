"""The benchmark harness still works: bench/run.py in a tiny mode, outputs verified.

No timing is asserted (machines are noisy); what is checked is that every measured process
committed every message, that its outputs are exactly the expected ones (``--verify`` reads
them back), and that results.json has the shape issues 6 and 16 name. The checks the
harness makes of the recovery, latency, takeover and peer outputs are tested on their own
too (given wrong outputs, they fail), since a tiny run only shows them passing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO

pytestmark = pytest.mark.broker

MESSAGES = 3000
THROUGHPUT = (
    "stateless_json",
    "stateless_avro",
    "stateful_table",
    "windowed",
    "group_by",
    "exactly_once",
)
RESULT_KEYS = {
    "worker_msgs_s",
    "raw_msgs_s",
    "ratio",
    "worker_cpu_us_per_msg",
    "raw_cpu_us_per_msg",
    "worker_rss_mb",
}


def run_bench(tmp_path: Path, *args: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    out = tmp_path / "results.json"
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "run.py"),
            "--messages",
            str(MESSAGES),
            "--repetitions",
            "1",
            "--verify",
            "--commit-interval",
            "0.5",
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    details = json.loads((tmp_path / "results-details.json").read_text())
    return json.loads(out.read_text()), details, result.stdout


def test_bench_tiny_mode(tmp_path: Path) -> None:
    """Every scenario in one tiny run: every compiled worker and every raw baseline does its
    work exactly (a wrong baseline makes every ratio wrong) and is measured."""
    results, details, _stdout = run_bench(
        tmp_path,
        "--scenarios",
        ",".join(THROUGHPUT),
        "--build-repetitions",
        "2",
        "--build-times-for",
        "examples/big_orders.py,bench/apps/stateless_json.py",
    )
    assert list(results) == ["scenarios"]
    scenarios = results["scenarios"]
    assert list(scenarios) == list(THROUGHPUT)
    (run,) = details["runs"]
    measured: set[str] = set()
    for name, entry in scenarios.items():
        assert set(entry) == RESULT_KEYS, name
        assert isinstance(entry["raw_msgs_s"], int) and entry["raw_msgs_s"] > 0, entry
        stages = 2 if name == "group_by" else 1
        raw = run[name]["raw"]
        assert raw["verified"] is True, name
        assert raw["committed"] == MESSAGES * stages, raw
        # a compiled worker: measured, every message committed, outputs exactly right
        measured.add(name)
        for key in RESULT_KEYS:
            assert isinstance(entry[key], int | float), (key, entry)
        worker = run[name]["worker"]
        assert worker["committed"] == MESSAGES * stages, worker
        assert worker["verified"] is True, name
    assert measured == set(scenarios)

    # faustc build was timed, with and without type checking
    builds = details["build_seconds"]
    assert set(builds) == {"examples/big_orders.py", "bench/apps/stateless_json.py"}
    for app, figures in builds.items():
        assert set(figures) == {"typecheck_cold", "typecheck_warm", "no_typecheck"}, figures
        assert all(seconds > 0 for seconds in figures.values()), (app, figures)


def test_recovery_tiny_mode(tmp_path: Path) -> None:
    """The recovery scenario restores both changelogs exactly (the harness reads every
    RocksDB store back and compares it with the changelog's last values and end offsets),
    on both sides, from empty and up to date."""
    results, details, _stdout = run_bench(tmp_path, "--scenarios", "recovery", "--no-build-times")
    assert results["scenarios"] == {}
    assert set(results["recovery"]) == {"distinct", "repeated"}
    for variant, entry in results["recovery"].items():
        assert entry["records"] == MESSAGES, entry
        for key in ("worker_records_s", "raw_records_s", "worker_up_to_date_s"):
            assert isinstance(entry[key], int | float) and entry[key] > 0, (variant, key)
        for side in ("worker", "raw"):
            (run,) = details["recovery"][variant][side]
            assert run["empty"]["records"] == MESSAGES
            assert run["up_to_date"]["records"] == 0


def test_latency_tiny_mode(tmp_path: Path) -> None:
    """The latency scenario at one rate: every side's every output arrives exactly once and
    right (checked by the harness), and each gets its percentiles."""
    results, details, _stdout = run_bench(
        tmp_path,
        "--scenarios",
        "latency",
        "--latency-rates",
        "1000",
        "--latency-seconds",
        "1",
        "--no-build-times",
    )
    entry = results["latency"]["1000"]
    labels = {"direct", "worker/defaults", "raw/defaults"}
    labels |= {"worker/fetch_wait_10ms", "raw/fetch_wait_10ms"}
    assert labels <= set(entry), entry
    for label in labels:
        figures = entry[label]
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"], (label, figures)
        (run,) = details["latency"]["1000"][label]
        assert run["verified"] is True and run["outputs"] > 0, run


def test_takeover_tiny_mode(tmp_path: Path) -> None:
    """The takeover scenario: the survivor takes the stopped worker's partitions over,
    restores their table and processes them, after a crash and after a clean stop; every
    output the sink saw checked (``takeover.check_outputs``: no order lost, counts going on
    from the restored table, repeats only after the crash)."""
    results, details, _stdout = run_bench(tmp_path, "--scenarios", "takeover", "--no-build-times")
    assert set(results["takeover"]) == {"kill", "term"}
    for mode, runs in details["takeover"].items():
        (run,) = runs
        assert len(run["moved_partitions"]) == 2, run
        assert run["verified"] is True, run
        assert run["survivor_outputs_of_moved"] > 0, run
        assert run["takeover_s"] >= run["until_assigned_s"] > 0, (mode, run)
        # no standbys: the survivor replayed the moved partitions' changelog records
        assert run["replayed_records"] > 0, (mode, run)


#: the peers a CI run measures: faust-streaming is installed for tests/test_compat.py anyway;
#: Quix Streams (a 130 MB virtualenv) only where bench/peers/install.py has made it
PEERS = ("faust-streaming", "quixstreams")


@pytest.mark.parametrize("peer", PEERS)
def test_peers_tiny_mode(tmp_path: Path, peer: str) -> None:
    """Each peer, in its own virtualenv, does the stateless and the stateful work exactly
    (its outputs or its changelog read back), as the worker and the raw loop do."""
    installed = (REPO / "build/bench-peers/quixstreams/quixstreams-version").exists()
    if peer == "quixstreams" and not installed and os.environ.get("CI"):
        pytest.skip("Quix Streams is not installed (python bench/peers/install.py quixstreams)")
    results, details, _stdout = run_bench(
        tmp_path,
        "--scenarios",
        "stateless_json,stateful_table",
        "--peers",
        peer,
        "--no-build-times",
    )
    (run,) = details["runs"]
    for scenario in ("stateless_json", "stateful_table"):
        assert set(results["peers"][scenario]) == {"raw", "worker", peer}
        assert run[scenario][peer]["verified"] is True, scenario
        assert run[scenario][peer]["committed"] == MESSAGES, scenario


# -- the harness's own checks, given wrong outputs ------------------------------------------


@pytest.fixture
def bench_modules() -> Iterator[None]:
    """bench/ on sys.path while a test imports its modules (data, latency, recovery, ...),
    then off it (every copy: bench/latency.py adds one) and those modules forgotten, so that
    none shadows a module of the same name later (bench/hot_path.py, tests/apps/hot_path.py)."""
    bench = str(REPO / "bench")
    sys.path.insert(0, bench)
    try:
        yield
    finally:
        while bench in sys.path:
            sys.path.remove(bench)
        for name, module in list(sys.modules.items()):
            if (getattr(module, "__file__", None) or "").startswith(bench + os.sep):
                del sys.modules[name]


@pytest.mark.usefixtures("bench_modules")
def test_recovery_check_reads_the_stores_back(tmp_path: Path) -> None:
    """``recovery.verify`` accepts stores holding exactly the changelog's last values and
    end offsets (in the worker's layout), and refuses a wrong value or a short offset."""
    import recovery
    from measure import RunFailed

    from faust.tables.stores import RocksDBStore, TableCodec

    records = [(b'"a%d"' % (i % 10), b"%d" % i) for i in range(100)]
    expected = recovery.expected_stores(records)
    codec = TableCodec(str, int, "json", "json")

    def write(datadir: Path, value_of: dict[bytes, bytes], offset: int) -> dict[int, int]:
        ends = {}
        for partition in range(4):
            path = datadir / "tables" / recovery.TABLE / str(partition)
            store = RocksDBStore(path, codec, partition)
            mine = [(k, v) for k, v in value_of.items() if int(k[2:-1]) % 4 == partition]
            store.persist(mine, {partition: offset})
            store.close()
            ends[partition] = offset + 1
        return ends

    ends = write(tmp_path / "right", expected, 24)
    recovery.verify("worker", tmp_path / "right", expected, ends)
    wrong = {**expected, b'"a3"': b"3"}
    write(tmp_path / "wrong", wrong, 24)
    with pytest.raises(RunFailed, match="1 wrong"):
        recovery.verify("worker", tmp_path / "wrong", expected, ends)
    write(tmp_path / "short", expected, 23)
    with pytest.raises(RunFailed, match="applied up to"):
        recovery.verify("worker", tmp_path / "short", expected, ends)


@pytest.mark.usefixtures("bench_modules")
def test_latency_check_wants_every_output_once() -> None:
    import latency

    expected = latency.expected_outputs(200)
    arrivals = [[index, 1, key, cents] for index, (key, cents) in expected.items()]
    latency.check_arrivals(arrivals, expected, "t")
    with pytest.raises(RuntimeError, match="outputs"):
        latency.check_arrivals(arrivals[1:], expected, "t")
    with pytest.raises(RuntimeError, match="outputs"):
        latency.check_arrivals([*arrivals, arrivals[0]], expected, "t")
    index, _, key, cents = arrivals[0]
    with pytest.raises(RuntimeError, match="1 wrong"):
        latency.check_arrivals([[index, 1, key, cents + 1], *arrivals[1:]], expected, "t")


def takeover_outputs(count: int, records: int, pid_of: Any) -> list[list[Any]]:
    """What a correct run's sink sees for the first ``count`` orders (no repeats)."""
    import takeover
    from data import make_orders

    from faust.transport.partitioner import partition_for_key

    counts = takeover.preloaded_counts(records)
    outputs = []
    for index, order in enumerate(make_orders(count)):
        counts[order.account_id] += 1
        partition = partition_for_key(order.account_id.encode(), 4)
        outputs.append(
            [partition, index, pid_of(partition), index, order.account_id, counts[order.account_id]]
        )
    return outputs


@pytest.mark.usefixtures("bench_modules")
def test_takeover_check() -> None:
    """``takeover.check_outputs``: a correct run passes; a lost order, counts that start over
    (the moved table not restored) and a repeat after a clean stop fail; a repeat after a
    crash passes."""
    import takeover

    moved, victim, survivor = {0, 1}, 100, 200

    def pid_before(partition: int) -> int:
        return victim if partition in moved else survivor

    before = takeover_outputs(300, 3000, pid_before)
    after = takeover_outputs(600, 3000, lambda partition: survivor)[300:]
    check = takeover.check_outputs
    check([*before, *after], records=3000, moved=moved, survivor=survivor, crash=False)

    # an order of the survivor's whose account has a later order (a gap, not a cut-off end)
    gone = next(out[3] for out in after if [o[4] for o in after].count(out[4]) > 1)
    lost = [output for output in after if output[3] != gone]
    with pytest.raises(RuntimeError, match=rf"orders \[{gone}\] .* never came out"):
        check([*before, *lost], records=3000, moved=moved, survivor=survivor, crash=False)

    fresh = takeover_outputs(600, 0, lambda partition: survivor)[300:]
    not_restored = [out for out in fresh if out[0] in moved]
    kept = [out for out in after if out[0] not in moved]
    with pytest.raises(RuntimeError, match="not restored"):
        check(
            [*before, *kept, *not_restored],
            records=3000,
            moved=moved,
            survivor=survivor,
            crash=True,
        )

    replayed = [out for out in before[250:] if out[0] in moved]
    replayed = [
        [p, ns, survivor, i, account, count + 1] for p, ns, _, i, account, count in replayed
    ]
    outputs = [*before, *replayed, *after]
    check(outputs, records=3000, moved=moved, survivor=survivor, crash=True)
    with pytest.raises(RuntimeError, match="came out twice"):
        check(outputs, records=3000, moved=moved, survivor=survivor, crash=False)


@pytest.mark.usefixtures("bench_modules")
def test_peer_checks_refuse_wrong_outputs() -> None:
    """The peers' output checks: Quix Streams' plain JSON outputs and its changelog."""
    import orjson
    import scenarios
    from data import expected_totals, make_orders

    orders = make_orders(200)
    big = [o for o in orders if o.amount >= 500.0]
    outputs = [
        (
            o.account_id.encode(),
            orjson.dumps(
                {
                    "order_id": o.order_id,
                    "account_id": o.account_id,
                    "amount_cents": round(o.amount * 100),
                }
            ),
        )
        for o in big
    ]
    topics = {"output": "out", "changelog_topic": "changelog"}
    check_plain = scenarios.big_orders_json(None)
    check_plain(orders, "quixstreams", lambda topic: outputs, topics)
    with pytest.raises(AssertionError):
        check_plain(orders, "quixstreams", lambda topic: outputs[1:], topics)
    with pytest.raises(AssertionError):  # Faust's metadata where none is expected
        check = scenarios.big_orders_json("stateless_json.BigOrder")
        check(orders, "quixstreams", lambda topic: outputs, topics)

    changelog = [
        (orjson.dumps(account) + b'|"totals"', orjson.dumps(list(total)))
        for account, total in expected_totals(orders).items()
    ]
    scenarios.verify_quix_totals(orders, "quixstreams", lambda topic: changelog, topics)
    wrong = [(changelog[0][0], orjson.dumps([1, 0.0])), *changelog[1:]]
    with pytest.raises(AssertionError):
        scenarios.verify_quix_totals(orders, "quixstreams", lambda topic: wrong, topics)
