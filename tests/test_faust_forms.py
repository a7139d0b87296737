"""Faust apps written the way Faust users write them, compiled and uncompiled alike (issue
13): each app in ``tests/faust_forms/`` is built, and its worker and the app as written run
the same input on the in-memory transport with the same outputs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_differential import Built, run

from conftest import REPO
from faustc.build import build_worker, compile_source
from faustc.front.reader import read_module
from faustc.plan.model import AgentTopic
from faustc.source import SourceFile

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


def test_names_from_constants_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built with the defaults, run with RELAY_SOURCE and RELAY_SINK set: the compiled
    worker reads the names the app module computes at run time (its sends, and the stage
    it tells apart by the topic's name), as the app as written does."""
    result = build_worker(FORMS / "env_relay.py", tmp_path)
    module = read_module(SourceFile.load(FORMS / "env_relay.py"))
    assert module.app.app_id == "relay-env" and module.app.env == ("RELAY_APP_ID",)
    assert [(t.names, t.env) for t in module.topics] == [
        (("relay-in",), ("RELAY_SOURCE",)),
        (("relay-out",), ("RELAY_SINK",)),
    ]
    assert [(table.name, table.env) for table in module.tables] == [("relay_counts", ())]
    first = result.plan.agents[0].stages[0]
    assert (first.name_fixed, first.name_local) == (False, "source_topic_name")
    assert '"relay-out"' not in result.text and '"relay-in"' not in result.text
    monkeypatch.setenv("RELAY_SOURCE", "lines-in")
    monkeypatch.setenv("RELAY_SINK", "lines-out")
    built = Built.load(result.worker_path)
    assert built.app.id == "relay-env"
    lines = [(b"a", b'{"user": "ann", "text": "hi"}'), (b"b", b'{"user": "bob", "text": "yo"}')]
    lines.append((b"c", b'{"user": "ann", "text": "again"}'))
    reference, compiled = built.both({"lines-in": lines})
    assert compiled == reference
    sent = sorted(value for partition in compiled["lines-out"] for _, value, _ in partition)
    assert sent == [b'"ann:AGAIN"', b'"ann:HI"', b'"bob:YO"']
    assert "relay-out" not in compiled
    assert compiled["table:relay_counts"] == {"ann": 2, "bob": 1}


def test_agents_without_a_topic(tmp_path: Path) -> None:
    """``@app.agent()`` and ``@app.agent(value_type=...)`` compile: each consumes its own
    topic, ``<app id>-<agent name>`` as Faust names it, fed by ``send``/``cast``; one of
    them regroups its own topic, one yields to a sink."""
    built = Built(FORMS / "own_topics.py", tmp_path)
    assert sorted(built.worker.COMPILED_AGENTS) == [
        "own_topics.accept",
        "own_topics.audit",
        "own_topics.count_words",
        "own_topics.double",
        "own_topics.split",
    ]
    agents = built.app.agents
    assert agents["own_topics.audit"].channel.get_topic_name() == "own-topics-own_topics.audit"
    assert built.worker.audit_topic is agents["own_topics.audit"].channel
    posts = [(None, b'"the quick fox"'), (None, b'"the fox"')]
    orders = [
        (b"o1", b'{"id": "o1", "account": "a", "amount": 5}'),
        (b"o2", b'{"id": "o2", "account": "b", "amount": 7}'),
        (b"o3", b'{"id": "o3", "account": "a", "amount": 1}'),
    ]
    reference, compiled = built.both({"posts": posts, "orders": orders})
    assert compiled == reference
    assert compiled["table:word_counts"] == {"the": 2, "quick": 1, "fox": 2}
    assert compiled["table:audited"] == {"a": 6, "b": 7}
    doubled = sorted(value for partition in compiled["doubled"] for _, value, _ in partition)
    assert doubled == [b"10", b"6", b"6", b"6", b"6"]
    assert "own-topics-own_topics.count_words" in compiled


