"""``Sensor.on_send_error``: a record the worker sent that the producer could not deliver,
on a real worker and the real broker (tests/apps/send_errors.py).

The app sends one record to partition 99 of a topic that does not exist yet:
confluent-kafka queues it, learns the topic's partitions afterwards (the embedded broker
creates it with 4) and fails it in its delivery report (``Local: Unknown partition``).
Measured: the embedded broker does not refuse a record over a topic's
``max.message.bytes``, and confluent-kafka refuses one over the producer's
``message.max.bytes``, or one for a partition of a topic it knows, when it is queued:
the agent's error policy sees those (as in Faust, whose ``on_send_error`` hears of failed
deliveries only). The app's
sensor must be told exactly once, with a DeliveryError naming the record's topic and
partition, and the error policy of failed deliveries must hold as before: the worker
stops with one line naming the record, without committing past it. With a table (its
producer reports successes for the changelog records only: the agent's sends go to a
client of their own that reports failures only) the same must hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faustc.broker import EmbeddedBroker
from kafka_helpers import WorkerProcess, build_app, committed, create_topic, produce

pytestmark = pytest.mark.broker

APPS = Path(__file__).parent / "apps"
COMPACTED = {"cleanup.policy": "compact"}


@pytest.mark.parametrize("table", [False, True])
@pytest.mark.parametrize("mode", ["compiled", "reference"])
def test_a_failed_delivery_reaches_on_send_error_and_stops_the_worker(
    broker: EmbeddedBroker, tmp_path: Path, mode: str, table: bool
) -> None:
    tag = f"{mode}-table" if table else mode
    app_id = f"send-errors-{tag}"
    text = (APPS / "send_errors.py").read_text().replace('"send-errors"', f'"{app_id}"')
    if table:  # counted before it is relayed
        text = text.replace(
            "\n\n@app.agent(inputs_topic)",
            '\ncounts = app.Table("counts", default=int)\n\n\n@app.agent(inputs_topic)',
        )
        text = text.replace(
            '        if value == "astray":',
            '        counts[value] += 1\n        if value == "astray":',
        )
    # names of this test's own: the session's broker is shared by every test
    topics = {name: f"send-errors-{name}-{tag}" for name in ("inputs", "relayed", "astray")}
    for name, renamed in topics.items():
        text = text.replace(f'app.topic("{name}"', f'app.topic("{renamed}"')
    source = tmp_path / f"send_errors_{tag}.py"
    source.write_text(text)
    program = source
    if mode == "compiled":
        program = build_app(source, tmp_path)

    create_topic(broker.bootstrap, topics["inputs"], 1)
    create_topic(broker.bootstrap, topics["relayed"], 1)
    if table:  # topic_allow_declare=False: the changelog must exist too
        create_topic(broker.bootstrap, f"{app_id}-counts-changelog", 1, topic_config=COMPACTED)
    produce(broker.bootstrap, topics["inputs"], [(None, b"a"), (None, b"astray"), (None, b"b")])
    report = tmp_path / "send_errors.jsonl"
    worker = WorkerProcess(
        [str(program), "worker", "--broker", broker.bootstrap, "--without-web"],
        tmp_path,
        env={"SEND_ERRORS": str(report)},
    )
    try:
        code = worker.process.wait(120)
    finally:
        worker.kill()
    assert code == 1, worker.stderr
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    astray = f"{topics['astray']}[99]"
    assert lines == [
        {
            "type": "DeliveryError",
            "error": f"a record sent to {astray} was not delivered: Local: Unknown partition",
            "state": None,
        }
    ]
    # the policy of failed deliveries is unchanged: one line, and nothing committed past
    # the lost record (offset 1)
    last = worker.stderr.strip().splitlines()[-1]
    assert last == (
        f"error: 1 record(s) were not delivered, first: {astray}: Local: Unknown partition"
    ), worker.stderr
    offsets = committed(broker.bootstrap, app_id, topics["inputs"], 1)
    assert offsets[0] <= 1, offsets
