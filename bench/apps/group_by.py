"""Benchmark scenario group_by: repartition the orders by product, then count per product.

The agent is compiled into two stages joined by the repartition topic; the count lives in a
RocksDB table with its changelog. ``bench/raw_loops.py`` (``group_by``) does the same by hand::

    faustc build bench/apps/group_by.py -o build/
"""

import faust

app = faust.App("bench-group-by", broker="kafka://localhost:9092", store="rocksdb://")


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


orders_topic = app.topic("bench-orders", key_type=str, value_type=Order, partitions=4)
counts_table = app.Table("counts", key_type=str, default=int, partitions=4)


@app.agent(orders_topic)
async def count_products(orders: faust.Stream[Order]) -> None:
    async for order in orders.group_by(Order.product_id, name="product", partitions=4):
        counts_table[order.product_id] += 1


if __name__ == "__main__":
    app.main()
