"""``agent.test_context()``: Faust's testing API, for the agents Faust's guide does not
show (sinks of every kind, ``ask``, crashes, sends to other topics) and the promises of
issue 17 (every context starts with empty tables; ``group_by`` stages are fed back).
Async tests run on faustc's own pytest plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import faust


class Order(faust.Record, serializer="json"):
    account: str
    amount: float


app = faust.App("context-tests", broker="kafka://localhost:9092")
orders_topic = app.topic("ctx-orders", key_type=str, value_type=Order, partitions=4)
doubled_topic = app.topic("ctx-doubled", key_type=str, value_type=float, partitions=4)
audit_topic = app.topic("ctx-audit", value_type=float, partitions=1)
totals = app.Table("ctx-totals", default=float)
seen: list[Any] = []


@app.agent(audit_topic)
async def audit(amounts: faust.Stream[float]) -> None:
    async for _ in amounts:
        pass


@app.agent(orders_topic, sink=[doubled_topic, audit, seen.append])
async def double(orders: faust.Stream[Order]) -> AsyncIterator[float]:
    async for order in orders.group_by(Order.account):
        if order.amount < 0:
            raise ValueError(f"negative amount {order.amount}")
        totals[order.account] += order.amount
        yield order.amount * 2


async def test_sinks_of_every_kind_and_results() -> None:
    seen.clear()
    async with double.test_context() as agent:
        event = await agent.put(Order("a", 2.0), key="a")
        await agent.put(Order("b", 3.0), key="b")
        assert agent.results == {0: 4.0, 1: 6.0}
        assert event.value == Order("a", 2.0) and event.message.offset == 0
        assert agent.records("ctx-doubled") == [4.0, 6.0]  # a topic sink
        assert agent.records(audit_topic) == [4.0, 6.0]  # an agent sink: its topic
        assert seen == [4.0, 6.0]  # a callable sink
        assert totals["a"] == 2.0 and totals["b"] == 3.0  # after the group_by stage


async def test_every_context_starts_with_empty_tables() -> None:
    async with double.test_context() as agent:
        await agent.put(Order("a", 1.0), key="a")
        assert totals["a"] == 1.0
    async with double.test_context() as agent:
        assert "a" not in totals
        await agent.put(Order("a", 5.0), key="a")
        assert totals["a"] == 5.0


async def test_ask_answers_with_what_the_agent_yields() -> None:
    async with double.test_context() as agent:
        assert await agent.ask(Order("c", 10.0), key="c") == 20.0


async def test_a_crash_raises_the_agents_exception() -> None:
    async with double.test_context() as agent:
        with pytest.raises(ValueError, match=r"negative amount -1\.0") as caught:
            await agent.put(Order("a", -1.0), key="a")
        assert "test_test_context.py:" in "\n".join(caught.value.__notes__)


async def test_one_context_at_a_time() -> None:
    async with double.test_context():
        with pytest.raises(RuntimeError, match="already running"):
            async with audit.test_context():
                pass
