"""Typed the way Faust's own guide types agents: ``StreamT`` from ``faust.types``, agents
that return ``AsyncIterable[T]`` and ``yield`` to sinks, another agent as a sink.

Constructs: ``from faust.types import StreamT``; ``-> AsyncIterable[Total]``;
``sink=[agent]``; ``sink=[callable]``; an agent (with no topic) as a sink; ``Record``
with a nested Record and a ``List`` field.
"""
from typing import AsyncIterable, List

import faust
from faust.types import StreamT


class Item(faust.Record):
    sku: str
    price: int


class Basket(faust.Record):
    customer: str
    items: List[Item]


class Total(faust.Record):
    customer: str
    total: int


app = faust.App('typed-stream', broker='kafka://localhost:9092', topic_partitions=1)
baskets_topic = app.topic('baskets', value_type=Basket)
totals_topic = app.topic('basket-totals', value_type=Total)
seen_totals = []


def remember(total: Total) -> None:
    seen_totals.append(total.total)


@app.agent()
async def publish(totals: StreamT[Total]) -> None:
    async for total in totals:
        await totals_topic.send(key=total.customer, value=total)


@app.agent(baskets_topic, sink=[publish, remember])
async def add_up(baskets: StreamT[Basket]) -> AsyncIterable[Total]:
    async for basket in baskets:
        yield Total(customer=basket.customer, total=sum(i.price for i in basket.items))


if __name__ == '__main__':
    app.main()
