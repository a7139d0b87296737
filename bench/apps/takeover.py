"""Benchmark scenario takeover: a counting agent with a RocksDB table and an output per order.

Two workers share the four partitions; the harness kills one and times how long the moved
partitions are unavailable: the survivor's first output of a moved partition. Each order
counts once in its account's ``counts`` entry and is sent on, with the new count, to
``bench-takeover-seen``::

    faustc build bench/apps/takeover.py -o build/
"""

import os

import faust

app = faust.App("bench-takeover", broker="kafka://localhost:9092", store="rocksdb://")


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


class Seen(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    count: int
    worker: int


#: which worker process sent an output (the harness tells the survivor's from the others')
WORKER = os.getpid()


orders_topic = app.topic("bench-takeover-orders", key_type=str, value_type=Order, partitions=4)
seen_topic = app.topic("bench-takeover-seen", key_type=str, value_type=Seen, partitions=4)
counts = app.Table("counts", key_type=str, value_type=int, default=int, partitions=4)


@app.agent(orders_topic)
async def count_orders(orders: faust.Stream[Order]) -> None:
    async for order in orders:
        counts[order.account_id] += 1
        await seen_topic.send(
            key=order.account_id,
            value=Seen(order.order_id, order.account_id, counts[order.account_id], WORKER),
        )


if __name__ == "__main__":
    app.main()
