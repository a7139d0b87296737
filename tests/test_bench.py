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
    """Every scenario in one tiny run: every compiled worker and every raw baseline does its
    work exactly (a wrong baseline makes every ratio wrong) and is measured."""
    results, details, _stdout = run_bench(
        tmp_path,
        "--scenarios",
        "all",
        "--build-repetitions",
        "2",
        "--build-times-for",
        "examples/big_orders.py,bench/apps/stateless_json.py",
    )
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
