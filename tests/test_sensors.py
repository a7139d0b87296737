"""Sensors (``faust.worker.sensors``): a worker given sensors tells them of every batch,
commit and partition move; on the memory transport, with a real agent."""

from __future__ import annotations

import asyncio
import itertools

from confluent_kafka import TopicPartition

import faust
from faust.transport.memory import MemoryTransport
from faust.worker import Worker
from faust.worker.sensors import Sensor

_ids = itertools.count()


class Recording(Sensor):
    def __init__(self) -> None:
        self.batches: list[int] = []
        self.commits: list[dict[int, int]] = []
        self.assigned: list[tuple[str, int]] = []
        self.revoked: list[tuple[str, int]] = []

    def on_batch(self, messages: int) -> None:
        self.batches.append(messages)

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        self.commits.append({tp.partition: tp.offset for tp in offsets})

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        self.assigned += [(tp.topic, tp.partition) for tp in partitions]

    def on_revoked(self, partitions: list[TopicPartition]) -> None:
        self.revoked += [(tp.topic, tp.partition) for tp in partitions]


def test_sensors_are_told_of_batches_commits_and_partition_moves() -> None:
    name = f"sensors-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    numbers = app.topic("numbers", value_type=int, partitions=2)
    seen: list[int] = []

    @app.agent(numbers)
    async def collect(stream: faust.Stream[int]) -> None:
        async for number in stream:
            seen.append(number)

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 2)
    for number in range(7):
        transport.broker.append("numbers", None, str(number).encode(), partition=number % 2)
    first, second = Recording(), Recording()
    worker = Worker(app, transport=transport, stop_when_idle=True, sensors=[first, second])
    asyncio.run(worker.run())

    assert sorted(seen) == list(range(7))
    for sensor in (first, second):
        assert sum(sensor.batches) == 7
        assert sorted(sensor.assigned) == [("numbers", 0), ("numbers", 1)]
        assert sorted(sensor.revoked) == [("numbers", 0), ("numbers", 1)]  # at shutdown
        assert {0: 4, 1: 3} in sensor.commits