def test_the_plan_of_agents_without_a_topic(tmp_path: Path) -> None:
    """The worker binds each agent's own topic (``AgentTopic``) before the repartition
    topic named after it, and tells the stages apart by the topic's name at run time (the
    App's settings may change its id)."""
    result = compile_source(SourceFile.load(FORMS / "own_topics.py"), tmp_path)
    internal = result.plan.internal_topics
    assert internal[:3] == (
        AgentTopic("count_words_topic", "count_words", "own-topics-own_topics.count_words"),
        AgentTopic("audit_topic", "audit", "own-topics-own_topics.audit"),
        AgentTopic("double_topic", "double", "own-topics-own_topics.double"),
    )
    assert internal[3].source == "audit_topic"  # type: ignore[union-attr]
    audit = next(agent for agent in result.plan.agents if agent.agent_var == "audit")
    assert (audit.stages[0].name_fixed, audit.stages[0].name_local) == (False, "audit_topic_name")


def test_global_state_is_the_app_modules(tmp_path: Path) -> None:
    """``global seen_events`` in a compiled agent writes the app module's variable (a
    timer there reads it), and a variable another function rebinds is read from the app
    module too, in the loop body and in an inlined lambda."""
    built = Built(FORMS / "seen_events.py", tmp_path)
    result = compile_source(SourceFile.load(FORMS / "seen_events.py"), tmp_path)
    assert result.plan.agents[0].module_state == ("limit", "seen_events")
    app_module = sys.modules[built.worker.app_module.__name__]
    app_module.set_limit(5)
    events = [(None, str(number).encode()) for number in range(8)]
    reference = run(built.app, {"seen-events": events}, None)
    assert app_module.seen_events == 5
    app_module.seen_events = 0
    compiled = run(built.app, {"seen-events": events}, built.worker.COMPILED_AGENTS)
    assert app_module.seen_events == 5
    assert compiled == reference
    assert not hasattr(built.worker, "seen_events") or built.worker.seen_events == 0


AGENTS_MODULE = """\
from billing.app import app, invoices_topic, reminders_topic


@app.agent(invoices_topic)
async def remind(invoices):
    async for invoice in invoices:
        await reminders_topic.send(value=invoice)
"""


def test_agents_of_other_modules_are_named_and_run_uncompiled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An agent in a module the app module imports, and one in a package autodiscover
    scans, are FC115 warnings at their decorators; the built worker runs them uncompiled
    and says so when it starts."""
    package = tmp_path / "src" / "billing"
    (package / "more").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(
        "import faust\n"
        "app = faust.App('billing', broker='memory://', topic_partitions=1,\n"
        "                autodiscover=['billing.more'])\n"
        "invoices_topic = app.topic('invoices', value_type=str)\n"
        "reminders_topic = app.topic('reminders', value_type=str)\n"
        "from billing import agents  # noqa: E402,F401\n"
    )
    (package / "agents.py").write_text(AGENTS_MODULE)
    (package / "more" / "__init__.py").write_text("")
    (package / "more" / "late.py").write_text(
        "import billing.app as main\n\n\n"
        "@main.app.agent(main.reminders_topic)\n"
        "async def late(reminders):\n"
        "    async for reminder in reminders:\n"
        "        print(reminder)\n"
    )
    result = build_worker(package / "app.py", tmp_path / "build")
    found = [(d.code, d.span.file, d.span.line, d.message) for d in result.warnings]
    assert [(code, Path(file).name, line) for code, file, line, _ in found] == [
        ("FC115", "agents.py", 4),
        ("FC115", "late.py", 4),
    ]
    assert "agent 'remind' is registered in" in found[0][3]
    assert "(imported by the app)" in found[0][3]
    assert "agent 'late' is registered in" in found[1][3]
    assert "(found by autodiscover)" in found[1][3]
    assert result.plan.agents == ()
    sys.path.insert(0, str(tmp_path / "src"))
    try:
        built = Built.load(result.worker_path)
        with caplog.at_level("WARNING", logger="faust.worker"):
            compiled = run(
                built.app, {"invoices": [(None, b'"i-1"')]}, built.worker.COMPILED_AGENTS
            )
    finally:
        sys.path.remove(str(tmp_path / "src"))
        for name in [name for name in sys.modules if name.split(".")[0] == "billing"]:
            del sys.modules[name]
    assert compiled["reminders"] == [[(None, b'"i-1"', None)]]
    assert "agent(s) running uncompiled" in caplog.text
    assert "billing.agents.remind" in caplog.text
