"""Benchmark scenario stateful_table: count and sum of amounts per account in a RocksDB table.

The table's value is ``[count, sum]``, written to its changelog at every commit, as the raw
loop in ``bench/raw_loops.py`` (``stateful_table``) writes its own::

    faustc build bench/apps/stateful_table.py -o build/
"""

import faust

app = faust.App("bench-stateful-table", broker="kafka://localhost:9092", store="rocksdb://")


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
