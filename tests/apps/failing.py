"""A test app for the error policies, headers, timestamps and ask under the TestDriver
(``tests/test_test_driver.py``): the line numbers below are asserted there."""

from collections.abc import AsyncIterator
from typing import Any

import faust

app = faust.App("failing", broker="kafka://localhost:9092")

failing_in = app.topic("failing-in", key_type=str, value_type=int, partitions=1)
lenient_in = app.topic("lenient-in", key_type=str, value_type=int, partitions=1)
lenient_out = app.topic("lenient-out", key_type=str, value_type=int, partitions=1)
skipping_in = app.topic("skipping-in", key_type=str, value_type=int, partitions=1)
echo_in = app.topic("echo-in", key_type=str, value_type=int, partitions=1)
echo_out = app.topic("echo-out", value_type=list, partitions=1)


@app.agent(failing_in)
async def failing(values: faust.Stream[int]) -> None:
    async for value in values:
        raise ValueError(f"negative: {value}")


@app.agent(lenient_in, error_policy="dead-letter")
async def lenient(values: faust.Stream[int]) -> None:
    async for value in values:
        event = faust.current_event()
        assert event is not None
        if value < 0:
            raise ValueError(f"negative: {value}")
        await lenient_out.send(key=event.key, value=value)


@app.agent(skipping_in, error_policy="skip")
async def skipping(values: faust.Stream[int]) -> None:
    async for value in values:
        if value < 0:
            raise ValueError(f"negative: {value}")


@app.agent(echo_in, sink=[echo_out])
async def echo(values: faust.Stream[int]) -> AsyncIterator[list[Any]]:
    async for value in values:
        event = faust.current_event()
        assert event is not None
        trace = dict(event.headers).get("trace")
        yield [value, trace.decode() if trace else None, event.message.timestamp]
