"""Faust apps written the way Faust users write them, compiled and uncompiled alike (issue
13): each app in ``tests/faust_forms/`` is built, and its worker and the app as written run
the same input on the in-memory transport with the same outputs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from test_differential import Built

from conftest import REPO

FORMS = Path(__file__).parent / "faust_forms"


def test_an_app_file_whose_name_is_no_module_name(tmp_path: Path) -> None:
    """``log-relay.py`` builds; its worker loads it from its path as ``log-relay`` (the
    name its agents carry when Python runs it as a script)."""
    built = Built(FORMS / "log-relay.py", tmp_path)
    assert built.worker.app_module.__name__ == "log-relay"
    assert list(built.worker.COMPILED_AGENTS) == ["log-relay.relay"]
    lines = [(None, b"ERROR disk full"), (None, b"INFO ok"), (None, b"ERROR again")]
    reference, compiled = built.both({"relay-logs": lines})
    assert compiled == reference
    assert [value for _, value, _ in compiled["relay-errors"][0]] == [
        b"ERROR disk full",
        b"ERROR again",
    ]
    del sys.modules["log-relay"]


def test_a_moved_worker_finds_an_app_file_named_so(tmp_path: Path) -> None:
    """Moved with the build (another path and depth), the worker still finds
    ``log-relay.py``; without it, one line and exit 1."""
    build = tmp_path / "build"
    result = faustc("build", str(FORMS / "log-relay.py"), "-o", str(build), "--no-typecheck")
    assert result.returncode == 0, result.stderr
    image = tmp_path / "image"
    (image / "opt" / "worker" / "bin").mkdir(parents=True)
    shutil.copy(build / "log-relay_worker.py", image / "opt" / "worker" / "bin")
    shutil.copy(FORMS / "log-relay.py", image / "opt")
    moved = image / "opt" / "worker" / "bin" / "log-relay_worker.py"
    probe = (
        "import runpy, sys; worker = runpy.run_path(sys.argv[1], run_name='probe'); "
        "print(worker['app_module'].__name__, worker['app_module'].__file__, "
        "list(worker['COMPILED_AGENTS']))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe, str(moved)], capture_output=True, text=True, cwd=tmp_path
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == [
        "log-relay",
        str(image / "opt" / "log-relay.py"),
        "['log-relay.relay']",
    ]
    (image / "opt" / "log-relay.py").unlink()
    lost = subprocess.run(
        [sys.executable, "-c", probe, str(moved)], capture_output=True, text=True, cwd=tmp_path
    )
    assert lost.returncode == 1
    assert lost.stderr.strip().startswith(
        "error: cannot find the app file log-relay.py of this worker"
    )
    assert len(lost.stderr.strip().splitlines()) == 1


def faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=REPO
    )
