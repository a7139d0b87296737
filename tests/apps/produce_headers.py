"""An app whose ``app.on_produce_message`` receiver stamps every record it sends (what
Faust's livecheck does): the receiver gets the record's key, value, partition,
timestamp and headers, and adds to the headers."""

from typing import Any

import faust

app = faust.App("produce-headers")
orders_topic = app.topic("orders", value_type=int)
doubled_topic = app.topic("doubled", value_type=int)

seen: list[tuple[Any, Any]] = []


@app.on_produce_message.connect
def stamp(sender: faust.App, key: Any = None, value: Any = None, **kwargs: Any) -> None:
    seen.append((key, value))
    kwargs["headers"].append(("stamped-by", sender.conf.id.encode()))


@app.agent(orders_topic)
async def double(orders: faust.Stream[int]) -> None:
    async for order in orders:
        await doubled_topic.send(value=order * 2)
