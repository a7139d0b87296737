"""The testing tools as a user gets them: faustc installed from its wheel into a fresh
virtual environment (with pytest, nothing else), and a small project outside the repo
whose tests use the ``faustc_driver`` fixture, ``TestDriver`` and ``async def`` tests with
``agent.test_context()``: the pytest plugin is found through its entry point alone; then
the same project with pytest-asyncio installed too, which takes the async tests over.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO

APP = """\
import faust

app = faust.App("tiny", broker="kafka://localhost:9092")


class Payment(faust.Record, serializer="json"):
    account: str
    amount: float


payments_topic = app.topic("payments", key_type=str, value_type=Payment, partitions=2)
large_topic = app.topic("large-payments", key_type=str, value_type=Payment, partitions=2)
balances = app.Table("balances", default=float)


@app.agent(payments_topic)
async def settle(payments: faust.Stream[Payment]) -> None:
    async for payment in payments:
        balances[payment.account] += payment.amount
        if payment.amount > 100:
            await large_topic.send(key=payment.account, value=payment)
"""

TESTS = """\
from faustc.testing import TestDriver

from tiny.app import Payment, balances, settle


def test_with_the_fixture(faustc_driver):
    driver = faustc_driver("tiny/app.py")
    driver.send("payments", key="a", value=Payment("a", 150.0))
    driver.send("payments", key="a", value=Payment("a", 5.0))
    driver.run()
    assert driver.records("large-payments") == [("a", Payment("a", 150.0))]
    assert driver.table("balances")["a"] == 155.0


def test_compiled_and_reference_agree():
    results = []
    for compiled in (True, False):
        with TestDriver("tiny/app.py", compiled=compiled) as driver:
            driver.send("payments", key="b", value=Payment("b", 500.0))
            driver.run()
            results.append((driver.records("large-payments"), dict(balances.items())))
    assert results[0] == results[1] == ([("b", Payment("b", 500.0))], {"b": 500.0})


async def test_the_agent_alone():
    async with settle.test_context() as agent:
        await agent.put(Payment("c", 1.0), key="c")
        await agent.put(Payment("c", 2.0), key="c")
        assert balances["c"] == 3.0
        assert agent.results == {0: Payment("c", 1.0), 1: Payment("c", 2.0)}
"""


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_plugin_from_a_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "TMPDIR": str(tmp_path),  # the driver's build cache starts empty
    }
    wheel = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", "dist", str(REPO)],
        tmp_path,
        env,
    )
    assert wheel.returncode == 0, wheel.stderr
    (built,) = (tmp_path / "dist").glob("faustc-*.whl")
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)], tmp_path, env).returncode == 0
    install = run(
        [str(venv / "bin" / "pip"), "install", "-q", f"{built}[compiler]", "pytest"],
        tmp_path,
        env,
    )
    assert install.returncode == 0, install.stderr

    project = tmp_path / "project"
    (project / "tiny").mkdir(parents=True)
    (project / "tiny" / "__init__.py").write_text("")
    (project / "tiny" / "app.py").write_text(APP)
    (project / "tests").mkdir()
    (project / "tests" / "test_tiny.py").write_text(TESTS)
    result = run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        project,
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
    assert "warning" not in result.stdout.lower(), result.stdout
    plugins = run(
        [str(venv / "bin" / "python"), "-m", "pytest", "--co", "-q", "--trace-config"],
        project,
        env,
    )
    assert "faustc.pytest_plugin" in plugins.stdout

    # with pytest-asyncio installed, it runs the async tests and faustc's plugin stays out
    install = run([str(venv / "bin" / "pip"), "install", "-q", "pytest-asyncio"], tmp_path, env)
    assert install.returncode == 0, install.stderr
    (project / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    result = run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        project,
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
