"""The kill -9 campaign (bench/chaos.py), small: one run of each guarantee, one kill and
a restart on a fresh data directory, a fixed seed. Nothing lost, nothing counted twice,
every run finished. The longer campaign is the command itself (see its docstring)."""

from __future__ import annotations

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
    assert result.returncode == 0, result.stdout + result.stderr
    assert "at_least_once run 1: 1 kill(s), 6000 messages: 0 lost, 0 counted twice" in (
        result.stdout
    )
    assert "exactly_once run 1: 1 kill(s), 6000 messages: 0 lost, 0 counted twice" in (
        result.stdout
    )
