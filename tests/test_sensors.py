"""Sensors (``faust.worker.sensors``): a worker given sensors tells them of every batch,
commit and partition move; on the memory transport, with a real agent."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from confluent_kafka import TopicPartition

import faust
from faust.transport.memory import MemoryTransport
from faust.worker import Worker
from faust.worker.sensors import DEAD_LETTERS, Sensor

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


class Seam(Sensor):
    """Every event of the seam, including each send (``wants_sends``)."""

    wants_sends = True

    def __init__(self) -> None:
        self.batches_in = 0
        self.started: dict[str, int] = {}
        self.streams: dict[str, int] = {}
        self.commit_starts = 0
        self.commits = 0
        self.recovered: list[tuple[str, int]] = []
        self.sends: dict[tuple[str | None, str], int] = {}

    def on_batch_in(self, batch: list[Any]) -> None:
        self.batches_in += len(batch)

    def on_stream_start(self, stream: str, messages: list[Any]) -> None:
        self.started[stream] = self.started.get(stream, 0) + len(messages)

    def on_stream_batch(self, stream: str, messages: list[Any], seconds: float) -> None:
        assert seconds >= 0
        self.streams[stream] = self.streams.get(stream, 0) + len(messages)

    def on_commit_start(self) -> None:
        self.commit_starts += 1

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        self.commits += 1

    def on_recovered(self, partitions: list[TopicPartition]) -> None:
        self.recovered += [(tp.topic, tp.partition) for tp in partitions]

    def on_send(self, agent: str | None, topic: str, key: Any, value: Any) -> None:
        self.sends[(agent, topic)] = self.sends.get((agent, topic), 0) + 1


def test_the_seam_reports_streams_commits_recoveries_and_each_send_by_agent() -> None:
    name = f"seam-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}", error_policy="dead-letter")
    numbers = app.topic("numbers", value_type=int, partitions=2)
    words = app.topic("words", value_type=str, value_serializer="raw", partitions=1)
    out = app.topic("out", value_type=int, partitions=2)

    @app.agent(numbers)
    async def odd(stream: faust.Stream[int]) -> None:
        async for number in stream:
            if number == 4:
                raise ValueError("four")  # dead-lettered: not odd's output
            if number % 2:
                await out.send(value=number)

    @app.agent(words)
    async def echo(stream: faust.Stream[str]) -> None:
        async for word in stream:
            await out.send(value=len(word))

    @app.timer(0.01)
    async def tick() -> None:
        pass

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 2)
    transport.broker.create_topic("words", 1)
    for number in range(7):
        transport.broker.append("numbers", None, str(number).encode(), partition=number % 2)
    for word in ("a", "bb"):
        transport.broker.append("words", None, word.encode(), partition=0)
    seam = Seam()
    worker = Worker(app, transport=transport, stop_when_idle=True, sensors=[seam])
    asyncio.run(worker.run())

    odd_name, echo_name = (
        f"{__name__}.{odd.fun.__qualname__}",
        f"{__name__}.{echo.fun.__qualname__}",
    )
    assert seam.batches_in == 9
    assert seam.started == seam.streams == {odd_name: 7, echo_name: 2}
    assert seam.commit_starts == seam.commits >= 1
    assert sorted(seam.recovered) == [("numbers", 0), ("numbers", 1), ("words", 0)]
    assert seam.sends == {
        (odd_name, "out"): 3,  # 1, 3, 5
        (echo_name, "out"): 2,
        (DEAD_LETTERS, "numbers-dlq"): 1,
    }


class Completions(Sensor):
    """Acknowledged sends (``wants_completions``)."""

    wants_completions = True

    def __init__(self) -> None:
        self.completed: list[tuple[str | None, str, int, int]] = []

    def on_send_completed(
        self, agent: str | None, topic: str, partition: int, offset: int, timestamp_ms: int | None
    ) -> None:
        self.completed.append((agent, topic, partition, offset))


def test_completions_are_reported_per_acknowledged_record_with_their_offsets() -> None:
    name = f"completions-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    numbers = app.topic("numbers", value_type=int, partitions=1)
    out = app.topic("out", value_type=int, partitions=1)

    @app.agent(numbers)
    async def forward(stream: faust.Stream[int]) -> None:
        async for number in stream:
            await out.send(value=number * 10)

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 1)
    for number in range(4):
        transport.broker.append("numbers", None, str(number).encode())
    sensor = Completions()
    worker = Worker(app, transport=transport, stop_when_idle=True, sensors=[sensor])
    asyncio.run(worker.run())

    agent = f"{__name__}.{forward.fun.__qualname__}"
    assert sorted(sensor.completed) == [(agent, "out", 0, offset) for offset in range(4)]
    written = [m.value() for m in transport.broker.topics["out"][0]]
    assert written == [b"0", b"10", b"20", b"30"]
