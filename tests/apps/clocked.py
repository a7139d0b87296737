"""A test app whose outputs depend on time only: a timer, a crontab, ``take(within=)`` and
a windowed table that reports closed windows. ``tests/test_test_driver.py`` moves time
with ``TestDriver.advance_time`` (compiled and not), never sleeping."""

import datetime
from collections.abc import AsyncIterator

import faust

app = faust.App("clocked", broker="kafka://localhost:9092")

events_topic = app.topic("clocked-events", key_type=str, value_type=int, partitions=2)
batches_topic = app.topic("clocked-batches", value_type=int, partitions=1)
ticks_topic = app.topic("clocked-ticks", value_type=str, partitions=1)
closed_topic = app.topic("clocked-closed", key_type=str, value_type=int, partitions=1)


async def window_closed(key: tuple[str, tuple[float, float]], total: int) -> None:
    await closed_topic.send(key=key[0], value=total)


sums = app.Table("clocked-sums", default=int, on_window_close=window_closed).tumbling(
    10, expires=10
)


@app.agent(events_topic, sink=[batches_topic])
async def batch_events(events: faust.Stream[int]) -> AsyncIterator[int]:
    async for batch in events.take(3, within=5.0):
        yield sum(batch)


@app.agent(events_topic)
async def sum_events(events: faust.Stream[int]) -> None:
    async for key, value in events.items():
        sums[key] += value


@app.timer(interval=10.0)
async def tick() -> None:
    await ticks_topic.send(value="tick")


@app.crontab("0 * * * *", timezone=datetime.UTC)
async def hourly() -> None:
    await ticks_topic.send(value="hour")
