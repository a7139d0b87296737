"""Faust's testing guide, as written (``tests/apps/testing_guide/README.md`` lists the
lines the guide itself gets wrong), run the way the guide says, in a fresh process whose
only pytest plugin for async tests is faustc's (installed with faustc, entry point
``pytest11``): ``agent.test_context()`` with ``put``, ``results`` (yielded values, or the
input of an agent that does not yield), ``group_by`` inside the tested agent, tables and
windowed tables, ``app.finalize()``, ``app.flow_control``, ``app.conf.store``, async
fixtures, ``@pytest.mark.asyncio`` and the ``event_loop`` fixture.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).parent / "apps" / "testing_guide"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_basics_script_runs_its_test(tmp_path: Path) -> None:
    shutil.copytree(GUIDE / "basics", tmp_path / "basics")
    result = run(["basics.py"], tmp_path / "basics")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("example", "passed"), [("agents", 2), ("suite", 4), ("windows", 1)])
def test_the_guides_pytest_suites_pass(tmp_path: Path, example: str, passed: int) -> None:
    shutil.copytree(GUIDE / example, tmp_path / example)
    result = run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path / example)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{passed} passed" in result.stdout
    assert "warning" not in result.stdout.lower(), result.stdout  # no unknown ini/marker
