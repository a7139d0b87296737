"""Faust's ``faust -A module`` start-up: ``python -m faust -A MODULE[:APP] COMMAND`` runs an
app module that never calls ``app.main()``; ``python app.py worker`` on such a module says
what to do instead of exiting silently. Real processes; the worker run against a broker is
the compat harness's (tests/compat/harness.py runs every app without ``app.main()`` so)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kafka_helpers import WORKER_ENV

APP = """
import faust

app = faust.App("entry-point-app", broker="kafka://127.0.0.1:9")
orders = app.topic("orders", value_type=str)


@app.agent(orders)
async def count(stream):
    async for order in stream:
        print(order)
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=WORKER_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_dash_a_runs_the_module_app(tmp_path: Path) -> None:
    (tmp_path / "shop_app.py").write_text(APP)
    for spec in ("shop_app", "shop_app:app", "shop_app.app", "shop_app.py"):
        result = run(tmp_path, "-m", "faust", "-A", spec, "--json", "agents")
        assert result.returncode == 0, (spec, result.stderr)
        (agent,) = json.loads(result.stdout)
        assert agent["name"] == "@count" and agent["topic"] == "orders", agent
    result = run(tmp_path, "-m", "faust", "--app=shop_app", "--json", "agents")
    assert result.returncode == 0 and json.loads(result.stdout)[0]["topic"] == "orders"


def test_dash_a_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "shop_app.py").write_text(APP)
    missing = run(tmp_path, "-m", "faust", "-A", "no_such_module", "agents")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "error: -A no_such_module: No module named 'no_such_module'"
    ]
    not_an_app = run(tmp_path, "-m", "faust", "-A", "shop_app:orders", "agents")
    assert not_an_app.returncode == 1
    assert "shop_app:orders is not a faust.App" in not_an_app.stderr
    assert len(not_an_app.stderr.strip().splitlines()) == 1
    no_option = run(tmp_path, "-m", "faust", "agents")
    assert no_option.returncode == 2 and "-A/--app" in no_option.stderr


def test_a_module_without_main_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "shop_app.py").write_text(APP)
    result = run(tmp_path, "shop_app.py", "worker", "-l", "info")
    assert result.stdout == ""
    assert "the module never calls app.main(), so 'worker' did nothing" in result.stderr
    assert "python -m faust -A shop_app worker -l info" in result.stderr
    with_main = APP + "\nif __name__ == '__main__':\n    app.main()\n"
    (tmp_path / "with_main.py").write_text(with_main)
    listed = run(tmp_path, "with_main.py", "--json", "agents")
    assert listed.returncode == 0 and "never calls" not in listed.stderr
    quiet = run(tmp_path, "shop_app.py")  # no command: nothing asked, nothing said
    assert quiet.returncode == 0 and quiet.stderr == ""
