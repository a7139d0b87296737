"""The examples, built and run as real processes against the real broker.

Each test produces 10,000 records, runs the built worker, reads what it produced, checks
the exact expected records, and checks that the group's committed offsets reached the end
offsets before a clean SIGTERM/SIGINT shutdown (exit 0).
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from faust.transport.partitioner import partition_for_key
from faustc.broker import EmbeddedBroker, free_port
from kafka_helpers import (
    WorkerProcess,
    committed,
    create_topic,
    produce,
    read_topic,
    wait_for_commit,
    wait_until,
)

pytestmark = pytest.mark.broker

N = 10_000


def faustc(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=cwd
    )


def build(example: str, out: Path) -> Path:
    result = faustc("build", str(EXAMPLES / example), "-o", str(out))
    assert result.returncode == 0, result.stderr
    worker = out / example.replace(".py", "_worker.py")
    assert worker.is_file()
    return worker


def test_big_orders_end_to_end(broker: EmbeddedBroker, tmp_path: Path) -> None:
    worker_file = build("big_orders.py", tmp_path / "build")
    create_topic(broker.bootstrap, "orders", 4)
    rng = random.Random(7)
    orders = [
        {
            "order_id": f"o{i}",
            "account_id": f"acct-{rng.randrange(50)}",
            "amount": round(rng.uniform(0, 2000), 2),
            "currency": "EUR",
            "__faust": {"ns": "big_orders.Order"},
        }
        for i in range(N)
    ]
    ends = produce(
        broker.bootstrap,
        "orders",
        [(o["account_id"].encode(), json.dumps(o).encode()) for o in orders],
    )
    assert sum(ends.values()) == N

    worker = WorkerProcess([str(worker_file), "worker", "--broker", broker.url], tmp_path)
    try:
        expected = [
            {
                "order_id": o["order_id"],
                "account_id": o["account_id"],
                "amount_cents": round(o["amount"] * 100),
                "__faust": {"ns": "big_orders.BigOrder"},
            }
            for o in orders
            if o["amount"] >= 1000.0
        ]
        records = read_topic(broker.bootstrap, "big-orders", 4, len(expected))
        got = [(m.key().decode(), json.loads(m.value())) for m in records]
        assert sorted(got, key=lambda kv: kv[1]["order_id"]) == sorted(
            ((e["account_id"], e) for e in expected), key=lambda kv: kv[1]["order_id"]
        )
        # keys are partitioned as Kafka's Java client would (murmur2)
        for message in records:
            assert message.partition() == partition_for_key(message.key(), 4)
        # per account, outputs keep the input order
        for account in {e["account_id"] for e in expected}:
            produced = [e["order_id"] for e in expected if e["account_id"] == account]
            seen = [v["order_id"] for k, v in got if k == account]
            assert seen == produced
        wait_for_commit(broker.bootstrap, "big-orders", "orders", ends)
    finally:
        rc = worker.stop()
    assert rc == 0, worker.stderr
    assert committed(broker.bootstrap, "big-orders", "orders", ends.keys()) == ends
    assert "Traceback" not in worker.stderr


def test_wordcount_with_faustc_run(broker: EmbeddedBroker, tmp_path: Path) -> None:
    vocabulary = [f"word{i}" for i in range(40)]
    rng = random.Random(11)
    words = [rng.choice(vocabulary) for _ in range(N)]
    create_topic(broker.bootstrap, "words", 4)
    # keyed by the word: a table is partitioned like the stream that writes it
    ends = produce(broker.bootstrap, "words", [(w.encode(), json.dumps(w).encode()) for w in words])
    expected = Counter(words)

    worker = WorkerProcess(
        [
            "-m",
            "faustc",
            "run",
            str(EXAMPLES / "wordcount.py"),
            "-o",
            str(tmp_path / "b"),
            "--broker",
            broker.url,
        ],
        tmp_path,
    )

    def counts_complete(text: str) -> bool:
        found = dict(re.findall(r"^(word\d+): (\d+)$", text, re.MULTILINE))
        return {word: int(count) for word, count in found.items()} == expected

    try:
        worker.wait_for_output(counts_complete, timeout=60)
        wait_for_commit(broker.bootstrap, "word-count-app", "words", ends)
    finally:
        worker.process.send_signal(signal.SIGINT)
        rc = worker.process.wait(30)
    assert rc == 0, worker.stderr
    assert committed(broker.bootstrap, "word-count-app", "words", ends.keys()) == ends


def test_unreachable_broker_is_one_line(tmp_path: Path) -> None:
    worker_file = build("big_orders.py", tmp_path / "build")
    port = free_port()  # nothing listens there
    result = subprocess.run(
        [sys.executable, str(worker_file), "worker", "--broker", f"kafka://127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "FAUST_BROKER_CONNECT_TIMEOUT": "2"},
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(
        f"error: cannot reach the Kafka broker at 127.0.0.1:{port} within 2s"
    ), result.stderr


def test_worker_refuses_a_changed_source(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    source = app_dir / "big_orders.py"
    source.write_text((EXAMPLES / "big_orders.py").read_text())
    result = faustc("build", str(source), "-o", str(tmp_path / "build"))
    assert result.returncode == 0, result.stderr
    source.write_text(source.read_text().replace("BIG = 1000.0", "BIG = 10.0"))
    run = subprocess.run(
        [sys.executable, str(tmp_path / "build" / "big_orders_worker.py"), "worker"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "changed since" in run.stderr and "faustc build" in run.stderr
    assert "Traceback" not in run.stderr


REFERENCE_APP = """
import faust

