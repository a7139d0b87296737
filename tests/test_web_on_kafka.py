"""Operating a worker: its web server, probes, metrics, sensors and signals, on a real
worker process, the real broker and real HTTP.

tests/apps/operated.py (renamed per test) runs built (compiled) and as written
(reference). Its table's changelog is preloaded, so the worker restores it before it
processes anything: ``/ready`` answers 503 with the reason (starting, waiting for the
group, restoring tables) and then 200. Once the group has committed every input,
``/metrics`` is scraped and parsed with prometheus-client's own parser, and each counter
must equal the exact number of messages, errors, dead letters and sends of the run; the
pages answer; at shutdown the app's sensor, its Monitor and its signals must have been
told exactly the run's events.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO
from faustc.broker import EmbeddedBroker, free_port
from kafka_helpers import WorkerProcess, create_topic, produce, wait_for_commit, wait_until

pytestmark = pytest.mark.broker

APPS = Path(__file__).parent / "apps"
NUMBERS = 1000
BAD_NUMBERS = 5
WORDS = 100
BOOMS = 3
#: changelog records preloaded for the table: restored before anything is processed (enough
#: that the restore spans many of the worker's steps: with 60,000 a loaded machine sometimes
#: finished it between two /ready polls)
CHANGELOG = 200_000


def http(port: int, path: str, body: Any = None) -> tuple[int, Any]:
    """``(status, body)`` of GET (or POST ``body`` as JSON) ``path``; JSON bodies parsed."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, kind = response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers["Content-Type"]
    return status, json.loads(raw) if "json" in (kind or "") else raw.decode()


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, by name and labels, parsed by prometheus-client."""
    status, text = http(port, "/metrics")
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class OperatedApp:
    """tests/apps/operated.py as ``operated-<tag>`` with topics of its own."""

    def __init__(self, broker: EmbeddedBroker, tmp_path: Path, tag: str) -> None:
        self.broker = broker
        self.app_id = f"operated-{tag}"
        self.topics = {name: f"{name}-{tag}" for name in ("numbers", "doubled", "words", "shouted")}
        text = (APPS / "operated.py").read_text().replace('"operated"', f'"{self.app_id}"')
        for name, renamed in self.topics.items():
            text = text.replace(f'"{name}"', f'"{renamed}"')
        self.source = tmp_path / f"operated_{tag}.py"
        self.source.write_text(text)
        self.tmp_path = tmp_path

    def build(self) -> Path:
        result = subprocess.run(
            [sys.executable, "-m", "faustc", "build", str(self.source), "-o", str(self.tmp_path)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert result.returncode == 0, result.stderr
        return self.tmp_path / f"{self.source.stem}_worker.py"

    def produce_inputs(self) -> tuple[dict[int, int], dict[int, int]]:
        bootstrap = self.broker.bootstrap
        create_topic(bootstrap, self.topics["numbers"], 4)
        create_topic(bootstrap, self.topics["words"], 2)
        numbers: list[tuple[Any, ...]] = [
            (str(i).encode(), json.dumps(i).encode()) for i in range(NUMBERS)
        ]
        numbers += [(f"bad-{i}".encode(), b"not a number") for i in range(BAD_NUMBERS)]
        words: list[tuple[Any, ...]] = [(None, f"word{i}".encode()) for i in range(WORDS)]
        words[10:10] = [(None, b"boom")] * BOOMS
        return (
            produce(bootstrap, self.topics["numbers"], numbers),
            produce(bootstrap, self.topics["words"], words),
        )

    def preload_changelog(self) -> None:
        """The table's changelog, with records for keys the agent never writes."""
        topic = f"{self.app_id}-counts-changelog"
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        spec = NewTopic(topic, 4, 1, config={"cleanup.policy": "compact"})
        for future in admin.create_topics([spec]).values():
            future.result()
        records: list[tuple[Any, ...]] = [
            (json.dumps(f"old-{i % 5000}").encode(), b"1", None, i % 4) for i in range(CHANGELOG)
        ]
        produce(self.broker.bootstrap, topic, records)


