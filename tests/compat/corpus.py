"""The compatibility corpus: Faust apps written the way Faust users write them, each with a
spec of its input and the outputs Faust gives for it.

Every ``apps/<name>.toml`` is one corpus entry; the app is ``apps/<name>.py`` unless the
spec names another ``entry`` (a package of several modules, a file whose name is not a
Python identifier). Example::

    for app in load_corpus():
        print(app.name, app.entry, [t for t in app.expected_topics])

A spec (all keys optional except ``app_id``)::

    summary = "Word count through an agent with no topic"   # else the docstring's first line
    constructs = ["@app.agent() fed by agent.send", "Table.as_ansitable"]
    app_id = "word-counts"           # the consumer group; changelogs are <app_id>-<table>-changelog
    entry = "wordcount.py"           # the file `faustc build` gets, relative to apps/
    module = "wordcount"             # its import name (`faust -A module worker`)
    timeout = 60                     # seconds to wait for the expected outputs
    time_base = "hour"               # "hour": the run's base time is the hour it starts in;
                                     # "now": the moment its input is produced
    env = { POSTS_TOPIC = "posts" }  # environment of every run

    [topics]                         # created with these partition counts before a worker starts
    posts = 4

    [[input]]                        # produced in order, before the worker starts (phase 1)
    topic = "posts"
    key = "p1"                       # utf-8 bytes; key_json = <any> for a JSON key; none if absent
    value = "the quick brown fox"    # JSON; value_raw = "..." for raw bytes
    at = 12.5                        # timestamp: seconds after the run's base time (a whole hour)
    partition = 0                    # or "round-robin" (with repeat)
    repeat = 1
    phase = 1                        # phase N+1 is produced once the app's group committed phase N

    [expected.topics.word-totals]    # the topic's records at the end, in any order
    records = [{ key = "the", value = 1 }]   # no key given: any key; value compared as JSON
    [expected.tables.word_counts]    # the table's state, read from its changelog
    state = { the = 2 }              # windowed keys read "<key>@<window start - base>"
    changelog = "custom-name"        # when the app names the changelog topic itself
    [expected]
    printed = ["^SEEN 50$"]          # regexes, each matching a line of the worker's output

    [faust-streaming]                # how the real Faust runs it, when not like the spec says
    skip = "why faust-streaming cannot run it"
    why = "why Faust's outputs differ"      # with expected = { ... } replacing parts of [expected]

Strings ``${ts+N}``, ``${ms+N}`` and ``${iso+N}`` (or ``-N``) in input values and expected
records become the run's base time plus N seconds, as seconds, milliseconds or ISO-8601.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APPS = Path(__file__).resolve().parent / "apps"


@dataclass(frozen=True)
class Input:
    topic: str
    key: bytes | None
    value: Any  # JSON data (may hold ${...} time references) or raw bytes
    raw: bool
    at: float | None
    partition: int | None
    phase: int


@dataclass(frozen=True)
class TableSpec:
    name: str
    changelog: str
    state: dict[str, Any]


@dataclass(frozen=True)
class Expected:
    topics: dict[str, list[dict[str, Any]]]
    tables: list[TableSpec]
    printed: list[str]


@dataclass(frozen=True)
class CorpusApp:
    name: str
    summary: str
    constructs: list[str]
    app_id: str
    entry: Path  # absolute
    module: str
    calls_main: bool  # the module runs `app.main()` when executed as a script
    timeout: float
    time_base: str  # "hour" | "now"
    env: dict[str, str]
    topics: dict[str, int]
    inputs: list[Input]
    expected: Expected
    faust_skip: str | None = None
    faust_why: str | None = None
    faust_expected: Expected | None = None
    spec_path: Path = field(default=APPS)

    @property
    def phases(self) -> list[int]:
        return sorted({i.phase for i in self.inputs}) or [1]


def load_corpus(names: list[str] | None = None) -> list[CorpusApp]:
    specs = sorted(APPS.glob("*.toml"))
    if names:
        specs = [s for s in specs if s.stem in names]
        missing = set(names) - {s.stem for s in specs}
        if missing:
            raise SystemExit(f"no corpus app named {', '.join(sorted(missing))}")
    return [load_app(spec) for spec in specs]


def load_app(spec_path: Path) -> CorpusApp:
    data = tomllib.loads(spec_path.read_text())
    name = spec_path.stem
    entry = APPS / data.get("entry", f"{name}.py")
    module = data.get("module", _module_name(entry))
    app_id = data["app_id"]
    expected = _expected(data.get("expected", {}), app_id)
    faust = data.get("faust-streaming", {})
    faust_expected = None
    if "expected" in faust:
        merged = {**data.get("expected", {}), **faust["expected"]}
        faust_expected = _expected(merged, app_id)
    source = entry.read_text()
    return CorpusApp(
        name=name,
        summary=data.get("summary") or _docstring_summary(source),
        constructs=list(data.get("constructs", [])),
        app_id=app_id,
        entry=entry,
        module=module,
        calls_main=_calls_main(source),
        timeout=float(data.get("timeout", 60)),
        time_base=data.get("time_base", "hour"),
        env={k: str(v) for k, v in data.get("env", {}).items()},
        topics=dict(data.get("topics", {})),
        inputs=_inputs(data.get("input", [])),
        expected=expected,
        faust_skip=faust.get("skip"),
        faust_why=faust.get("why"),
        faust_expected=faust_expected,
        spec_path=spec_path,
    )


def _module_name(entry: Path) -> str:
    parts = [entry.stem]
    folder = entry.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts)


def _calls_main(source: str) -> bool:
    """Whether the module calls ``<something>.main()`` (``app.main()`` under ``__main__``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "main"
        for node in ast.walk(tree)
    )


def _docstring_summary(source: str) -> str:
    """The first sentence of the module's docstring, on one line."""
    try:
        doc = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        return ""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    sentence, stop, _ = paragraph.partition(". ")
    return sentence + stop.strip()


def _inputs(items: list[dict[str, Any]]) -> list[Input]:
    inputs: list[Input] = []
    for item in items:
        if "key_json" in item:
            import json

            key: bytes | None = json.dumps(item["key_json"]).encode()
        elif "key" in item:
            key = str(item["key"]).encode()
        else:
            key = None
        raw = "value_raw" in item
        value = item["value_raw"].encode() if raw else item.get("value")
        repeat = int(item.get("repeat", 1))
        partition = item.get("partition")
        for i in range(repeat):
            if partition == "round-robin":
                chosen: int | None = i  # taken modulo the topic's partitions when produced
            else:
                chosen = partition
            inputs.append(
                Input(
                    topic=item["topic"],
                    key=key,
                    value=value,
                    raw=raw,
                    at=item.get("at"),
                    partition=chosen,
                    phase=int(item.get("phase", 1)),
                )
            )
    return inputs


def _expected(data: dict[str, Any], app_id: str) -> Expected:
    topics = {name: list(spec.get("records", [])) for name, spec in data.get("topics", {}).items()}
    tables = [
        TableSpec(
            name=name,
            changelog=spec.get("changelog", f"{app_id}-{name}-changelog"),
            state=dict(spec.get("state", {})),
        )
        for name, spec in data.get("tables", {}).items()
    ]
    return Expected(topics=topics, tables=tables, printed=list(data.get("printed", [])))
