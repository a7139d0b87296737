"""Benchmark scenario exactly_once: stateful_table under processing_guarantee="exactly_once".

The same count and sum per account as ``stateful_table.py``; outputs, changelog records and
offsets go in one Kafka transaction per commit. ``bench/raw_loops.py`` (``stateful_table``
with ``eos``) does the same by hand::

    faustc build bench/apps/exactly_once.py -o build/
"""

import faust

app = faust.App(
    "bench-exactly-once",
    broker="kafka://localhost:9092",
    store="rocksdb://",
    processing_guarantee="exactly_once",
)


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


orders_topic = app.topic("bench-orders", key_type=str, value_type=Order, partitions=4)
totals_table = app.Table("totals", key_type=str, value_type=list, partitions=4)


@app.agent(orders_topic)
async def tally(orders: faust.Stream[Order]) -> None:
    async for order in orders:
        count, total = totals_table.get(order.account_id) or (0, 0.0)
        totals_table[order.account_id] = [count + 1, total + order.amount]


if __name__ == "__main__":
    app.main()
