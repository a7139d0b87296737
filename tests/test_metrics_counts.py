"""``/metrics`` counts exactly the records each agent sent, on a real worker process and
the real broker, built (compiled: the loop adds each record it produces to the metrics'
cell, ``app.counting_sender()``) and as written (reference: the lent producer counts
each send); tests/apps/counted.py, whose only sensor counting sends is ``/metrics``.

The counts are checked against what the input makes the agents send, errors included:
a record sent before its message raised is counted, a message that fails to decode sends
nothing; and against the records the output topics hold.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO
from faustc.broker import EmbeddedBroker, free_port
from kafka_helpers import (
    WorkerProcess,
    build_app,
    create_topic,
    produce,
    read_topic,
    wait_for_commit,
    wait_until,
)

pytestmark = pytest.mark.broker

APPS = Path(__file__).parent / "apps"
NUMBERS = 3000
BAD = 7
TOPICS = ("numbers", "evens", "odds", "halves", "quarters")


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.mark.parametrize("mode", ["compiled", "reference"])
def test_metrics_count_every_record_sent(broker: EmbeddedBroker, tmp_path: Path, mode: str) -> None:
    tag = f"counted-{mode}"
    topics = {name: f"{name}-{tag}" for name in TOPICS}
    text = (APPS / "counted.py").read_text().replace('"counted"', f'"{tag}"')
    for name, renamed in topics.items():
        text = text.replace(f'"{name}"', f'"{renamed}"')
    source = tmp_path / f"counted_{mode}.py"
    source.write_text(text)
    program = source
    if mode == "compiled":
        program = build_app(source, tmp_path / "build")
        generated = program.read_text()
        # the loops count in the metrics' cells (no per-record counting wrapper)
        assert "app.counting_sender()" in generated
        assert generated.count("[0] += 1") == 4  # evens, odds, halves, quarters
    for name, partitions in (("numbers", 4), ("evens", 4), ("odds", 2)):
        create_topic(broker.bootstrap, topics[name], partitions)
    for name in ("halves", "quarters"):
        create_topic(broker.bootstrap, topics[name], 2)
    records: list[tuple[Any, ...]] = [
        (str(i).encode(), json.dumps(i).encode()) for i in range(NUMBERS)
    ]
    records[100:100] = [(b"bad", b"not a number")] * BAD  # mid-batch decode failures
    number_ends = produce(broker.bootstrap, topics["numbers"], records)
    port = free_port()
    argv = [str(program), "worker", "--broker", broker.bootstrap, "--web-port", str(port)]
    argv += ["--web-bind", "127.0.0.1", "--datadir", str(tmp_path / "data")]
    worker = WorkerProcess(argv, tmp_path, env={"PYTHONPATH": str(REPO / "tests")})
    evens = sum(1 for i in range(NUMBERS) if i % 2 == 0)
    odds = NUMBERS - evens
    quarters = sum(1 for i in range(NUMBERS) if i % 4 == 0)
    sevens = sum(1 for i in range(NUMBERS) if i % 7 == 0)
    split, halve = f"{source.stem}.split", f"{source.stem}.halve"
    try:
        wait_for_commit(broker.bootstrap, tag, topics["numbers"], number_ends, 90)
        wait_until(
            lambda: (
                scrape(port).get(("faust_agent_messages_in_total", (("agent", halve),))) == evens
            ),
            60,
            "every even number processed by halve",
        )
        samples = scrape(port)
    finally:
        code = worker.stop()
    assert code == 0, worker.stderr

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    out = "faust_agent_messages_out_total"
    assert value(out, agent=split, topic=topics["evens"]) == evens
    assert value(out, agent=split, topic=topics["odds"]) == odds
    assert value(out, agent=halve, topic=topics["halves"]) == evens
    assert value(out, agent=halve, topic=topics["quarters"]) == quarters
    assert sorted(key for key in samples if key[0] == out) == sorted(
        (out, (("agent", agent), ("topic", topics[name])))
        for agent, name in (
            (split, "evens"),
            (split, "odds"),
            (halve, "halves"),
            (halve, "quarters"),
        )
    )
    for name, count in (
        ("evens", evens),
        ("odds", odds),
        ("halves", evens),
        ("quarters", quarters),
    ):
        assert value("faust_sent_records_total", topic=topics[name]) == count
    errors = "faust_agent_errors_total"
    assert value(errors, agent=split, error="decode", policy="skip") == BAD
    assert value(errors, agent=split, error="processing", policy="skip") == sevens
    assert value("faust_agent_messages_in_total", agent=split) == NUMBERS + BAD
    # and the topics hold exactly what was counted
    for name, count, partitions in (("odds", odds, 2), ("quarters", quarters, 2)):
        assert len(read_topic(broker.bootstrap, topics[name], partitions, count, 30)) == count
