"""An app traced with OpenTelemetry (tests/test_opentelemetry_on_kafka.py).

``inputs`` (raw strings) -> agent ``relay`` -> ``outputs`` (upper-cased; ``c`` is sent
inside a span the agent opens, ``shout``); ``pairs`` -> agent ``pair`` (two instances)
-> ``outputs``, upper-cased.
``setup_opentelemetry(app)`` traces it; the SDK is configured here with the in-memory
span exporter, and at shutdown the finished spans are written as JSON to
``$TRACED_SPANS``.
"""

import json
import os
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import faust
from faust.contrib.opentelemetry import setup_opentelemetry

app = faust.App("traced", broker="kafka://localhost:9092")

inputs_topic = app.topic("inputs", value_type=str, value_serializer="raw", partitions=1)
outputs_topic = app.topic("outputs", value_type=str, value_serializer="raw", partitions=1)
pairs_topic = app.topic("pairs", value_type=str, value_serializer="raw", partitions=1)


@app.agent(inputs_topic)
async def relay(values: faust.Stream[str]) -> None:
    async for value in values:
        if value == "c":  # a span of the agent's own: the child of the message's span
            with trace.get_tracer("traced").start_as_current_span("shout"):
                await outputs_topic.send(value=value.upper())
        else:
            await outputs_topic.send(value=value.upper())


@app.agent(pairs_topic, concurrency=2)
async def pair(values: faust.Stream[str]) -> None:
    async for value in values:
        await outputs_topic.send(value=value.upper())


exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
setup_opentelemetry(app)


@app.on_shutdown.connect
async def write_spans(sender: Any, **kwargs: Any) -> None:
    spans = [
        {
            "name": span.name,
            "kind": span.kind.name,
            "trace_id": f"{span.context.trace_id:032x}" if span.context else None,
            "span_id": f"{span.context.span_id:016x}" if span.context else None,
            "parent": f"{span.parent.span_id:016x}" if span.parent else None,
            "attributes": dict(span.attributes or {}),
        }
        for span in exporter.get_finished_spans()
    ]
    with open(os.environ["TRACED_SPANS"], "w") as file:
        json.dump(spans, file)


if __name__ == "__main__":
    app.main()