app = faust.App("reference-app", broker="kafka://localhost:9092")
numbers = app.topic("reference-numbers", value_type=int, partitions=2)
squares = app.topic("reference-squares", value_type=int, partitions=2)


@app.agent(numbers)
async def square(stream: faust.Stream[int]) -> None:
    async for n in stream.filter(lambda n: n % 3 != 0):
        await squares.send(value=n * n)


if __name__ == "__main__":
    app.main()
"""


def test_app_main_runs_the_uncompiled_app(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app_file = tmp_path / "reference_app.py"
    app_file.write_text(REFERENCE_APP)
    create_topic(broker.bootstrap, "reference-numbers", 2)
    ends = produce(
        broker.bootstrap, "reference-numbers", [(None, str(i).encode()) for i in range(1000)]
    )
    worker = WorkerProcess([str(app_file), "worker", "--broker", broker.url], tmp_path)
    try:
        expected = sorted(i * i for i in range(1000) if i % 3 != 0)
        records = read_topic(broker.bootstrap, "reference-squares", 2, len(expected))
        assert sorted(int(m.value()) for m in records) == expected
        wait_for_commit(broker.bootstrap, "reference-app", "reference-numbers", ends)
    finally:
        rc = worker.stop()
    assert rc == 0, worker.stderr
    assert "0 compiled" in worker.stderr


def test_faustc_broker_command(tmp_path: Path) -> None:
    import select

    from confluent_kafka.admin import AdminClient

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "faustc", "broker", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "no output from faustc broker"
        line = process.stdout.readline()
        assert line.startswith(f"broker ready: kafka://127.0.0.1:{port}")
        metadata = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"}).list_topics(timeout=10)
        assert metadata.brokers
    finally:
        process.send_signal(signal.SIGINT)
        rc = process.wait(30)
    assert rc == 0
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def withdrawals_input(seed: int, count: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {
            "user": f"user-{rng.randrange(30)}",
            "account": f"acct-{rng.randrange(200)}",
            "amount": round(rng.uniform(-100, 1500), 2),
        }
        for _ in range(count)
    ]


def expected_alerts(withdrawals: list[dict[str, object]], limit: float) -> set[tuple[str, str]]:
    totals: dict[str, float] = {}
    alerts = set()
    for w in withdrawals:
        amount = float(w["amount"])  # type: ignore[arg-type]
        if amount <= 0:
            continue
        user = str(w["user"])
        before = totals.get(user, 0.0)
        totals[user] = before + amount
        if before <= limit < totals[user]:
            alerts.add((user, f"{user} over {limit}"))
    return alerts


def run_withdrawals(
    broker: EmbeddedBroker, tmp_path: Path, argv_for: object, suffix: str
) -> tuple[set[tuple[str, str]], int]:
    """Run a copy of examples/withdrawals.py (topics and app id suffixed) over 3,000
    withdrawals; return the alerts it produced and the records on its repartition topic."""
    source = (EXAMPLES / "withdrawals.py").read_text()
    source = source.replace('"withdrawals"', f'"withdrawals{suffix}"')
    source = source.replace('"withdrawal-alerts"', f'"withdrawal-alerts{suffix}"')
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    module = app_dir / f"withdrawals{suffix.replace('-', '_')}.py"
    module.write_text(source)
    topic, alerts_topic = f"withdrawals{suffix}", f"withdrawal-alerts{suffix}"
    create_topic(broker.bootstrap, topic, 4)
    withdrawals = withdrawals_input(3, 3000)
    ends = produce(
        broker.bootstrap,
        topic,
        [(str(w["account"]).encode(), json.dumps(w).encode()) for w in withdrawals],
    )
    expected = expected_alerts(withdrawals, 10_000.0)
    assert callable(argv_for)
    worker = WorkerProcess(argv_for(module, tmp_path), tmp_path)
    repartition = f"{module.stem}.track_users-{topic}-Withdrawal.user-repartition"
    try:
        records = read_topic(broker.bootstrap, alerts_topic, 4, len(expected))
        wait_for_commit(broker.bootstrap, f"withdrawals{suffix}", topic, ends, timeout=60)
        positives = sum(float(w["amount"]) > 0 for w in withdrawals)  # type: ignore[arg-type]
        wait_until(
            lambda: (
                sum(  # an empty partition has no committed offset (-1001)
                    max(0, offset)
                    for offset in committed(
                        broker.bootstrap, f"withdrawals{suffix}", repartition, 4
                    ).values()
                )
                == positives
            ),
            60,
            "the repartition topic to be consumed and committed",
        )
    finally:
        rc = worker.stop()
    assert rc == 0, worker.stderr
    got = {(m.key().decode(), json.loads(m.value())) for m in records}
    assert len(records) == len(got)  # one alert per user, no duplicates
    return got, positives


def test_withdrawals_group_by_compiled_equals_reference_on_kafka(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """group_by on the real broker: the compiled worker and the uncompiled app produce the
    same alerts, which are the ones the withdrawals call for."""

    def compiled_argv(module: Path, work: Path) -> list[str]:
        worker = build_module(module, work / "build")
        return [str(worker), "worker", "--broker", broker.url]

    def reference_argv(module: Path, work: Path) -> list[str]:
        return [str(module), "worker", "--broker", broker.url]

    (tmp_path / "c").mkdir()
    (tmp_path / "r").mkdir()
    compiled, positives = run_withdrawals(broker, tmp_path / "c", compiled_argv, "-c")
    reference, _ = run_withdrawals(broker, tmp_path / "r", reference_argv, "-r")
    expected = expected_alerts(withdrawals_input(3, 3000), 10_000.0)
    assert expected and positives > 0
    assert compiled == expected
    assert {(user, text.replace("-r", "-c")) for user, text in reference} == expected


def build_module(module: Path, out: Path) -> Path:
    result = faustc("build", str(module), "-o", str(out), "--no-typecheck")
    assert result.returncode == 0, result.stderr
    return out / f"{module.stem}_worker.py"


def test_order_batches_take_on_kafka(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """take(100, within=1.0) across consumer batches, yield to a sink topic; offsets of
    orders in a batch being gathered are committed once the batch is processed."""
    worker_file = build("order_batches.py", tmp_path / "build")
    create_topic(broker.bootstrap, "batch-orders", 4)
    rng = random.Random(5)
    orders = [{"order_id": f"o{i}", "amount": rng.randrange(1, 500)} for i in range(1050)]
    ends = produce(
        broker.bootstrap,
        "batch-orders",
        [(str(o["order_id"]).encode(), json.dumps(o).encode()) for o in orders],
    )
    worker = WorkerProcess([str(worker_file), "worker", "--broker", broker.url], tmp_path)
    try:
        totals: list[dict[str, object]] = []
        deadline_records = read_topic(broker.bootstrap, "batch-totals", 1, 11, timeout=60)
        totals = [json.loads(m.value()) for m in deadline_records]
        while sum(int(t["count"]) for t in totals) < len(orders):  # type: ignore[call-overload]
            more = read_topic(broker.bootstrap, "batch-totals", 1, len(totals) + 1, timeout=30)
            assert len(more) > len(totals), "no more batches"
            totals = [json.loads(m.value()) for m in more]
        wait_for_commit(broker.bootstrap, "order-batches", "batch-orders", ends)
    finally:
        rc = worker.stop()
    assert rc == 0, worker.stderr
    assert sum(int(t["count"]) for t in totals) == len(orders)  # type: ignore[call-overload]
    assert all(1 <= int(t["count"]) <= 100 for t in totals)  # type: ignore[call-overload]
    assert round(sum(float(t["total"]) for t in totals), 2) == sum(  # type: ignore[arg-type]
        o["amount"] for o in orders
    )
    assert "Traceback" not in worker.stderr


ASK_APP = """
from collections.abc import AsyncIterator

