"""The app's own hooks, told by the worker: Faust-style sensors (``app.sensors``) and the
signals of partition moves (``app.on_partitions_assigned`` ...).

:class:`AppHooks` is a worker sensor (``faust.worker.sensors``) that the worker installs
only when the app has a sensor or a receiver on one of those signals. It calls each Faust
hook only when an installed sensor overrides it: ``on_message_in``/``on_message_out`` and
``on_stream_event_in``/``out`` go over each batch's messages, ``on_send_initiated`` makes
the worker lend the app a producer that reports every send, and ``on_send_completed`` one
that asks the broker's acknowledgement of each (a delivery report per record, through the
producer's ``send_reported``, compiled agents' direct produce included);
``on_send_error(producer, exc, state)`` is told of each record the brokers did not take
(the producer's failed delivery reports, which it serves anyway: nothing per delivered
record; ``exc`` a DeliveryError naming the topic, partition and reason; ``state`` None);
a sensor that overrides only
``on_commit_completed`` costs nothing per message.

Partition moves happen inside the consumer's poll (librdkafka calls back synchronously),
where nothing can be awaited: their signals are queued, and the worker sends them
(:meth:`AppHooks.send_signals`) right after the poll returns, before the batch it
returned is processed, and once more after it closed. Example::

    hooks = AppHooks.for_app(app)            # None: nothing to tell
    worker = Worker(app, sensors=[hooks])
    ...
    await hooks.send_signals()               # after each poll
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from confluent_kafka import TopicPartition

from faust.delivery import TP, RecordMetadata
from faust.events import Message, TransportMessage
from faust.exceptions import DeliveryError
from faust.sensors.base import PendingMessage
from faust.sensors.base import Sensor as FaustSensor
from faust.signals import Signal
from faust.worker.sensors import Sensor

if TYPE_CHECKING:
    from faust.app import App

_NOT_OVERRIDDEN = object()


def _overrides(sensor: FaustSensor, hook: str) -> bool:
    return getattr(type(sensor), hook, _NOT_OVERRIDDEN) is not getattr(FaustSensor, hook)


class AppHooks(Sensor):
    """The app's sensors and partition signals (see the module docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.sensors = list(app.sensors)

        def using(hook: str) -> list[FaustSensor]:
            return [sensor for sensor in self.sensors if _overrides(sensor, hook)]

        self._message_in = using("on_message_in")
        self._message_out = using("on_message_out")
        self._event_in = using("on_stream_event_in")
        self._event_out = using("on_stream_event_out")
        self._sends = using("on_send_initiated")
        self._completed = using("on_send_completed")
        self.wants_completions = bool(self._completed)
        self._send_errors = using("on_send_error")
        self.wants_send_errors = bool(self._send_errors)
        # ours, not Faust's: a sensor that adds headers to what agents send (tracing,
        # faust.contrib.opentelemetry)
        tracers = [s for s in self.sensors if callable(getattr(s, "send_headers", None))]
        self._headers: list[Callable[[str | None], list[tuple[str, bytes]] | None]] = [
            s.send_headers  # type: ignore[attr-defined]
            for s in tracers
        ]
        self._current: list[Callable[[str, TransportMessage | None], None]] = [
            s.on_current  # type: ignore[attr-defined]
            for s in tracers
            if callable(getattr(s, "on_current", None))
        ]
        self.wants_headers = bool(self._headers)
        self.wants_produce = bool(app.on_produce_message)
        self.wants_sends = (
            bool(self._sends) or self.wants_completions or self.wants_headers or self.wants_produce
        )
        #: the worker's consumer and producer (Faust's hooks name them)
        self.consumer: Any = None
        self.producer: Any = None
        self._batch: list[TransportMessage] = []
        self._event_states: dict[str, list[list[Any]]] = {}
        self._commit_states: list[Any] = []
        #: partitions assigned whose tables are not restored yet
        self._waiting: set[tuple[str, int]] = set()
        self._rebalance_states: list[Any] | None = None
        self._signals: list[tuple[Signal, tuple[Any, ...]]] = []
        #: set by the worker when it closes
        self.closing = False

    @classmethod
    def for_app(cls, app: App) -> AppHooks | None:
        """The hooks of ``app``; None when it has no sensor and no receiver."""
        signals = (
            app.on_partitions_assigned,
            app.on_partitions_revoked,
            app.on_rebalance_complete,
            app.on_produce_message,
        )
        if not len(app.sensors) and not any(signals):
            return None
        return cls(app)

    # -- messages --------------------------------------------------------------------------

    def on_batch_in(self, batch: list[TransportMessage]) -> None:
        if self._message_out:
            self._batch = batch
        if self._message_in:
            for message in batch:
                tp, offset, event = _describe(message)
                for sensor in self._message_in:
                    sensor.on_message_in(tp, offset, event)

    def on_stream_start(self, stream: str, messages: list[TransportMessage]) -> None:
        if not self._event_in and not self._event_out:
            return
        states: list[list[Any]] = []
        for message in messages:
            tp, offset, event = _describe(message)
            states.append(
                [sensor.on_stream_event_in(tp, offset, stream, event) for sensor in self._event_in]
            )
        self._event_states[stream] = states

    def on_stream_batch(
        self, stream: str, messages: list[TransportMessage], seconds: float
    ) -> None:
        states = self._event_states.pop(stream, None)
        if not self._event_out:
            return
        for index, message in enumerate(messages):
            tp, offset, event = _describe(message)
            by_sensor = dict(zip(self._event_in, states[index], strict=True)) if states else {}
            for sensor in self._event_out:
                sensor.on_stream_event_out(tp, offset, stream, event, by_sensor.get(sensor))

    def on_batch(self, messages: int) -> None:
        batch, self._batch = self._batch, []
        for message in batch:
            tp, offset, event = _describe(message)
            for sensor in self._message_out:
                sensor.on_message_out(tp, offset, event)

    def on_send(
        self, agent: str | None, topic: str, key: bytes | None, value: bytes | None
    ) -> None:
        message = PendingMessage(topic, key, value)
        keysize, valsize = len(key or b""), len(value or b"")
        for sensor in self._sends:
            sensor.on_send_initiated(self.producer, topic, message, keysize, valsize)

    def on_send_completed(
        self, agent: str | None, topic: str, partition: int, offset: int, timestamp_ms: int | None
    ) -> None:
        metadata = RecordMetadata(
            topic,
            partition,
            TP(topic, partition),
            offset,
            None if timestamp_ms is None else timestamp_ms / 1000.0,
        )
        for sensor in self._completed:
            sensor.on_send_completed(self.producer, None, metadata)

    def on_current(self, stream: str, message: TransportMessage | None) -> None:
        for on_current in self._current:
            on_current(stream, message)

    def send_headers(self, agent: str | None) -> list[tuple[str, bytes]] | None:
        found: list[tuple[str, bytes]] = []
        for headers_of in self._headers:
            found.extend(headers_of(agent) or ())
        return found

    def on_produce(
        self,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        self.app.on_produce_message.send(
            key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
        )

    def on_send_error(self, topic: str, partition: int, reason: str) -> None:
        where = f"{topic}[{partition}]" if partition >= 0 else topic
        exc = DeliveryError(f"a record sent to {where} was not delivered: {reason}")
        for sensor in self._send_errors:
            sensor.on_send_error(self.producer, exc, None)

    # -- commits ---------------------------------------------------------------------------

    def on_commit_start(self) -> None:
        self._commit_states = [sensor.on_commit_initiated(self.consumer) for sensor in self.sensors]

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        committed = {(tp.topic, tp.partition): tp.offset for tp in offsets}
        for sensor, state in zip(self.sensors, self._commit_states, strict=False):
            sensor.on_commit_completed(self.consumer, state)
        for sensor in self.sensors:
            on_tp_commit = getattr(sensor, "on_tp_commit", None)
            if on_tp_commit is not None and committed:
                on_tp_commit(committed)
        self._commit_states = []

    # -- partition moves -------------------------------------------------------------------

    def _rebalance_started(self) -> None:
        if self._rebalance_states is None:
            self._rebalance_states = [
                sensor.on_rebalance_start(self.app) for sensor in self.sensors
            ]

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        if not self.closing:  # the revocation of a worker that stops is no rebalance
            self._rebalance_started()
        self._waiting -= {(tp.topic, tp.partition) for tp in partitions}
        self._queue(self.app.on_partitions_revoked, set(partitions))

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        self._rebalance_started()
        for sensor, state in zip(self.sensors, self._rebalance_states or [], strict=False):
            sensor.on_rebalance_return(self.app, state)
        self._waiting |= {(tp.topic, tp.partition) for tp in partitions}
        self._queue(self.app.on_partitions_assigned, set(partitions))

    def on_recovered(self, partitions: list[TopicPartition]) -> None:
        self._waiting -= {(tp.topic, tp.partition) for tp in partitions}
        if self._waiting or self._rebalance_states is None:
            return
        for sensor, state in zip(self.sensors, self._rebalance_states, strict=False):
            sensor.on_rebalance_end(self.app, state)
        self._rebalance_states = None
        self._queue(self.app.on_rebalance_complete, None)

    def _queue(self, signal: Signal, argument: Any) -> None:
        if signal:
            self._signals.append((signal, () if argument is None else (argument,)))

    async def send_signals(self) -> None:
        """Send the signals queued since the last call, in order."""
        while self._signals:
            signal, args = self._signals.pop(0)
            await signal.send(*args)


def _describe(message: TransportMessage) -> tuple[TopicPartition, int, Message]:
    """Faust's ``(tp, offset, message)`` of a consumed message."""
    offset = message.offset() or 0
    return (
        TopicPartition(message.topic() or "", message.partition() or 0, offset),
        offset,
        (Message.from_transport(message)),
    )
