"""Sensors: what a running worker reports about itself, for metrics and monitoring.

A :class:`Sensor` has one method per event; each does nothing here, and a sensor
overrides those it cares about. The worker calls them only when it was given sensors
(``Worker(app, sensors=[...])``): without any, the loop pays one ``is None`` check per
batch. Example::

    class Counting(Sensor):
        def __init__(self) -> None:
            self.messages = 0

        def on_batch(self, messages: int) -> None:
            self.messages += messages

    worker = Worker(app, sensors=[Counting()])
"""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import TopicPartition


class Sensor:
    """The events a worker reports (see the module docstring)."""

    def on_batch(self, messages: int) -> None:
        """A consumed batch of ``messages`` was processed by every agent on its topics."""

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        """A commit made everything processed durable; ``offsets`` were committed (the
        partitions whose offset changed since the last commit)."""

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        """The group gave this worker ``partitions``."""

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        """The group took ``partitions`` away (after they were committed)."""


class Sensors(Sensor):
    """Several sensors as one: each event goes to each, in order."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.sensors = list(sensors)

    def on_batch(self, messages: int) -> None:
        for sensor in self.sensors:
            sensor.on_batch(messages)

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_commit(offsets)

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_assigned(partitions)

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        for sensor in self.sensors:
            sensor.on_revoked(partitions)


def combine(sensors: Iterable[Sensor]) -> Sensor | None:
    """One sensor for ``sensors``; None when there are none (the worker then calls none)."""
    found = list(sensors)
    if not found:
        return None
    return found[0] if len(found) == 1 else Sensors(found)
