"""OpenTelemetry tracing for a worker, opt-in: one span per message an agent processes,
parented by the trace context the message carries, and that context passed on to every
record the agent sends while processing it.

Faust-streaming 0.15's entry point, with the ``otel`` extra
(``pip install 'faustc[otel]'``)::

    from faust.contrib.opentelemetry import setup_opentelemetry

    app = faust.App("orders", broker="kafka://localhost:9092")
    setup_opentelemetry(app)        # before the worker starts

and an SDK configured the usual way (``opentelemetry-sdk`` and an exporter, or
``opentelemetry-instrument``); until one is, the API's tracer is a no-op. An app that
never calls :func:`setup_opentelemetry` imports nothing of OpenTelemetry and pays nothing.

- each message an agent processes gets a span ``"<topic> process"`` (kind CONSUMER, the
  messaging attributes of OpenTelemetry's conventions, as Faust's), whose parent is the
  W3C trace context of the message's ``traceparent``/``tracestate`` headers (a root span
  when it has none);
- the span is the current span while the agent's loop is at its message, so spans the
  agent's code opens are its children;
- every record sent carries the current context in its headers (``traceparent``,
  ``tracestate``): the message's span, or a span the agent's code opened, so the next
  service's spans are its children; a send outside an agent (a timer, a page) carries
  the context current there, if any;
- agents process whole batches: a message's span starts when its batch is handed to the
  agent and ends when the agent has finished the batch (README, "Choices we made").

The worker calls the sensor per message only when it is installed; the producer it lends
the app then adds the headers (compiled agents' sends go through it).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from faust.sensors.base import Sensor

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from faust.app import App

log = logging.getLogger("faust.opentelemetry")

#: the instrumentation scope of the spans made here (Faust's)
INSTRUMENTATION_NAME = "faust"


class OpenTelemetrySensor(Sensor):
    """A span per processed message, its context passed to what the agent sends."""

    def __init__(self, *, tracer: Tracer | None = None, group: str | None = None) -> None:
        self._explicit_tracer = tracer
        self.group = group
        #: the open spans by (stream, topic, partition, offset) of their message
        self._spans: dict[tuple[str, str, int, int], Span] = {}
        from opentelemetry import context, propagate, trace

        self._context = context
        self._propagate = propagate
        self._trace = trace

    @property
    def tracer(self) -> Tracer:
        if self._explicit_tracer is not None:
            return self._explicit_tracer
        # looked up each time: apps often configure the SDK after making the app
        return self._trace.get_tracer(INSTRUMENTATION_NAME)

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> Any:
        try:
            headers = {
                key: value.decode("utf-8", "replace")
                for key, value in reversed(event.headers or ())
                if isinstance(value, bytes)
            }
            parent = self._propagate.extract(headers)
            attributes: dict[str, Any] = {
                "messaging.system": "kafka",
                "messaging.operation.name": "process",
                "messaging.operation.type": "process",
                "messaging.destination.name": tp.topic,
                "messaging.destination.partition.id": str(tp.partition),
                "messaging.kafka.message.offset": offset,
                "faust.stream": str(stream),
            }
            if self.group:
                attributes["messaging.consumer.group.name"] = self.group
            if event.key is not None:
                attributes["messaging.kafka.message.key"] = event.key.decode("utf-8", "replace")
            span = self.tracer.start_span(
                f"{tp.topic} process",
                context=parent,
                kind=self._trace.SpanKind.CONSUMER,
                attributes=attributes,
            )
        except Exception as exc:  # telemetry never stops processing
            log.debug("could not start a span: %r", exc)
            return None
        self._spans[(str(stream), tp.topic, tp.partition, offset)] = span
        return span

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        span = self._spans.pop((str(stream), tp.topic, tp.partition, offset), None)
        if span is not None:
            span.end()

    def on_current(self, stream: str, message: Any) -> None:
        """The agent's loop reached ``message``: its span is the current span while the
        agent processes it (spans the agent's code opens are its children); None: the
        loop went through its batch, and no message's span is current any more."""
        span = None
        if message is not None:
            key = (stream, message.topic() or "", message.partition() or 0, message.offset() or 0)
            span = self._spans.get(key)
        # the agent's task holds the context; a token is not kept: the next message (or
        # the end of the batch) replaces it, in the same task
        if span is not None:
            self._context.attach(self._trace.set_span_in_context(span))
        else:
            self._context.attach(self._context.Context())

    def send_headers(self, agent: str | None) -> list[tuple[str, bytes]] | None:
        """The current trace context (the span of the message the agent is processing,
        or a span its code opened inside it), as the headers of a record it sends."""
        carrier: dict[str, str] = {}
        self._propagate.inject(carrier)
        return [(key, value.encode()) for key, value in carrier.items()]


def setup_opentelemetry(app: App, *, tracer: Tracer | None = None) -> OpenTelemetrySensor:
    """Trace ``app``'s agents (the module docstring): adds an :class:`OpenTelemetrySensor`
    to ``app.sensors`` and returns it."""
    sensor = OpenTelemetrySensor(tracer=tracer, group=app.conf.id)
    app.sensors.add(sensor)
    return sensor
