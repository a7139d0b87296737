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
    assert committed(broker.bootstrap, "big-orders", "orders", 4) == ends
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
    assert committed(broker.bootstrap, "word-count-app", "words", 4) == ends


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
