"""Benchmark scenario windowed: count per account in 10 s tumbling windows of event time.

The windows are those of each message's timestamp (Faust's default relativity). They do not
expire: as in Faust, ``expires=`` counts from the wall clock, and the benchmark's event times
are years old; the raw loop expires nothing either.
``bench/raw_loops.py`` (``windowed``) does the same by hand::

    faustc build bench/apps/windowed.py -o build/
"""

import faust

app = faust.App("bench-windowed", broker="kafka://localhost:9092", store="rocksdb://")


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


orders_topic = app.topic("bench-orders", key_type=str, value_type=Order, partitions=4)
counts_table = app.Table("counts", key_type=str, default=int, partitions=4).tumbling(10.0)


@app.agent(orders_topic)
async def count_windows(orders: faust.Stream[Order]) -> None:
    async for order in orders:
        counts_table[order.account_id] += 1


if __name__ == "__main__":
    app.main()
