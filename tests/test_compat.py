"""The compatibility corpus (tests/compat/): its specs are well formed and can fail, the
harness reads outputs the way it says, and, on the real broker, the apps that run on
faustc today give the outputs faust-streaming gives (the differential test).

Where faustc stands on the whole corpus is not a test: it is ``tests/compat/status.py``
and its report, ``tests/compat/STATUS.md``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from compat.corpus import APPS, CorpusApp, Expected, TableSpec, load_corpus
from compat.harness import (
    RunOutcome,
    build,
    compare,
    compiled,
    decode,
    faust_streaming,
    run_app,
    table_key,
    table_state,
    uncompiled,
)

CORPUS = load_corpus()
BASE = 1_800_000_000.0


@pytest.mark.parametrize("app", CORPUS, ids=[a.name for a in CORPUS])
def test_every_app_has_a_spec_that_can_fail(app: CorpusApp) -> None:
    expected = app.expected
    checks = sum(map(len, expected.topics.values())) + len(expected.tables) + len(expected.printed)
    assert checks, f"{app.spec_path.name} expects nothing"
    assert all(table.state for table in expected.tables), "a table expected empty"
    assert app.summary and app.constructs, "say what the app is and what it exercises"
    assert app.entry.is_file()
    for item in app.inputs:
        assert item.topic in app.topics, f"input topic {item.topic} is not created by the spec"
    for topic in expected.topics:
        assert topic in app.topics, f"output topic {topic} is not created by the spec"


def test_the_corpus_covers_issue_13() -> None:
    constructs = " ".join(c for app in CORPUS for c in app.constructs)
    for construct in (
        "@app.agent()",
        "@app.agent(value_type=",
        "cast",
        "ask()",
        "module constant",
        "os.environ.get",
        "version=",
        "reply_create_topic",
        "autodiscover",
        "web_enabled",
        "cache",
        "app.channel",
        "StreamT",
        "ChannelT",
        "@app.service",
        "Service.task",
        "Service.timer",
        "Agent.join/map/kvjoin",
        "isolated_partitions",
        "timezone=",
        "tz=",
        "@daily",
        "Topic.send(callback=)",
        "faust.uuid",
        "Table.as_ansitable",
        "@app.task taking the app",
        "@app.timer on a function taking the app",
        "multi-module",
        "use_reply_headers=False",
        "broker= as a list",
        "changelog_topic=",
        "on_leader=True",
        "forward(",
        "faust.Sensor",
        "faust.Schema",
        "= None",
        "seen = {}",
        "SetTable('visitors') with no value type",
        "relative_to_field",
        "AsyncIterable",
        "global",
        "inside a function",
        "another module",
        "unkeyed input",
        "awaiting another agent's ask()",
        "datetime field holding a number",
        "Record.dumps() / Record.loads",
        "stream.echo",
        "group_by",
        "not an identifier",
    ):
        assert construct in constructs, construct


def test_compare_finds_every_kind_of_difference() -> None:
    expected = Expected(
        topics={"out": [{"key": "a", "value": {"n": 1.0}}, {"value": 2}]},
        tables=[TableSpec("counts", "app-counts-changelog", {"x": 3})],
        printed=[r"^DONE \d+$"],
    )
    actual: dict[str, Any] = {
        "topics": {"out": [{"key": "a", "value": {"n": 1}}, {"key": "z", "value": 2}]},
        "tables": {"counts": {"x": 3}},
        "printed": "noise\nDONE 7\n",
    }
    assert compare(expected, actual) == []
    actual["topics"]["out"].append({"key": None, "value": 3})
    actual["tables"]["counts"] = {"x": 2, "y": 1}
    actual["printed"] = "DONE\n"
    diff = compare(expected, actual)
    assert diff == [
        'topic out: 1 unexpected: [{"key": null, "value": 3}]',
        'table counts: want {"x": 3}, got {"x": 2}',
        'table counts: unexpected keys {"y": 1}',
        "printed: nothing matches '^DONE \\\\d+$'",
    ]
    actual["topics"]["out"] = [{"key": "b", "value": {"n": 1.0}}]
    assert compare(expected, actual)[0].startswith("topic out: missing 2 of 2")


def test_values_compare_as_json_data() -> None:
    assert decode(b'{"a": 1, "__faust": {"ns": "x.Y"}, "b": [{"__faust": {}, "c": 2}]}') == {
        "a": 1,
        "b": [{"c": 2}],
    }
    assert decode(b"plain text") == "plain text"
    assert decode(b'"quoted"') == "quoted"
    assert decode(None) is None
    # a number is not the string of that number, nor a bool
    one = Expected(topics={"t": [{"value": 1}]}, tables=[], printed=[])
    assert compare(one, {"topics": {"t": [{"key": None, "value": "1"}]}, "printed": ""})
    assert compare(one, {"topics": {"t": [{"key": None, "value": True}]}, "printed": ""})


class _Message:
    def __init__(self, partition: int, key: Any, value: Any) -> None:
        self._partition = partition
        self._key = json.dumps(key).encode()
        self._value = None if value is None else json.dumps(value).encode()

    def partition(self) -> int:
        return self._partition

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes | None:
        return self._value


def test_table_state_from_a_changelog() -> None:
    records = [
        _Message(0, "a", 1),
        _Message(0, "a", 2),
        _Message(1, "b", 5),
        _Message(1, "b", None),  # deleted
        _Message(0, ["w", [BASE + 10, BASE + 19.9]], 7),
        _Message(0, "split", 1),
        _Message(1, "split", 2),
    ]
    assert table_state(records, BASE) == {
        "a": 2,
        "w@10": 7,
        "split": "split: p0=1, p1=2",
    }
    assert table_key(["k", [BASE - 5, BASE + 5]], BASE) == "k@-5"


@pytest.fixture(scope="session")
def faust_streaming_python() -> Path:
    """faust-streaming 0.15.x in a virtualenv of its own (installed once into build/compat/)."""
    from compat.faust_streaming import faust_streaming_python as install

    return install()


#: (app, how faustc runs it): apps whose spec faustc meets today, built with the default
#: `faustc build` (mypy's findings are warnings), chosen for what they exercise: tables,
#: windows, repartitions, forwarding, and the forms of issue 13 (names from constants and
#: the environment, agents without a topic fed by cast and sinks, `global` state, an app
#: file whose name is no module name). Each costs ~25 s; the others that pass are in
#: tests/compat/STATUS.md.
DIFFERENTIAL = [
    ("sensor_alerts", "compiled"),
    ("env_names", "compiled"),
    ("payment_router", "compiled"),
    ("visit_log", "compiled"),
    ("trade_bars", "compiled"),
    ("audit_cast", "compiled"),
    ("typed_stream", "compiled"),
    ("seen_counter", "compiled"),
    ("log-relay", "compiled"),
    ("withdrawals", "compiled"),
    ("settings_tour", "compiled"),
    ("click_windows", "compiled"),
    ("score_totals", "compiled"),
    ("wordcount", "compiled"),
    ("delivery_receipts", "compiled"),
    ("epoch_readings", "compiled"),
    ("ledger_changelog", "compiled"),
    ("nightly_report", "compiled"),
    ("channel_pipeline", "compiled"),
    ("heartbeat_service", "compiled"),
    ("shop", "uncompiled"),  # its agents are in other modules: none is fused
    ("rpc_quotes", "compiled"),
    ("envelope_ask", "uncompiled"),  # its one agent runs uncompiled (FC115)
    ("isolated_tally", "uncompiled"),  # likewise
    ("traffic_sensor", "compiled"),  # a faust.Sensor: on_message_in, on_send_completed
]


@pytest.fixture(scope="module")
def faust_outcomes() -> dict[str, RunOutcome]:
    """faust-streaming's run of each app, made once for the module."""
    return {}