import faust

app = faust.App("ask-app", broker="kafka://localhost:9092")
questions = app.topic("ask-questions", value_type=int, partitions=2)


@app.agent(questions)
async def square(stream: faust.Stream[int]) -> AsyncIterator[int]:
    async for n in stream.filter(lambda n: n >= 0):
        yield n * n


@app.task
async def asker() -> None:
    for n in (3, 4, 12):
        print(f"answer {n} {await square.ask(n, timeout=60)}", flush=True)


if __name__ == "__main__":
    app.main()
"""


def test_ask_gets_the_reply_of_a_compiled_agent_on_kafka(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """agent.ask(): request headers, the yield fused into a direct reply, the reply topic
    read by the asking process."""
    source = tmp_path / "ask_app.py"
    source.write_text(ASK_APP)
    worker_file = build_module(source, tmp_path / "build")
    assert "deliver(" in worker_file.read_text()  # the yield is compiled into a direct call
    worker = WorkerProcess([str(worker_file), "worker", "--broker", broker.url], tmp_path)
    try:
        out = worker.wait_for_output(lambda text: text.count("answer") == 3, timeout=90)
    finally:
        rc = worker.stop()
    assert rc == 0, worker.stderr
    assert out.splitlines() == ["answer 3 9", "answer 4 16", "answer 12 144"]
