"""Sensors: what a running worker reports about itself, for metrics and monitoring.

A :class:`Sensor` has one method per event; each does nothing here, and a sensor
overrides those it cares about. The worker calls them only when it was given sensors
(``Worker(app, sensors=[...])``): without any, the loop pays one ``is None`` check per
batch. Every event is per batch, per commit or per partition move, never per message,
with one exception a sensor asks for: :meth:`Sensor.on_send`, once per record sent, only
when a sensor sets ``wants_sends`` (the worker then lends the app a producer that calls
it; a sensor that only counts sends hands over its counters instead,
:meth:`Sensor.send_cells`, and compiled loops add each record they produce to them).
Example::

    class Counting(Sensor):
        def __init__(self) -> None:
            self.messages = 0

        def on_batch(self, messages: int) -> None:
            self.messages += messages

    worker = Worker(app, sensors=[Counting()])

The metrics of ``GET /metrics`` are a sensor (``faust.web.metrics``), and so are the
Faust-style sensors of ``app.sensors`` (``faust.sensors.bridge``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from typing import Any

from confluent_kafka import TopicPartition

from faust.delivery import DeliveryReport
from faust.events import TransportMessage, set_current_message
from faust.transport.base import (
    DirectProduce,
    Producer,
    ProducerProxy,
    SendCell,
    unread_cell,
)

#: the agent whose task is running (set by its runner; None in timers, tasks, web views):
#: a send is counted for the agent that made it
current_agent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "faust_current_agent", default=None
)
#: what ``current_agent`` says while an error policy sends a dead letter
DEAD_LETTERS = "(dead letters)"


class Sensor:
    """The events a worker reports (see the module docstring)."""

    #: call :meth:`on_send` for every record the app sends (a Python call per record)
    wants_sends = False
    #: call :meth:`on_send_completed` when the broker acknowledged each record the app
    #: sent (a delivery report per record; implies the lent producer of ``wants_sends``)
    wants_completions = False
    #: call :meth:`on_send_error` for each record the brokers did not take (the
    #: producer's failed delivery reports: nothing is paid per delivered record)
    wants_send_errors = False
    #: add :meth:`send_headers` to every record the app sends (tracing: the trace
    #: context of the message being processed); implies ``wants_sends``, and agents are
    #: handed batches that mark each message current as their loop reaches it
    wants_headers = False
    #: call :meth:`on_produce` before each record the app sends is queued (Faust's
    #: ``app.on_produce_message``: its receivers may add headers)
    wants_produce = False

    def on_batch_in(self, batch: list[TransportMessage]) -> None:
        """The consumer returned ``batch``; the streams get it next."""

    def on_stream_start(self, stream: str, messages: list[TransportMessage]) -> None:
        """The stream consumer ``stream`` is handed ``messages`` of a batch."""

    def on_stream_batch(
        self, stream: str, messages: list[TransportMessage], seconds: float
    ) -> None:
        """The stream consumer ``stream`` (an agent's name, or ``stream of <topic>``)
        processed ``messages`` of a batch in ``seconds``."""

    def on_batch(self, messages: int) -> None:
        """A consumed batch of ``messages`` was processed by every agent on its topics."""

    def on_send(
        self, agent: str | None, topic: str, key: bytes | None, value: bytes | None
    ) -> None:
        """A record was queued for ``topic`` by ``agent`` (None: not an agent's code).
        Called only when ``wants_sends`` is set."""

    def send_cells(self, agent: str | None) -> SendCell | None:
        """For a sensor whose :meth:`on_send` only counts records per agent and topic:
        ``cell(topic)``, the one-item list holding the count of records ``agent`` sent to
        ``topic`` (the one :meth:`on_send` adds to, the one the sensor reads). A compiled
        loop adds each record it produces to it itself (``cell[0] += 1``: no Python call
        a record). None (the default): :meth:`on_send` is called for each record."""
        return None

    def on_send_completed(
        self, agent: str | None, topic: str, partition: int, offset: int, timestamp_ms: int | None
    ) -> None:
        """The broker acknowledged a record ``agent`` sent (``offset`` -1: the producer gave
        no offset). Called only when ``wants_completions`` is set."""

    def on_current(self, stream: str, message: TransportMessage | None) -> None:
        """The loop of ``stream`` reached ``message`` of its batch (None: it went through
        the batch). Called only when ``wants_headers`` is set."""

    def send_headers(self, agent: str | None) -> list[tuple[str, bytes]] | None:
        """Headers to add to a record ``agent`` sends now (``current_message()`` is the
        message it is processing). Called only when ``wants_headers`` is set."""
        return None

    def on_produce(
        self,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        """A record is about to be queued; ``headers`` (a list) may be added to. Called
        only when ``wants_produce`` is set."""

    def on_send_error(self, topic: str, partition: int, reason: str) -> None:
        """A record the worker's producer sent to ``topic`` (``partition``, -1: unknown)
        was not delivered; the worker stops at its next flush all the same (a lost record
        is never committed past). Called only when ``wants_send_errors`` is set."""

    def on_commit_start(self) -> None:
        """A commit begins."""

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        """A commit made everything processed durable; ``offsets`` were committed (the
        partitions whose offset changed since the last commit)."""

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        """The group gave this worker ``partitions``."""

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        """The group took ``partitions`` away (after they were committed)."""

    def on_recovered(self, partitions: list[TopicPartition]) -> None:
        """The tables of the assigned ``partitions`` are restored (at once for partitions
        without tables): their messages flow from now on."""


class Sensors(Sensor):
    """Several sensors as one: each event goes to each, in order."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.sensors = list(sensors)
        self.wants_completions = any(sensor.wants_completions for sensor in self.sensors)
        self.wants_sends = self.wants_completions or any(s.wants_sends for s in self.sensors)
        self._senders = [sensor for sensor in self.sensors if sensor.wants_sends]
        self._completers = [sensor for sensor in self.sensors if sensor.wants_completions]
        self._failures = [sensor for sensor in self.sensors if sensor.wants_send_errors]
        self.wants_send_errors = bool(self._failures)
        self._headers = [sensor for sensor in self.sensors if sensor.wants_headers]
        self.wants_headers = bool(self._headers)
        self._producing = [sensor for sensor in self.sensors if sensor.wants_produce]
        self.wants_produce = bool(self._producing)
        self.wants_sends = self.wants_sends or self.wants_headers or self.wants_produce

    def on_batch_in(self, batch: list[TransportMessage]) -> None:
        for sensor in self.sensors:
            sensor.on_batch_in(batch)

    def on_stream_start(self, stream: str, messages: list[TransportMessage]) -> None:
        for sensor in self.sensors:
            sensor.on_stream_start(stream, messages)

    def on_stream_batch(
        self, stream: str, messages: list[TransportMessage], seconds: float
    ) -> None:
        for sensor in self.sensors:
            sensor.on_stream_batch(stream, messages, seconds)

    def on_batch(self, messages: int) -> None:
        for sensor in self.sensors:
            sensor.on_batch(messages)

    def on_send(
        self, agent: str | None, topic: str, key: bytes | None, value: bytes | None
    ) -> None:
        for sensor in self._senders:
            sensor.on_send(agent, topic, key, value)

    def send_cells(self, agent: str | None) -> SendCell | None:
        senders = self._senders
        return senders[0].send_cells(agent) if len(senders) == 1 else None

    def on_send_completed(
        self, agent: str | None, topic: str, partition: int, offset: int, timestamp_ms: int | None
    ) -> None:
        for sensor in self._completers:
            sensor.on_send_completed(agent, topic, partition, offset, timestamp_ms)

    def on_current(self, stream: str, message: TransportMessage | None) -> None:
        for sensor in self._headers:
            sensor.on_current(stream, message)

    def send_headers(self, agent: str | None) -> list[tuple[str, bytes]] | None:
        found: list[tuple[str, bytes]] = []
        for sensor in self._headers:
            found.extend(sensor.send_headers(agent) or ())
        return found

    def on_produce(
        self,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]],
    ) -> None:
        for sensor in self._producing:
            sensor.on_produce(key, value, partition, timestamp, headers)

    def on_send_error(self, topic: str, partition: int, reason: str) -> None:
        for sensor in self._failures:
            sensor.on_send_error(topic, partition, reason)

    def on_commit_start(self) -> None:
        for sensor in self.sensors:
            sensor.on_commit_start()

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_commit(offsets)

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_assigned(partitions)

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_revoked(partitions)

    def on_recovered(self, partitions: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_recovered(partitions)


class CurrentMessages(list[TransportMessage]):
    """A batch handed to an agent while a sensor ``wants_headers``: iterating it marks
    each message current (``set_current_message``) as the agent's loop reaches it, so a
    send knows the message it answers (compiled agents set it themselves only for
    tables), and tells the sensor (:meth:`Sensor.on_current`; None once the loop is
    through the batch)."""

    def __init__(self, messages: list[TransportMessage], stream: str, sensor: Sensor) -> None:
        super().__init__(messages)
        self.stream = stream
        self.sensor = sensor

    def part(self, messages: list[TransportMessage]) -> CurrentMessages:
        """Some of this batch's messages, marked as they are reached too (the share of
        one instance of a ``concurrency=N`` or isolated agent)."""
        return CurrentMessages(messages, self.stream, self.sensor)

    def __iter__(self) -> Iterator[TransportMessage]:
        mark, on_current, stream = set_current_message, self.sensor.on_current, self.stream
        for message in list.__iter__(self):
            mark(message)
            on_current(stream, message)
            yield message
        on_current(stream, None)


def combine(sensors: Iterable[Sensor]) -> Sensor | None:
    """One sensor for ``sensors``; None when there are none (the worker then calls none)."""
    found = list(sensors)
    if not found:
        return None
    return found[0] if len(found) == 1 else Sensors(found)


class SensedProducer(ProducerProxy):
    """The producer a worker lends its app when a sensor ``wants_sends``: every record
    queued through it (``send``, and the ``direct`` produce) is reported to
    :meth:`Sensor.on_send` once it is queued, with the agent that sent it. The produce
    compiled agents bind once (:meth:`counting_direct`) is the client's own where the
    sensor only counts (:meth:`Sensor.send_cells`): the loop adds each record it produced
    to the sensor's cell itself. Everything else is the producer's own."""

    def __init__(self, producer: Producer, sensor: Sensor) -> None:
        self._producer = producer
        self.sensor = sensor

    @property
    def producer(self) -> Producer:
        return self._producer

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        agent = current_agent.get()
        if self.sensor.wants_headers:
            extra = self.sensor.send_headers(agent)
            if extra:
                headers = [*(headers or ()), *extra]
        if self.sensor.wants_produce:
            headers = list(headers or ())
            self.sensor.on_produce(key, value, partition, timestamp, headers)
        if self.sensor.wants_completions:
            sensor = self.sensor

            def completed(topic: str, partition: int, offset: int, ms: int | None) -> None:
                sensor.on_send_completed(agent, topic, partition, offset, ms)

            self._producer.send_reported(
                topic, key, value, partition, timestamp, headers, completed
            )
        else:
            self._producer.send(topic, key, value, partition, timestamp, headers)
        self.sensor.on_send(agent, topic, key, value)

    def _needs_send(self) -> bool:
        """Does the sensor want more of a record than that it was queued (its completion,
        its headers, the produce hook), so that a direct produce must go through send()?"""
        sensor = self.sensor
        return sensor.wants_completions or sensor.wants_headers or sensor.wants_produce

    def direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        produce, retry = self._producer.direct()
        if self._needs_send():

            def reported(
                topic: str, value: bytes | None, key: bytes | None, *, headers: Any = None
            ) -> None:
                self.send(topic, key, value, None, None, headers)

            return reported, retry
        on_send = self.sensor.on_send
        agent = current_agent.get()  # compiled agents bind this in their own task

        def sensed(
            topic: str, value: bytes | None, key: bytes | None, *, headers: Any = None
        ) -> None:
            if headers is None:
                produce(topic, value, key)  # (a keyword costs confluent-kafka ~1 us a call)
            else:
                produce(topic, value, key, headers=headers)
            on_send(agent, topic, key, value)  # not reached when produce raises: send() is

        return sensed, retry

    def counting_direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...], SendCell]:
        """``(produce, retry, cell)`` for a compiled loop that counts what it produces:
        ``cell(topic)`` is the one-item list the loop adds each record it produced to
        ``topic`` to (``cell[0] += 1`` after ``produce`` returned; a record ``retry`` sends
        through :meth:`send` is counted there). Where the sensor only counts
        (:meth:`Sensor.send_cells`), ``produce`` is the client's own and the cells are the
        sensor's; else ``produce`` reports each record (:meth:`direct`) and the cells are
        read by nobody. Bound in the agent's task: its records count for that agent."""
        if not self._needs_send():
            cells = self.sensor.send_cells(current_agent.get())
            if cells is not None:
                return (*self._producer.direct(), cells)
        return (*self.direct(), unread_cell)

    def send_reported(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]] | None,
        report: DeliveryReport,
    ) -> None:
        self._producer.send_reported(topic, key, value, partition, timestamp, headers, report)
        self.sensor.on_send(current_agent.get(), topic, key, value)
