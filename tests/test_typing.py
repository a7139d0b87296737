"""Documented Faust forms pass mypy --strict against the runtime's annotations, and the
runtime does what those signatures promise.

``tests/typing/documented_forms.py`` is Faust as its guides write it (``StreamT``
annotations, agents returning ``AsyncIterable[T]``, ``relative_to_field(Record.field)``,
``broker=[...]``, ``topic(schema=..., compacting=...)``, ``@app.agent()`` ...).
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

import faust
from faust.contract import agent_topic_name
from faustc.source import SourceFile
from faustc.typecheck import typecheck

FORMS = Path(__file__).parent / "typing" / "documented_forms.py"


@pytest.fixture(scope="module")
def forms() -> ModuleType:
    spec = importlib.util.spec_from_file_location("documented_forms", FORMS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["documented_forms"] = module
    spec.loader.exec_module(module)
    return module


def test_documented_forms_pass_mypy_strict(tmp_path: Path) -> None:
    findings = typecheck(SourceFile.load(FORMS), tmp_path / ".mypy_cache")
    assert [d.render([]) for d in findings] == []


def test_documented_forms_pass_faustc_check(tmp_path: Path) -> None:
    """``faustc check`` (mypy strict, and the compiler's own rules) says nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "faustc", "check", str(FORMS), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip().endswith("no errors (3 agents)")


def test_a_schema_types_the_topic(forms: ModuleType) -> None:
    topic = forms.schema_topic
    assert (topic.key_type, topic.value_type) == (str, forms.Trade)
    record = forms.Trade(symbol="A", price=2.0, date=datetime(2024, 1, 1))
    assert topic.schema.value_dumper()(record) == forms.trades_topic.schema.value_dumper()(record)


def test_topic_flags_become_topic_configuration(forms: ModuleType) -> None:
    assert forms.history_topic.config == {
        "cleanup.policy": "compact",
        "retention.ms": str(7 * 24 * 3600 * 1000),
    }
    app = faust.App("flags")
    both = app.topic("t", compacting=True, deleting=True, config={"retention.ms": "5"})
    assert both.config == {"cleanup.policy": "compact,delete", "retention.ms": "5"}


def test_an_agent_without_a_channel_gets_its_own_topic(forms: ModuleType) -> None:
    """As faust-streaming names it: ``<app id>-<agent name>``, typed by value_type=."""
    agent = forms.audit_trade
    assert agent.name == "documented_forms.audit_trade"
    assert agent.channel.topics == ("documented-forms-documented_forms.audit_trade",)
    assert agent.channel.topics[0] == agent_topic_name("documented-forms", agent.name)
    assert agent.channel.value_type is forms.Trade
    assert agent.help == "Trades sent with audit_trade.cast(...)"
    assert forms.audit.channel.value_type is None
    assert agent.channel in forms.app.topics


async def _noop_agent(stream: faust.Stream[int]) -> None:
    async for _ in stream:
        pass


def test_agent_options_this_runtime_does_not_have_are_refused() -> None:
    app = faust.App("refusals")
    topic = app.topic("t")
    with pytest.raises(faust.ImproperlyConfigured, match="isolated_partitions"):
        app.agent(topic, isolated_partitions=True, concurrency=2)(_noop_agent)
    with pytest.raises(TypeError, match="value_type apply only to an agent without a channel"):
        app.agent(topic, value_type=str)  # type: ignore[call-overload]


def test_tasks_and_timers_taking_the_app_are_given_it(forms: ModuleType) -> None:
    app = forms.app
    tasks = {task.name: task for task in app.tasks}
    assert tasks["documented_forms.seed"].on_leader
    called: list[object] = []

    @app.task
    async def takes_app(given: faust.App) -> None:
        called.append(given)

    asyncio.run(app.tasks[-1].fun())
    assert called == [app]
    assert [timer.interval for timer in app.timers] == [1.0]


def test_crontab_tz_is_timezone(forms: ModuleType) -> None:
    crontab = forms.app.crontabs[0]
    assert crontab.on_leader
    assert crontab.schedule.timezone == ZoneInfo("Europe/Stockholm")
    with pytest.raises(TypeError, match="not both"):
        forms.app.crontab("* * * * *", timezone=ZoneInfo("UTC"), tz=ZoneInfo("UTC"))


def test_uuid_is_a_random_uuid_text() -> None:
    first, second = faust.uuid(), faust.uuid()
    assert len(first) == 36 and first != second
