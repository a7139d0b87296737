"""Runs one corpus app on a fresh embedded broker and checks its outputs against its spec.

Three ways to run an app, each a :class:`Runner`: the worker ``faustc build`` made
(``compiled``), the app on our runtime as written (``uncompiled``), and the app on
faust-streaming in its own virtualenv (``faust-streaming``, see ``faust_streaming.py``).
Every run gets its own Tansu (in memory, ~0.1 s to start), so runs never see each other's
topics, offsets or groups. Example::

    app = load_app(APPS / "wordcount.toml")
    built = build(app, tmp / "build")                  # `faustc build`, mypy included
    outcome = run_app(app, compiled(built.worker), tmp / "run")
    print(outcome.status, outcome.cause, outcome.diff)  # "pass", "", []

A run: start the broker, create the spec's topics, produce phase 1, start the worker,
produce each later phase once the app's group has committed the one before, then read the
output topics and table changelogs every second until they equal the spec (then once more
after a short settle, to catch extra records) or the time is up; stop the worker (SIGTERM).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient

from compat.corpus import APPS, CorpusApp, Expected, Input
from faustc.broker import EmbeddedBroker
from kafka_helpers import WorkerProcess, committed, create_topic, produce, read_all

REPO = Path(__file__).resolve().parents[2]
#: seconds to keep reading after the outputs matched, to see records that should not be there
SETTLE = 2.0
#: seconds a worker gets to stop after SIGTERM before it is killed
STOP_TIMEOUT = 15.0

#: settings for faust-streaming workers (it reads unprefixed environment names)
FAUST_STREAMING_ENV = {
    "BROKER_SESSION_TIMEOUT": "6",
    "BROKER_HEARTBEAT_INTERVAL": "1",
    "BROKER_COMMIT_INTERVAL": "0.5",
}


# -- building ------------------------------------------------------------------------------

DIAGNOSTIC = re.compile(
    r"^(?P<where>\S+?:\d+:\d+): error: (?P<message>.*?)(?: \[(?P<code>[\w-]+)\])?$"
)


@dataclass
class BuildOutcome:
    status: str  # "builds" | "diagnostic" | "crash"
    seconds: float
    worker: Path | None = None
    code: str = ""
    message: str = ""  # the first error line
    errors: int = 0  # how many error lines
    fused: int | None = None  # agents the worker runs compiled ("N agents fused")
    output: str = ""


def build(app: CorpusApp, out_dir: Path, *, typecheck: bool = True) -> BuildOutcome:
    """``faustc build <entry> -o out_dir`` as a user runs it in the project's directory
    (``apps/``), mypy included unless told otherwise."""
    entry = str(app.entry.relative_to(APPS))
    argv = [sys.executable, "-m", "faustc", "build", entry, "-o", str(out_dir.resolve())]
    if not typecheck:
        argv.append("--no-typecheck")
    started = time.monotonic()
    env = {**os.environ, **app.env, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(argv, capture_output=True, text=True, cwd=APPS, env=env)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    if result.returncode == 0:
        workers = sorted(out_dir.glob("*_worker.py"))
        fused = re.search(r"\((\d+) agents? fused[,)]", output)
        return BuildOutcome(
            "builds",
            seconds,
            worker=workers[0] if workers else None,
            fused=int(fused.group(1)) if fused else None,
            output=output,
        )
    errors = [m for m in map(DIAGNOSTIC.match, output.splitlines()) if m]
    if result.returncode == 1 and errors:
        first = errors[0]
        where = first["where"].replace(str(APPS) + "/", "")
        return BuildOutcome(
            "diagnostic",
            seconds,
            code=first["code"] or "",
            message=f"{where}: {first['message']}",
            errors=len(errors),
            output=output,
        )
    lines = [line for line in output.splitlines() if line.strip()]
    return BuildOutcome("crash", seconds, message=lines[-1] if lines else "", output=output)


# -- runners -------------------------------------------------------------------------------


@dataclass
class Launch:
    executable: str
    argv: list[str]
    env: dict[str, str]
    note: str = ""  # said in the report next to the outcome


@dataclass
class Runner:
    name: str
    launch: Callable[[CorpusApp, str, Path], Launch]  # (app, broker url, datadir) -> Launch


def _env(app: CorpusApp, extra: dict[str, str] | None = None) -> dict[str, str]:
    path = [str(APPS), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "FAUST_WEB_PORT": "0",  # each worker's web server on a free port: runs may overlap
        **app.env,
        **(extra or {}),
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def compiled(worker: Path) -> Runner:
    """The worker ``faustc build`` wrote."""

    def launch(app: CorpusApp, url: str, datadir: Path) -> Launch:
        argv = [str(worker), "worker", "--broker", url, "--datadir", str(datadir)]
        return Launch(sys.executable, argv, _env(app))

    return Runner("compiled", launch)


def uncompiled() -> Runner:
    """The app as written, on our runtime: ``python app.py worker`` when the module calls
    ``app.main()``, else Faust's ``-A`` start-up, ``python -m faust -A module worker``."""

    def launch(app: CorpusApp, url: str, datadir: Path) -> Launch:
        tail = ["worker", "--broker", url, "--datadir", str(datadir)]
        if app.calls_main:
            return Launch(sys.executable, [str(app.entry), *tail], _env(app))
        note = "no app.main(): run as `python -m faust -A module worker`"
        return Launch(sys.executable, ["-m", "faust", "-A", app.module, *tail], _env(app), note)

    return Runner("uncompiled", launch)


