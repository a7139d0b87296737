"""The reference Stream semantics, agents in test_context(), and the worker on the
in-memory transport: chains, items/events, current_event, error policies, commits."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

import faust
from faust.transport.memory import MemoryBroker, MemoryTransport
from faust.worker import AgentFailure, Worker

_names = itertools.count()


def fresh_app(**settings: Any) -> tuple[faust.App, MemoryTransport]:
    name = f"streams-{next(_names)}"
    return faust.App(name, broker=f"memory://{name}", **settings), MemoryTransport.named(name)


def run_worker(app: faust.App, transport: MemoryTransport) -> Worker:
    worker = Worker(app, transport=transport, stop_when_idle=True)
    asyncio.run(worker.run())
    return worker


def feed(transport: MemoryTransport, topic: str, partitions: int, values: list[bytes]) -> None:
    transport.broker.create_topic(topic, partitions)
    for value in values:
        transport.broker.append(topic, None, value)


def outputs(broker: MemoryBroker, topic: str) -> list[bytes | None]:
    return [message.value() for message in broker.records(topic)]


def test_filter_and_map_run_in_written_order_with_async_functions() -> None:
    app, transport = fresh_app()
    numbers = app.topic("numbers", value_type=int, partitions=1)
    out = app.topic("out", value_type=int, partitions=1)

    async def is_even(n: int) -> bool:
        await asyncio.sleep(0)
        return n % 2 == 0

    @app.agent(numbers)
    async def process(stream: faust.Stream[int]) -> None:
        async for n in stream.map(lambda n: n + 1).filter(is_even).map(lambda n: n * 10):
            await out.send(value=n)

    feed(transport, "numbers", 1, [b"1", b"2", b"3", b"4"])
    run_worker(app, transport)
    assert outputs(transport.broker, "out") == [b"20", b"40"]


def test_items_events_and_current_event() -> None:
    app, transport = fresh_app()
    words = app.topic("words", key_type=str, value_type=str, partitions=2)
    seen: list[tuple[Any, ...]] = []

    @app.agent(words)
    async def pairs(stream: faust.Stream[str]) -> None:
        async for key, word in stream.map(str.upper).items():
            event = faust.current_event()
            assert event is not None
            seen.append(("items", key, word, event.value))

    @app.agent(words)
    async def events(stream: faust.Stream[str]) -> None:
        async for event in stream.events():
            assert faust.current_event() is event
            seen.append(("events", event.key, event.value, event.message.partition))

    transport.broker.create_topic("words", 2)
    transport.broker.append("words", b"k", b'"hi"', partition=1)
    run_worker(app, transport)
    assert ("items", "k", "HI", "hi") in seen
    assert ("events", "k", "hi", 1) in seen


def test_fail_policy_stops_without_committing_the_failed_batch() -> None:
    app, transport = fresh_app()
    numbers = app.topic("numbers", value_type=int, partitions=1)
    out = app.topic("out", value_type=int, partitions=1)

    @app.agent(numbers)
    async def process(stream: faust.Stream[int]) -> None:
        async for n in stream:
            await out.send(value=n)

    feed(transport, "numbers", 1, [b"1", b"oops", b"3"])
    with pytest.raises(AgentFailure, match=r"numbers\[0\]@1"):
        run_worker(app, transport)
    assert transport.broker.committed[(app.id, "numbers", 0)] == 0


def test_skip_policy_logs_and_continues(caplog: pytest.LogCaptureFixture) -> None:
    app, transport = fresh_app(error_policy="skip")
    numbers = app.topic("numbers", value_type=int, partitions=1)
    out = app.topic("out", value_type=int, partitions=1)

    @app.agent(numbers)
    async def process(stream: faust.Stream[int]) -> None:
        total = 0
        async for n in stream:
            if n == 5:
                raise ValueError("five is not allowed")
            total += n
            await out.send(value=total)

    feed(transport, "numbers", 1, [b"1", b"oops", b"5", b"2"])
    run_worker(app, transport)
    # the uncompiled agent restarts after the failure, so its running total restarts too
    assert outputs(transport.broker, "out") == [b"1", b"2"]
    assert transport.broker.committed[(app.id, "numbers", 0)] == 4
    messages = [record.getMessage() for record in caplog.records]
    assert any("numbers[0]@1" in m and "ValueDecodeError" in m for m in messages)
    assert any("numbers[0]@2" in m and "five is not allowed" in m for m in messages)
    # the log line cites the user's source line that raised
    assert any("(test_streams.py:" in m and "five is not allowed" in m for m in messages)


def test_dead_letter_policy_keeps_the_original_bytes() -> None:
    app, transport = fresh_app()
    numbers = app.topic("numbers", value_type=int, partitions=1)

    @app.agent(numbers, error_policy="dead-letter")
    async def process(stream: faust.Stream[int]) -> None:
        async for n in stream:
            assert n > 0, "must be positive"

    transport.broker.create_topic("numbers", 1)
    transport.broker.append("numbers", b"key-1", b"-4", headers=[("trace", b"t1")])
    run_worker(app, transport)
    (dead,) = transport.broker.records("numbers-dlq")
    assert (dead.key(), dead.value()) == (b"key-1", b"-4")
    headers = dict(dead.headers() or [])
    assert headers["trace"] == b"t1"
    assert headers["faust.topic"] == b"numbers"
    assert headers["faust.offset"] == b"0"
    assert b"must be positive" in headers["faust.error"]
    assert headers["faust.agent"].endswith(b".process")


def test_test_context_runs_an_agent_in_process() -> None:
    app = faust.App("test-context-app")
    words = app.topic("words", value_type=str)
    shouts = app.topic("shouts", value_type=str)
    counts: faust.Table[Any, int] = app.Table("counts", default=int)

    @app.agent(words)
    async def shout(stream: faust.Stream[str]) -> None:
        async for word in stream:
            counts[word] += 1
            await shouts.send(value=word.upper())

    async def scenario() -> None:
        async with shout.test_context() as agent:
            event = await agent.put("hey")
            await agent.put("hey")
            assert event.value == "hey"
            assert counts["hey"] == 2
            assert agent.records("shouts") == ["HEY", "HEY"]

    asyncio.run(scenario())


def test_table_mapping_api_and_default() -> None:
    app = faust.App("table-api")
    table: faust.Table[str, int] = app.Table("t", default=int)
    assert table["missing"] == 0 and "missing" not in table
    table["a"] = 1
    assert dict(table.items()) == {"a": 1} and table.copy() == {"a": 1}
    assert table.changelog_topic_name == "table-api-t-changelog"
    del table["a"]
    assert len(table) == 0
