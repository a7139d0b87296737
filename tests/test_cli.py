"""The command line of an app, for ``python app.py`` and built workers alike, as real
processes: every command on the examples, ``send`` feeding a running worker, ``reset`` and
a restart that recovers from the changelog, an app's own commands, ``-l INFO``, errors.

Tests that need Kafka start a broker of their own (the topic names of the examples are
fixed, and another test module counts exactly what the examples' topics carry).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from faustc.broker import EmbeddedBroker
from kafka_helpers import WORKER_ENV, WorkerProcess, read_topic

APPS = REPO / "tests" / "apps"
EXAMPLE_NAMES = ["avro_orders", "big_orders", "order_batches", "withdrawals", "wordcount"]


def run(program: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, str(program), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **WORKER_ENV, **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example and the CLI test app, built (without mypy: the build is not tested)."""
    out = tmp_path_factory.mktemp("build")
    workers = {}
    for source in [*(EXAMPLES / f"{n}.py" for n in EXAMPLE_NAMES), APPS / "cli_app.py"]:
        result = subprocess.run(
            [sys.executable, "-m", "faustc", "build", str(source), "-o", str(out),
             "--no-typecheck"],
            capture_output=True, text=True, cwd=REPO,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        workers[source.stem] = out / f"{source.stem}_worker.py"
    return workers


def programs(built: dict[str, Path], name: str) -> list[Path]:
    """The app as written and its built worker: the same command line."""
    source = EXAMPLES / f"{name}.py" if name in EXAMPLE_NAMES else APPS / f"{name}.py"
    return [source, built[name]]


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log_file = tmp_path_factory.mktemp("cli-broker") / "tansu.log"
    embedded = EmbeddedBroker(log_file=log_file).start()
    yield embedded
    embedded.stop()


# -- listing commands, without a broker ------------------------------------------------------

EXPECTED_AGENTS = {
    "avro_orders": ["@find_big_orders"],
    "big_orders": ["@find_big_orders"],
    "order_batches": ["@total_batches"],
    "withdrawals": ["@track_users"],
    "wordcount": ["@count_words"],
    "cli_app": ["@count_greetings"],
}


@pytest.mark.parametrize("name", [*EXAMPLE_NAMES, "cli_app"])
def test_listing_commands_on_every_example(built: dict[str, Path], name: str) -> None:
    for program in programs(built, name):
        result = run(program, "--json", "agents")
        assert result.returncode == 0, result.stderr
        agents = json.loads(result.stdout)
        assert sorted(a["name"] for a in agents) == sorted(EXPECTED_AGENTS[name])
        assert all(set(a) == {"name", "topic", "help"} for a in agents)

        text = run(program, "agents")
        assert text.returncode == 0 and text.stdout.startswith("+Agents")
        for agent in EXPECTED_AGENTS[name]:
            assert f"| {agent} " in text.stdout

        tables = run(program, "tables", "--json")
        assert tables.returncode == 0, tables.stderr
        assert all(set(t) == {"name", "help"} for t in json.loads(tables.stdout))

        models = run(program, "--json", "models")
        assert models.returncode == 0, models.stderr
        names = [m["name"] for m in json.loads(models.stdout)]
        for model_name in names:
            detail = run(program, "--json", "model", model_name)
            assert detail.returncode == 0, detail.stderr
            fields = json.loads(detail.stdout)
            assert fields and all(set(f) == {"field", "type", "default"} for f in fields)
            assert run(program, "model", model_name).stdout.startswith(f"+{model_name}")


def test_the_tables_and_models_say_what_they_are(built: dict[str, Path]) -> None:
    for program in programs(built, "cli_app"):
        tables = json.loads(run(program, "--json", "tables").stdout)
        assert tables == [{"name": "greeted", "help": "How often each name was greeted."}]
        models = json.loads(run(program, "--json", "models").stdout)
        assert models == [{"name": "Greeting", "help": "A greeting to someone."}]
        fields = json.loads(run(program, "--json", "model", "Greeting").stdout)
        assert fields == [
            {"field": "name", "type": "str", "default": "*"},
            {"field": "times", "type": "int", "default": "1"},
        ]
        agents = json.loads(run(program, "--json", "agents").stdout)
        help_text = "Count the greetings per name."
        assert agents == [{"name": "@count_greetings", "topic": "greetings", "help": help_text}]


def test_an_unknown_model_is_one_line(built: dict[str, Path]) -> None:
    result = run(built["big_orders"], "model", "Ordr")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "No model 'Ordr'. Did you mean 'Order'?" in result.stderr


# -- the app's own commands ------------------------------------------------------------------


def test_custom_commands_take_options_and_arguments(built: dict[str, Path]) -> None:
    for program in programs(built, "cli_app"):
        result = run(program, "greet", "--count", "2", "--shout", "Ada")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["HELLO ADA FROM CLI-APP"] * 2
        assert run(program, "greet", "-c", "1", "Bob").stdout == "hello Bob from cli-app\n"
        assert run(program, "ping").stdout == "pong\n"
        assert run(program, "-q", "greet", "Ada").stdout == ""  # --quiet silences say()
        helped = run(program, "greet", "--help")
        assert "Greet someone on the terminal." in helped.stdout
        assert "--count" in helped.stdout and "[default: 1]" in helped.stdout
        missing = run(program, "greet")
        assert missing.returncode == 2
        assert missing.stderr.strip() == (
            f"{program.name} greet: error: Missing argument 'NAME'. (see --help)"
        )
        bad = run(program, "greet", "--count", "many", "Ada")
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1
        assert "'many' is not a valid integer" in bad.stderr


# -- errors are one line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["worker", "--bogus"], "No such option '--bogus'"),
        (["worker", "-l", "LOUD"], "'LOUD' is not one of"),
        (["nonsense"], "No such command 'nonsense'"),
        (["send"], "Missing argument 'ENTITY'"),
        (["send", "orders", "--repeat", "0"], "0 is not in the range x>=1"),
    ],
)
def test_a_bad_flag_is_one_line(built: dict[str, Path], args: list[str], message: str) -> None:
    for program in programs(built, "big_orders"):
        result = run(program, *args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr
        assert result.stdout == ""


def test_no_command_prints_the_commands(built: dict[str, Path]) -> None:
    result = run(built["wordcount"])
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Usage: wordcount_worker.py [OPTIONS] COMMAND")
    for command in ("agents", "model", "models", "reset", "send", "tables", "worker"):
        assert f"  {command}  " in result.stderr


def test_an_unreachable_broker_is_one_error_line(built: dict[str, Path]) -> None:
    result = run(
        built["cli_app"], "-b", "kafka://127.0.0.1:1", "tell", "Ada",
        env={"FAUST_BROKER_CONNECT_TIMEOUT": "2"},
    )  # fmt: skip
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and "cannot reach the Kafka broker at 127.0.0.1:1" in errors[0]
    assert "Traceback" not in result.stderr


# -- with a broker: send, reset, the worker's flags ----------------------------------------------


def test_send_feeds_a_running_worker_and_reset_deletes_its_state(
    built: dict[str, Path], own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``send`` (to a topic and to ``@agent``, keys, --repeat) feeds the built word count
    worker (RocksDB tables, ``-l INFO``); ``reset`` deletes its table state and says what;
    the restarted worker recovers the counts from the changelog and goes on counting."""
    worker_file = built["wordcount"]
    env = {"FAUST_STORE": "rocksdb://", "FAUST_BROKER": own_broker.url}
    datadir = tmp_path / "data"
    argv = [str(worker_file), "worker", "-l", "INFO", "--datadir", str(datadir)]
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    worker = WorkerProcess(argv, first_dir, env)
    try:
        worker.wait_for_output(lambda _: "processing resumes" in worker.stderr, 60)
        sent = run(worker_file, "send", "words", "kafka", "-k", "kafka", "--repeat", "3", env=env)
        assert sent.returncode == 0, sent.stderr
        receipts = [json.loads(line) for line in sent.stdout.splitlines()]
        assert [r["offset"] for r in receipts] == [0, 1, 2]
        assert {r["topic"] for r in receipts} == {"words"}
        assert len({r["partition"] for r in receipts}) == 1  # one key, one partition
        by_agent = run(worker_file, "send", "@count_words", "faust", "-k", "faust", env=env)
        assert by_agent.returncode == 0, by_agent.stderr
        worker.wait_for_output(lambda out: "kafka: 3" in out and "faust: 1" in out, 60)
    finally:
        assert worker.stop() == 0, worker.stderr
    assert "[INFO] faust.worker: worker for app 'word-count-app'" in worker.stderr

    table_dir = datadir / "tables" / "word-counts"
    assert table_dir.is_dir()
    reset = run(worker_file, "reset", "--datadir", str(datadir), env=env)
    assert reset.returncode == 0, reset.stderr
    assert f"Removing database for table word-counts: {table_dir}" in reset.stdout
    assert "Deleted the local state of 1 table(s)" in reset.stdout
    assert not table_dir.exists()

    second_dir = tmp_path / "second"
    second_dir.mkdir()
    restarted = WorkerProcess(argv, second_dir, env)
    try:
        restarted.wait_for_output(lambda out: "kafka: 3" in out and "faust: 1" in out, 60)
        recovered = re.search(r"recovered 8 table partitions: (\d+) changelog", restarted.stderr)
        assert recovered is not None and int(recovered.group(1)) >= 2, restarted.stderr
        assert run(worker_file, "send", "words", "kafka", "-k", "kafka", env=env).returncode == 0
        restarted.wait_for_output(lambda out: "kafka: 4" in out, 60)
        locked = run(worker_file, "reset", "--datadir", str(datadir), env=env)
        assert locked.returncode == 1
        assert locked.stderr.startswith("error: data directory") and locked.stderr.count("\n") == 1
    finally:
        assert restarted.stop() == 0, restarted.stderr


def test_send_records_as_json_and_custom_commands_that_send(
    built: dict[str, Path], own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A Record value given as JSON goes through the app's codec; ``tell`` (an
    ``@app.command``) sends with ``topic.send``; the running worker counts both; the
    worker logs JSON lines to a file when asked."""
    worker_file = built["cli_app"]
    env = {"FAUST_BROKER": own_broker.url}
    logfile = tmp_path / "worker.log"
    argv = [str(worker_file), "worker", "--json", "--logfile", str(logfile), "-l", "info"]
    worker = WorkerProcess(argv, tmp_path, env)
    try:
        sent = run(worker_file, "send", "greetings", '{"name": "Ada", "times": 2}', "-k", "Ada",
                   env=env)  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        told = run(APPS / "cli_app.py", "tell", "Bob", "--times", "5", env=env)
        assert told.returncode == 0, told.stderr
        assert told.stdout == "sent a greeting to Bob\n"
        bad = run(worker_file, "send", "greetings", '{"nam": "Cy"}', env=env)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1
        assert "missing required field 'name'" in bad.stderr
        worker.wait_for_output(lambda o: "greeted Ada: 2" in o and "greeted Bob: 5" in o, 60)
    finally:
        assert worker.stop() == 0, worker.stderr
    records = [json.loads(line) for line in logfile.read_text().splitlines()]
    assert {"time", "level", "logger", "message", "pid"} <= set(records[0])
    assert any(r["message"].startswith("worker for app 'cli-app'") for r in records)
    value = read_topic(own_broker.bootstrap, "greetings", 2, 2)
    assert sorted(json.loads(m.value())["name"] for m in value) == ["Ada", "Bob"]


def test_an_unreachable_broker_shows_progress_before_the_error(built: dict[str, Path]) -> None:
    result = run(
        built["big_orders"], "worker", "-b", "kafka://127.0.0.1:1",
        env={"FAUST_BROKER_CONNECT_TIMEOUT": "8"},
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    waiting = [line for line in lines if "waiting for the Kafka broker at 127.0.0.1:1" in line]
    assert len(waiting) >= 1 and all("[WARNING]" in line for line in waiting)
    assert lines[-1].startswith("error: cannot reach the Kafka broker at 127.0.0.1:1 within 8s")
    assert [line for line in lines if not line.startswith("[")] == [lines[-1]]  # one error


def test_a_worker_says_it_waits_for_its_partitions(
    built: dict[str, Path], own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """With a 16 s session timeout the group join takes about 8 s: the worker says it is
    waiting every 5 s until its partitions come."""
    env = {"FAUST_BROKER": own_broker.url, "FAUST_BROKER_SESSION_TIMEOUT": "16"}
    worker = WorkerProcess([str(built["big_orders"]), "worker", "-l", "info"], tmp_path, env)
    try:
        worker.wait_for_output(lambda _: "assigned orders[" in worker.stderr, 60)
    finally:
        assert worker.stop() == 0, worker.stderr
    assert "waiting for partition assignment from group 'big-orders' (5s so far)" in worker.stderr


def test_faustc_run_passes_the_worker_flags(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "faustc", "run", str(EXAMPLES / "wordcount.py"),
            "-o", str(tmp_path), "--no-typecheck"]  # fmt: skip
    bad = subprocess.run([*base, "-l", "LOUD"], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("wordcount_worker.py worker: error: Invalid value for '-l'")


def test_the_recovery_bar_on_a_terminal_is_not_broken_by_log_lines(
    built: dict[str, Path], own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A word count worker restores 20,000 keys with its stderr on a pseudo-terminal: the
    bar is drawn, the log lines written meanwhile (partitions resuming) start on a line
    of their own, and when recovery ends the bar is gone."""
    import pty
    import threading

    from test_progress import Terminal

    from kafka_helpers import produce, wait_for_commit

    worker_file = built["wordcount"]
    env = {"FAUST_BROKER": own_broker.url}
    words = [f"w{i}" for i in range(20_000)]
    first = WorkerProcess([str(worker_file), "worker"], tmp_path, env)
    try:
        first.wait_for_output(lambda _: "processing resumes" in first.stderr, 60)
        ends = produce(
            own_broker.bootstrap, "words", [(w.encode(), json.dumps(w).encode()) for w in words]
        )
        wait_for_commit(own_broker.bootstrap, "word-count-app", "words", ends, 60)
    finally:
        assert first.stop() == 0, first.stderr

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(worker_file), "worker"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**os.environ, **WORKER_ENV, **env},
    )
    os.close(follower)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while b"recovered 8 table partitions" not in b"".join(chunks):
            assert time.monotonic() < deadline and process.poll() is None, b"".join(chunks)
            time.sleep(0.2)
    finally:
        process.terminate()
        assert process.wait(30) == 0
        reader.join(5)
        os.close(leader)
    text = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
    assert "recovering table partitions [" in text  # the bar was drawn
    terminal = Terminal()
    terminal.write(text)
    screen = [line for line in terminal.screen() if line]
    assert screen, text
    assert all(line.startswith("[") for line in screen), screen  # log lines only, whole
    # (other tests of this module wrote a few words to the same table before)
    recovered = [
        re.search(r"recovered 8 table partitions: (\d+) changelog", line) for line in screen
    ]
    counts = [int(found.group(1)) for found in recovered if found]
    assert counts and counts[0] >= len(words), screen


def test_send_writes_the_topics_codec_avro_from_json(
    built: dict[str, Path], own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """An Order given as JSON on the command line goes out as Avro (the topic's codec): the
    Avro worker decodes it (a JSON value would stop it under the fail policy) and
    publishes the one big, paid order."""
    worker_file = built["avro_orders"]
    env = {"FAUST_BROKER": own_broker.url}

    def order(order_id: str, status: str, price: str) -> str:
        return json.dumps(
            {
                "order_id": order_id,
                "account_id": "a1",
                "placed_at": "2024-01-05T09:07:00+00:00",
                "status": status,
                "lines": [{"sku": "x", "quantity": 2, "price": price}],
                "tags": {"channel": "cli"},
            }
        )

    worker = WorkerProcess([str(worker_file), "worker"], tmp_path, env)
    try:
        big = "6f1c2b9e-8d6b-4e0f-9a1c-3b2d4e6f8a0b"
        for value in (order(big, "paid", "600.00"), order(str(uuid.uuid4()), "paid", "1.00")):
            sent = run(worker_file, "send", "avro-orders", value, "-k", "a1", env=env)
            assert sent.returncode == 0, sent.stderr
        outputs = read_topic(own_broker.bootstrap, "avro-big-orders", 4, 1)
    finally:
        assert worker.stop() == 0, worker.stderr
    assert "stopped after processing 2 message(s)" in worker.stderr
    assert [m.key() for m in outputs] == [b"a1"]
    assert big.encode() in outputs[0].value()  # Avro writes a uuid as its string