#: the apps `make test` runs (one per kind of thing they exercise: a table, windows and a
#: repartition, a name from a file with no module name, names from the environment, the App
#: version, reads across partitions, agent RPC, delivery callbacks, a channel, isolated
#: partitions, a custom sensor); `make compat` (FAUSTC_COMPAT=all) runs every app above,
#: ~10 minutes
IN_MAKE_TEST = {
    "sensor_alerts",
    "trade_bars",
    "log-relay",
    "env_names",
    "withdrawals",
    "click_windows",
    "rpc_quotes",
    "delivery_receipts",
    "channel_pipeline",
    "isolated_tally",
    "traffic_sensor",
}


@pytest.mark.broker
@pytest.mark.parametrize(("name", "how"), DIFFERENTIAL, ids=[f"{n}-{h}" for n, h in DIFFERENTIAL])
def test_faustc_gives_what_faust_streaming_gives(
    name: str,
    how: str,
    faust_streaming_python: Path,
    faust_outcomes: dict[str, RunOutcome],
    tmp_path: Path,
) -> None:
    if name not in IN_MAKE_TEST and os.environ.get("FAUSTC_COMPAT") != "all":
        pytest.skip("one of the longer list: `make compat` (FAUSTC_COMPAT=all) runs it")
    (app,) = load_corpus([name])
    if name not in faust_outcomes:
        runner = faust_streaming(faust_streaming_python)
        faust_outcomes[name] = run_app(app, runner, tmp_path / "faust")
    reference = faust_outcomes[name]
    assert reference.ok, _report(reference)
    if how == "compiled":
        built = build(app, tmp_path / "build")
        assert built.worker is not None, built.output
        assert built.status == "builds" and built.fused, built.output
        ours = run_app(app, compiled(built.worker), tmp_path / "faustc")
    else:
        ours = run_app(app, uncompiled(), tmp_path / "faustc")
    assert ours.ok, _report(ours)
    assert _records(ours) == _records(reference)
    assert ours.actual["tables"] == reference.actual["tables"]


def _records(outcome: RunOutcome) -> dict[str, list[str]]:
    return {
        topic: sorted(json.dumps([r["key"], r["value"]]) for r in records)
        for topic, records in outcome.actual["topics"].items()
    }


def _report(outcome: RunOutcome) -> str:
    log = outcome.log_dir / "worker.err" if outcome.log_dir else None
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    return f"{outcome.runner}: {outcome.status} {outcome.cause}\n" + "\n".join(outcome.diff) + tail


def test_apps_dir_is_the_corpus() -> None:
    """Every app file belongs to a spec (a stray app would never be run)."""
    entries = {app.entry.parent if app.entry.parent != APPS else app.entry for app in CORPUS}
    for path in APPS.iterdir():
        if path.suffix == ".toml" or path.name == "__pycache__":
            continue
        assert path in entries, f"{path.name} has no spec"
