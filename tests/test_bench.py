"""The benchmark harness still works: bench/run.py in a tiny mode, outputs verified.

No timing is asserted (machines are noisy); what is checked is that every measured process
committed every message, that its outputs are exactly the expected ones (``--verify`` reads
them back), and that results.json has the shape issue 6 names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO

pytestmark = pytest.mark.broker

MESSAGES = 3000
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
    """Every scenario in one tiny run: the worker sides that exist are measured and verified,
    every raw baseline does its work exactly (a wrong baseline makes every ratio wrong), and
    scenarios without a worker side are recorded as pending, never as numbers."""
    results, details, stdout = run_bench(tmp_path, "--scenarios", "all", "--build-repetitions", "1")
    assert list(results) == ["scenarios"]
    scenarios = results["scenarios"]
    assert list(scenarios) == [
        "stateless_json",
        "stateless_avro",
        "stateful_table",
        "windowed",
        "group_by",
        "exactly_once",
    ]
    (run,) = details["runs"]
    for name, entry in scenarios.items():
        assert set(entry) == RESULT_KEYS, name
        assert isinstance(entry["raw_msgs_s"], int) and entry["raw_msgs_s"] > 0, entry
        raw = run[name]["raw"]
        assert raw["verified"] is True, name
        assert raw["committed"] == MESSAGES * (2 if name == "group_by" else 1), raw
        if name == "stateless_json":
            continue
        assert entry["worker_msgs_s"].startswith("pending (needs issue"), entry
        assert entry["ratio"] == entry["worker_cpu_us_per_msg"] == entry["worker_msgs_s"]
        assert "worker" not in run[name]

    # the compiled worker of stateless_json: measured, every message committed, outputs exact
    entry = scenarios["stateless_json"]
    for key in RESULT_KEYS:
        assert isinstance(entry[key], int | float), (key, entry)
    worker = run["stateless_json"]["worker"]
    assert worker["committed"] == MESSAGES, worker
    assert worker["verified"] is True
    assert "pending (needs issue 5)" in stdout

    # faustc build was timed for every example and bench app
    builds = details["build_seconds"]
    expected = {"examples/wordcount.py", "examples/big_orders.py", "bench/apps/stateless_json.py"}
    assert expected <= set(builds)
    for app, figures in builds.items():
        timings = [value for value in figures.values() if not isinstance(value, str)]
        assert timings and all(value > 0 for value in timings), (app, figures)
