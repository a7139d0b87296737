"""OpenTelemetry tracing (``faust.contrib.opentelemetry``) on a real worker and the real
broker, with the SDK's in-memory span exporter (tests/apps/traced.py).

Three records go in: two carry a W3C ``traceparent`` header, one none. Each must give
one CONSUMER span ``"<topic> process"``: the child of the record's context (same trace,
its span as parent), or a root span for the record without one. The span is current
while the agent processes the record (a span the agent opens is its child), and each
record the agent sent carries the context current then in its ``traceparent`` header.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from faustc.broker import EmbeddedBroker
from kafka_helpers import WorkerProcess, build_app, create_topic, read_topic

pytestmark = pytest.mark.broker

APPS = Path(__file__).parent / "apps"
#: the upstream contexts: (trace id, span id) of the producer of "a" and of "c"
UPSTREAM = {
    "a": ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"),
    "c": ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
    "d": ("5b8aa5a2d2c872e8321cf37308d69df2", "051581bf3cb55c13"),
    "e": ("7c1e0a2d3f9b4e5a8d6c2b1a0f9e8d7c", "1a2b3c4d5e6f7081"),
}


@pytest.mark.parametrize("mode", ["compiled", "reference"])
def test_a_traced_record_gets_a_child_span_and_its_outputs_carry_it(
    broker: EmbeddedBroker, tmp_path: Path, mode: str
) -> None:
    app_id = f"traced-{mode}"
    # names of this test's own: the session's broker is shared by every test
    inputs, outputs, pairs = (f"traced-{name}-{mode}" for name in ("inputs", "outputs", "pairs"))
    text = (APPS / "traced.py").read_text().replace('"traced"', f'"{app_id}"')
    text = text.replace('app.topic("inputs"', f'app.topic("{inputs}"')
    text = text.replace('app.topic("outputs"', f'app.topic("{outputs}"')
    text = text.replace('app.topic("pairs"', f'app.topic("{pairs}"')
    source = tmp_path / f"traced_{mode}.py"
    source.write_text(text)
    program = source
    if mode == "compiled":
        program = build_app(source, tmp_path)

    assert {zlib.crc32(b"left") % 2, zlib.crc32(b"x") % 2} == {0, 1}
    create_topic(broker.bootstrap, inputs, 1)
    create_topic(broker.bootstrap, pairs, 1)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for value in ("a", "b", "c", "d", "e"):
        headers: list[tuple[str, bytes]] = [("origin", b"test")]
        if value in UPSTREAM:
            trace_id, span_id = UPSTREAM[value]
            headers.append(("traceparent", f"00-{trace_id}-{span_id}-01".encode()))
        # d and e go to the two instances of the agent ``pair`` (by the crc32 of their key)
        key = {"d": b"left", "e": b"x"}.get(value)
        producer.produce(pairs if key else inputs, value.encode(), key, headers=headers)
    assert producer.flush(30) == 0

    spans_file = tmp_path / "spans.json"
    worker = WorkerProcess(
        [str(program), "worker", "--broker", broker.bootstrap, "--without-web"],
        tmp_path,
        env={"TRACED_SPANS": str(spans_file)},
    )
    try:
        sent = read_topic(broker.bootstrap, outputs, 1, 5)
    finally:
        code = worker.stop()
    assert code == 0, worker.stderr
    assert sorted(m.value() for m in sent) == [b"A", b"B", b"C", b"D", b"E"]

    everything: list[dict[str, Any]] = json.loads(spans_file.read_text())
    (shout,) = [span for span in everything if span["name"] == "shout"]
    spans = [span for span in everything if span["name"] != "shout"]
    assert (
        sorted(span["name"] for span in spans)
        == [f"{inputs} process"] * 3 + [f"{pairs} process"] * 2
    )
    at = {
        (span["attributes"]["messaging.destination.name"], span["attributes"][offset]): span
        for span in spans
        for offset in ["messaging.kafka.message.offset"]
    }
    span_of = {
        "a": at[inputs, 0],
        "b": at[inputs, 1],
        "c": at[inputs, 2],
        "d": at[pairs, 0],
        "e": at[pairs, 1],
    }
    for value, span in span_of.items():
        assert span["kind"] == "CONSUMER"
        assert span["attributes"]["messaging.system"] == "kafka"
        assert span["attributes"]["messaging.consumer.group.name"] == app_id
        if value in UPSTREAM:  # the child of the context the record carried
            assert (span["trace_id"], span["parent"]) == UPSTREAM[value]
        else:  # a record without a context starts a trace
            assert span["parent"] is None
            assert span["trace_id"] not in {trace_id for trace_id, _ in UPSTREAM.values()}

    # the span is current while the agent processes its message: the agent's own span
    # is its child
    assert (shout["trace_id"], shout["parent"]) == (
        span_of["c"]["trace_id"],
        span_of["c"]["span_id"],
    )

    # each output carries the context current when it was sent: the span of the message
    # it answers, or the agent's own span inside it
    for message in sent:
        value = message.value().decode().lower()
        headers = dict(message.headers() or ())
        span = shout if value == "c" else span_of[value]
        version, trace_id, span_id, flags = headers["traceparent"].decode().split("-")
        assert (version, trace_id, span_id) == ("00", span["trace_id"], span["span_id"])
        assert int(flags, 16) & 1  # sampled (a root span also sets W3C's random-id flag)
