"""Agents asking agents (tests/test_differential.py): ``quote`` awaits ``add_tax.ask()``
for every price inside its own loop (the worker must consume the request while ``quote``
waits), and a task asks with ``join``, ``map`` and ``kvjoin``.
"""

from collections.abc import AsyncIterable

import faust

app = faust.App("asking", broker="kafka://localhost:9092")

requests_topic = app.topic("quote-requests", value_type=float, partitions=2)
quotes_topic = app.topic("quotes", value_type=float, partitions=1)
bulk_topic = app.topic("bulk-quotes", value_type=str, partitions=1)


@app.agent(requests_topic, sink=[quotes_topic])
async def quote(prices: faust.Stream[float]) -> AsyncIterable[float]:
    async for price in prices:
        yield await add_tax.ask(value=price)


@app.agent()
async def add_tax(prices: faust.Stream[float]) -> AsyncIterable[float]:
    async for price in prices:
        yield round(price * 1.25, 2)


@app.task
async def quote_in_bulk() -> None:
    joined = await add_tax.join([8.0, 16.0, 40.0])
    mapped = sorted([reply async for reply in add_tax.map([4.0, 2.0])])
    pairs = await add_tax.kvjoin([("small", 0.8), ("large", 800.0)])
    await bulk_topic.send(value=f"{joined}|{mapped}|{pairs}")