def faust_streaming(python: Path) -> Runner:
    """faust-streaming's own command line: ``faust -A module worker`` (``python app.py
    worker`` for a file whose name is not a module name)."""

    def launch(app: CorpusApp, url: str, datadir: Path) -> Launch:
        options = ["--datadir", str(datadir)]
        worker = ["worker", "--without-web", "--loglevel", "info"]
        env = _env(app, {**FAUST_STREAMING_ENV, "BROKER_URL": url})
        if app.module.isidentifier() or all(p.isidentifier() for p in app.module.split(".")):
            argv = ["-m", "faust", *options, "-A", app.module, *worker]
        else:
            argv = [str(app.entry), *options, *worker]
        return Launch(str(python), argv, env)

    return Runner("faust-streaming", launch)


# -- running -------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    runner: str
    status: str  # "pass" | "wrong" | "error"
    seconds: float
    cause: str = ""  # for "error": the worker's own last word
    diff: list[str] = field(default_factory=list)  # for "wrong": what differs from the spec
    note: str = ""
    log_dir: Path | None = None
    actual: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None  # after SIGTERM at the end of the run

    @property
    def ok(self) -> bool:
        return self.status == "pass"


def run_app(
    app: CorpusApp, runner: Runner, work_dir: Path, expected: Expected | None = None
) -> RunOutcome:
    """Run ``app`` with ``runner`` on a broker of its own; compare with ``expected`` (the
    spec's unless given)."""
    expected = expected or app.expected
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    broker = EmbeddedBroker(log_file=work_dir / "tansu.log").start()
    worker: WorkerProcess | None = None
    launch = runner.launch(app, broker.url, work_dir / "data")
    try:
        base = time.time() if app.time_base == "now" else math.floor(time.time() / 3600) * 3600.0
        expected = with_times(expected, base)
        for topic, partitions in app.topics.items():
            create_topic(broker.bootstrap, topic, partitions)
        phases = app.phases
        ends = _produce_phase(app, broker.bootstrap, phases[0], base)
        worker = WorkerProcess(
            launch.argv, work_dir, launch.env, executable=launch.executable, cwd=work_dir
        )
        deadline = time.monotonic() + app.timeout
        for phase in phases[1:]:
            if not _wait_for_commits(broker.bootstrap, app.app_id, ends, worker, deadline):
                break
            for topic, topic_ends in _produce_phase(app, broker.bootstrap, phase, base).items():
                for partition, end in topic_ends.items():
                    ends.setdefault(topic, {})[partition] = end
        diff, exited = _watch(broker.bootstrap, expected, worker, base, deadline)
        actual = _actual(broker.bootstrap, expected, worker, base)
    finally:
        rc = None
        killed = False
        if worker is not None:
            try:
                rc = worker.stop(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                worker.kill()
                rc, killed = -signal.SIGKILL, True
        broker.stop()
    seconds = time.monotonic() - started
    outcome = RunOutcome(runner.name, "pass", seconds, note=launch.note, log_dir=work_dir)
    outcome.actual = actual
    outcome.exit_code = rc
    stop = ""
    if killed:
        stop = f"did not stop within {STOP_TIMEOUT:g} s of SIGTERM (killed)"
    elif rc not in (0, None) and not diff:
        stop = f"exit status {rc} after SIGTERM"
    if stop:
        outcome.note = f"{outcome.note}; {stop}" if outcome.note else stop
    if diff:
        assert worker is not None
        log = worker.stderr + worker.stdout
        outcome.diff = diff
        if exited:
            outcome.status = "error"
            outcome.cause = f"exit {rc}: {last_word(log)}"
        else:
            outcome.status = "wrong"
            outcome.cause = first_error(log)
        outcome.cause = outcome.cause.replace(f"{REPO}/", "")
    return outcome


def _produce_phase(
    app: CorpusApp, bootstrap: str, phase: int, base: float
) -> dict[str, dict[int, int]]:
    by_topic: dict[str, list[tuple[Any, ...]]] = {}
    for item in (i for i in app.inputs if i.phase == phase):
        partitions = app.topics.get(item.topic)
        partition = item.partition
        if partition is not None and partitions:
            partition %= partitions
        timestamp = None if item.at is None else int((base + item.at) * 1000)
        by_topic.setdefault(item.topic, []).append(
            (item.key, encode_value(item, base), timestamp, partition)
        )
    return {topic: produce(bootstrap, topic, records) for topic, records in by_topic.items()}


def encode_value(item: Input, base: float) -> bytes | None:
    if item.raw:
        assert isinstance(item.value, bytes)
        return item.value
    if item.value is None:
        return None
    return json.dumps(_with_times(item.value, base)).encode()


def with_times(expected: Expected, base: float) -> Expected:
    """``expected`` with its ``${...}`` time references resolved against ``base``."""
    return Expected(
        topics={t: _with_times(records, base) for t, records in expected.topics.items()},
        tables=[replace(t, state=_with_times(t.state, base)) for t in expected.tables],
        printed=expected.printed,
    )


_TIME = re.compile(r"^\$\{(ts|ms|iso)([+-]\d+(?:\.\d+)?)?\}$")


def _with_times(value: Any, base: float) -> Any:
    if isinstance(value, str):
        match = _TIME.match(value)
        if not match:
            return value
        moment = base + float(match.group(2) or 0)
        if match.group(1) == "ts":
            return moment
        if match.group(1) == "ms":
            return int(moment * 1000)
        from datetime import UTC, datetime

        return datetime.fromtimestamp(moment, UTC).isoformat()
    if isinstance(value, list):
        return [_with_times(v, base) for v in value]
    if isinstance(value, dict):
        return {k: _with_times(v, base) for k, v in value.items()}
    return value


def _wait_for_commits(
    bootstrap: str,
    group: str,
    ends: dict[str, dict[int, int]],
    worker: WorkerProcess,
    deadline: float,
) -> bool:
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            return False
        if all(
            all(
                (offset or 0) >= topic_ends[p]
                for p, offset in committed(bootstrap, group, topic, topic_ends.keys()).items()
            )
            for topic, topic_ends in ends.items()
        ):
            return True
        time.sleep(0.5)
    return False


def _watch(
    bootstrap: str, expected: Expected, worker: WorkerProcess, base: float, deadline: float
) -> tuple[list[str], bool]:
    """Wait until the outputs equal ``expected`` (and still do after SETTLE seconds), the
    worker exits or the deadline passes; return the differences left (none: it passed) and
    whether the worker exited on its own."""
    while True:
        diff = compare(expected, _actual(bootstrap, expected, worker, base))
        if not diff:
            time.sleep(SETTLE)
            diff = compare(expected, _actual(bootstrap, expected, worker, base))
            if not diff:
                return [], False
        if worker.process.poll() is not None:
            return compare(expected, _actual(bootstrap, expected, worker, base)), True
        if time.monotonic() > deadline:
            return diff, False
        time.sleep(1.0)


# -- reading outputs -----------------------------------------------------------------------


def _actual(
    bootstrap: str, expected: Expected, worker: WorkerProcess, base: float
) -> dict[str, Any]:
    sizes = topic_partitions(bootstrap)
    actual: dict[str, Any] = {"topics": {}, "tables": {}, "printed": worker.stdout + worker.stderr}
    for topic in expected.topics:
        records = read_all(bootstrap, topic, sizes[topic]) if topic in sizes else []
        actual["topics"][topic] = [
            {"key": decode(m.key()), "value": decode(m.value()), "partition": m.partition()}
            for m in records
        ]
    for table in expected.tables:
        records = (
            read_all(bootstrap, table.changelog, sizes[table.changelog])
            if table.changelog in sizes
            else []
        )
        actual["tables"][table.name] = table_state(records, base)
    return actual


_quiet = logging.getLogger("compat.harness.admin")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def topic_partitions(bootstrap: str) -> dict[str, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": _quiet})
    metadata = admin.list_topics(timeout=10)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def decode(data: bytes | None) -> Any:
    """Bytes as data: JSON when they parse (Faust's ``__faust`` metadata removed), else text."""
    if data is None:
        return None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return f"<bytes {data!r}>"
    try:
        return _without_metadata(json.loads(text))
    except ValueError:
        return text


def _without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_metadata(v) for k, v in value.items() if k != "__faust"}
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    return value


def table_state(records: list[Any], base: float) -> dict[str, Any]:
    """A table's state from its changelog: the last value of each key in each partition.

    A key whose last values differ between partitions is reported as split (Faust and
    faustc both keep a key in one partition when the input is keyed by it)."""
    per_partition: dict[int, dict[str, Any]] = {}
    for message in records:
        state = per_partition.setdefault(message.partition(), {})
        key = table_key(decode(message.key()), base)
        value = decode(message.value())
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    merged: dict[str, Any] = {}
    places: dict[str, dict[int, Any]] = {}
    for partition, state in sorted(per_partition.items()):
        for key, value in state.items():
            places.setdefault(key, {})[partition] = value
    for key, values in places.items():
        distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
        if len(distinct) == 1:
            merged[key] = next(iter(values.values()))
        else:
            merged[key] = "split: " + ", ".join(f"p{p}={v!r}" for p, v in values.items())
    return merged


def table_key(key: Any, base: float) -> str:
    """``[key, [start, end]]`` (a window) reads ``key@<start - base>``."""
    if (
        isinstance(key, list)
        and len(key) == 2
        and isinstance(key[1], list)
        and len(key[1]) == 2
        and all(isinstance(x, int | float) for x in key[1])
    ):
        return f"{table_key(key[0], base)}@{key[1][0] - base:g}"
    return key if isinstance(key, str) else json.dumps(key)


# -- comparing -----------------------------------------------------------------------------


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(expected, int | float) and isinstance(actual, int | float):
            return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
        return False
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            same(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    return bool(expected == actual) and type(expected) is type(actual)


def compare(expected: Expected, actual: dict[str, Any]) -> list[str]:
    """What differs between the spec and the outputs, one line each (none: equal)."""
    diff: list[str] = []
    for topic, records in expected.topics.items():
        got = list(actual["topics"].get(topic, []))
        missing = []
        for want in records:
            match = next(
                (
                    g
                    for g in got
                    if same(want.get("value"), g["value"])
                    and ("key" not in want or same(want["key"], g["key"]))
                ),
                None,
            )
            if match is None:
                missing.append(want)
            else:
                got.remove(match)
        if missing:
            diff.append(
                f"topic {topic}: missing {len(missing)} of {len(records)}: {_show(missing)}"
            )
        if got:
            extra = [{"key": g["key"], "value": g["value"]} for g in got]
            diff.append(f"topic {topic}: {len(got)} unexpected: {_show(extra)}")
    for table in expected.tables:
        state = actual["tables"].get(table.name, {})
        wrong = {
            k: state.get(k, "<absent>") for k, v in table.state.items() if not same(v, state.get(k))
        }
        extra_keys = {k: v for k, v in state.items() if k not in table.state}
        if wrong:
            want = {k: table.state[k] for k in wrong}
            diff.append(f"table {table.name}: want {_show(want)}, got {_show(wrong)}")
        if extra_keys:
            diff.append(f"table {table.name}: unexpected keys {_show(extra_keys)}")
    text = actual["printed"]
    for pattern in expected.printed:
        if not re.search(pattern, text, re.MULTILINE):
            diff.append(f"printed: nothing matches {pattern!r}")
    return diff


def _show(value: Any, limit: int = 240) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def last_word(log: str) -> str:
    """The line that says why a worker stopped: its ``error:`` line, else the exception a
    traceback ends with, else its last line."""
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error:"):
            return line
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            for after in lines[index + 1 :]:
                if not after.startswith(" ") and not after.startswith("Traceback"):
                    return after
    return lines[-1] if lines else "(no output)"


def first_error(log: str) -> str:
    """The first error a still-running worker logged (an exception, an ERROR line), if any."""
    lines = [line.rstrip() for line in log.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            for after in lines[index + 1 :]:
                if not after.startswith(" ") and not after.startswith("Traceback"):
                    return f"logged: {after}"
        if "[ERROR]" in line or line.startswith("error:"):
            return f"logged: {line.split('[ERROR]')[-1].strip()}"
    return ""
