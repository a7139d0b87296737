"""Price quotes over RPC between agents, after Faust's RPC example: one agent asks a second
agent (which has no topic of its own) for each price with tax, and a task streams values
to the second agent with ``join``, ``map`` and ``kvjoin``.

Constructs: ``reply_create_topic=True``; ``faust.StreamT[float]`` annotations and agents
returning ``AsyncIterable[float]``; ``yield`` with ``sink=[topic]``; an agent awaiting
another agent's ``ask()``; ``Agent.join``/``map``/``kvjoin``; ``@app.agent()``.
"""
from typing import AsyncIterable

import faust
from faust import StreamT

app = faust.App(
    'rpc-quotes',
    broker='kafka://localhost:9092',
    reply_create_topic=True,
    topic_partitions=2,
)

quote_requests_topic = app.topic('quote-requests', value_type=float)
quotes_topic = app.topic('quotes', value_type=float)


@app.agent(quote_requests_topic, sink=[quotes_topic])
async def quote(prices: StreamT[float]) -> AsyncIterable[float]:
    async for price in prices:
        yield await add_tax.ask(value=price)


@app.agent()
async def add_tax(prices: StreamT[float]) -> AsyncIterable[float]:
    async for price in prices:
        yield round(price * 1.25, 2)


@app.task
async def quote_in_bulk() -> None:
    joined = await add_tax.join([8.0, 16.0, 40.0])
    print(f'JOINED {joined}')
    mapped = sorted([reply async for reply in add_tax.map([4.0, 2.0])])
    print(f'MAPPED {mapped}')
    pairs = await add_tax.kvjoin([('small', 0.8), ('large', 800.0)])
    print(f'KVJOINED {pairs}')


if __name__ == '__main__':
    app.main()
