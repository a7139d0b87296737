"""The kill -9 campaign (bench/chaos.py), small: one run of each guarantee, one kill and
a restart on a fresh data directory, a fixed seed. Nothing lost, nothing counted twice,
every run finished. The longer campaign is the command itself (see its docstring).

On Tansu, an exactly-once kill that lands inside an open transaction (the group had not
committed the whole input when the worker died) cannot be verified: Tansu leaves the
aborted transaction's changelog records visible to the restore on the fresh directory
(README, "Not verifiable on Tansu"), so those messages read as counted twice. The test
then reports an expected failure naming it, instead of passing or failing; a kill of a
worker whose transactions had all committed is checked exactly."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.broker

SMALL = ["--runs", "1", "--messages", "6000", "--kills", "1", "--seed", "7"]


def test_a_small_kill_9_campaign_loses_nothing_and_counts_nothing_twice() -> None:
    result = subprocess.run(
        [sys.executable, "bench/chaos.py", *SMALL],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    at_least = "at_least_once run 1: 1 kill(s), 6000 messages: 0 lost, 0 counted twice, finished"
    assert f"{at_least}, 0 traceback(s)" in result.stdout, result.stdout + result.stderr
    exactly = re.search(
        r"exactly_once run 1: 1 kill\(s\), 6000 messages: (\d+) lost, (\d+) counted twice, "
        r"finished, 0 traceback\(s\) \(committed when killed: (\d+)/6000\)",
        result.stdout,
    )
    assert exactly is not None, result.stdout + result.stderr
    lost, twice, committed = (int(group) for group in exactly.groups())
    assert lost == 0, result.stdout
    if twice and committed < 6000:
        pytest.xfail(
            f"the kill landed in an open transaction ({committed}/6000 committed): the "
            "embedded Tansu broker leaves its aborted changelog records visible (reported)"
        )
    assert twice == 0, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
