"""faustc's pytest plugin in a project of its own (a pytest subprocess): async tests and
fixtures without pytest-asyncio (coroutine and generator fixtures, their teardown, a
session-scoped one), anyio's tests left to anyio, and ``faustc_driver`` with a path
relative to the project's root."""

from __future__ import annotations

import pytest

from conftest import EXAMPLES

pytest_plugins = ["pytester"]

TESTS = """
import asyncio
import pytest

events = []

@pytest.fixture(scope="session")
async def session_loop():
    return asyncio.get_running_loop()

@pytest.fixture
async def resource():
    events.append("open")
    yield "resource"
    await asyncio.sleep(0)
    events.append("close")

async def test_fixtures(session_loop, resource):
    assert resource == "resource"
    assert session_loop is asyncio.get_running_loop()

def test_teardown_ran():
    assert events == ["open", "close"]

@pytest.mark.anyio
async def test_anyio_runs_its_own(anyio_backend):
    await asyncio.sleep(0)

def test_driver(faustc_driver):
    driver = faustc_driver("apps/wordcount.py", typecheck=False)
    driver.send("words", key="faust", value="faust")
    driver.run()
    assert driver.table("word-counts")["faust"] == 1
"""


def test_async_tests_fixtures_and_the_driver_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = pytester.path
    (root / "apps").mkdir()
    (root / "apps" / "wordcount.py").write_text((EXAMPLES / "wordcount.py").read_text())
    (root / "pytest.ini").write_text("[pytest]\n")
    tests = pytester.makepyfile(test_project=TESTS)
    (root / "elsewhere").mkdir()
    monkeypatch.chdir(root / "elsewhere")  # the app's path is relative to the root
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", str(tests))
    result.assert_outcomes(passed=4)