@pytest.mark.parametrize("mode", ["compiled", "reference"])
def test_pages_probes_metrics_sensors_and_signals(
    broker: EmbeddedBroker, tmp_path: Path, mode: str
) -> None:
    app = OperatedApp(broker, tmp_path, mode)
    program = app.build() if mode == "compiled" else app.source
    app.preload_changelog()
    number_ends, word_ends = app.produce_inputs()
    port = free_port()
    report = tmp_path / "report.json"
    worker = WorkerProcess(
        [
            str(program),
            "worker",
            "--broker",
            broker.bootstrap,
            "--datadir",
            str(tmp_path / "data"),
            "--web-port",
            str(port),
            "--web-bind",
            "127.0.0.1",
        ],
        tmp_path,
        env={"OPERATED_REPORT": str(report), "PYTHONPATH": str(REPO / "tests")},
    )
    try:
        # /ready: 503 with a reason until the assignment's table is restored, then 200
        reasons: list[str] = []
        deadline = time.monotonic() + 90
        while True:
            assert time.monotonic() < deadline, f"never ready: {reasons}\n{worker.stderr}"
            assert worker.process.poll() is None, worker.stderr
            try:
                status, body = http(port, "/ready")
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.02)
                continue
            if status == 200:
                assert body == {"status": "ready"}
                break
            assert status == 503 and body["status"] == "not ready"
            if not reasons or reasons[-1] != body["reason"]:
                reasons.append(body["reason"])
            time.sleep(0.01)
        assert reasons[0] == "the worker is starting", reasons
        assert "waiting for the group to assign partitions" in reasons
        assert any(reason.startswith("restoring tables for partition(s) [") for reason in reasons)
        assert http(port, "/health") == (200, {"status": "ok"})

        wait_for_commit(broker.bootstrap, app.app_id, app.topics["numbers"], number_ends, 60)
        wait_for_commit(broker.bootstrap, app.app_id, app.topics["words"], word_ends, 60)
        double, shout = (f"{app.source.stem}.double", f"{app.source.stem}.shout")
        failing = sum(1 for i in range(NUMBERS) if i % 10 == 3)
        passing = NUMBERS - failing

        def scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
            return metrics(port)

        # the producer is flushed at every commit: the counts are final once committed
        wait_until(
            lambda: (
                scraped()[("faust_messages_processed_total", ())]
                == NUMBERS + BAD_NUMBERS + WORDS + BOOMS
            ),
            30,
            "every message processed",
        )
        samples = scraped()

        def value(name: str, **labels: str) -> float:
            return samples[(name, tuple(sorted(labels.items())))]

        assert value("faust_agent_messages_in_total", agent=double) == NUMBERS + BAD_NUMBERS
        assert value("faust_agent_messages_in_total", agent=shout) == WORDS + BOOMS
        doubled, shouted = app.topics["doubled"], app.topics["shouted"]
        assert value("faust_agent_messages_out_total", agent=double, topic=doubled) == passing
        assert value("faust_agent_messages_out_total", agent=shout, topic=shouted) == WORDS
        errors = "faust_agent_errors_total"
        assert value(errors, agent=double, error="decode", policy="dead-letter") == BAD_NUMBERS
        assert value(errors, agent=double, error="processing", policy="dead-letter") == failing
        assert value(errors, agent=shout, error="decode", policy="skip") == 0
        assert value(errors, agent=shout, error="processing", policy="skip") == BOOMS
        assert value("faust_agent_dead_letters_total", agent=double) == BAD_NUMBERS + failing
        assert value("faust_agent_skipped_total", agent=shout) == BOOMS
        assert value("faust_agent_dead_letters_total", agent=shout) == 0
        dead_letters = f"{app.topics['numbers']}-dlq"
        assert value("faust_sent_records_total", topic=dead_letters) == BAD_NUMBERS + failing
        assert value("faust_sent_records_total", topic=doubled) == passing
        assert value("faust_agent_processing_seconds_count", agent=double) >= 1
        for partition, end in number_ends.items():
            where = {"topic": app.topics["numbers"], "partition": str(partition)}
            assert value("faust_consumer_committed_offset", **where) == end
            assert value("faust_consumer_position", **where) == end
            assert value("faust_consumer_lag", **where) == 0
        # the app's six, and partition 0 of the leader topic (the on_leader election)
        assert value("faust_assigned_partitions") == 6 + 1
        assert value("faust_rebalances_total") >= 1
        assert value("faust_commits_total") >= 1
        assert value("faust_commit_seconds_count") == value("faust_commits_total")
        assert value("faust_table_recovery_records_total") == CHANGELOG
        assert value("faust_table_recovery_remaining_records") == 0
        # one record per key changed between two commits: each key is written once
        assert value("faust_table_changelog_records_total", table="counts") == passing
        assert value("faust_producer_delivery_errors_total") == 0
        assert any(name == "faust_build_info" for name, _ in samples)

        # the pages
        for key, count in {"0": 1, "3": 0, "998": 1, "13": 0, "nope": 0}.items():
            assert http(port, f"/count/{key}/") == (200, {"key": key, "count": count})
        assert http(port, "/echo/", {"a": [1, 2]}) == (201, {"echo": {"a": [1, 2]}})
        assert http(port, "/echo/") == (400, {"error": "POST a JSON body", "hint": "echo"})
        status, graph = http(port, "/graph")
        assert status == 200 and {a["name"] for a in graph["agents"]} == {double, shout}
        status, router = http(port, "/router")
        assert status == 200 and router["assigned"][app.topics["numbers"]] == [0, 1, 2, 3]
        assert http(port, "/nowhere")[0] == 404
    finally:
        code = worker.stop()
    assert code == 0, worker.stderr

    # the sensor, the Monitor and the signals saw exactly this run
    seen = json.loads(report.read_text())
    total = NUMBERS + BAD_NUMBERS + WORDS + BOOMS
    assert seen["messages_in"] == seen["messages_out"] == total
    assert seen["events_in"] == {double: NUMBERS + BAD_NUMBERS, shout: WORDS + BOOMS}
    assert seen["events_out"] == total
    assert seen["sent"] == {doubled: passing, shouted: WORDS, dead_letters: BAD_NUMBERS + failing}
    assert seen["commits_started"] == seen["commits_completed"] >= 1
    assert seen["rebalances_started"] == seen["rebalances_ended"] >= 1
    monitor = seen["monitor"]
    assert monitor["messages_received_total"] == total
    assert monitor["messages_active"] == 0 and monitor["events_active"] == 0
    assert monitor["messages_sent_by_topic"] == seen["sent"]
    assert monitor["topic_committed_offsets"][app.topics["numbers"]] == {
        str(p): end for p, end in number_ends.items()
    }
    everything = sorted(
        [f"{app.topics['numbers']}[{p}]" for p in range(4)]
        + [f"{app.topics['words']}[{p}]" for p in range(2)]
    )
    assert seen["signals"] == [
        ["worker_init", app.app_id],
        ["startup"],
        ["assigned", everything],
        ["rebalance_complete"],
        ["before_shutdown"],
        ["revoked", everything],
        ["shutdown"],
    ]
