"""Benchmark scenario stateless_avro: stateless_json with schemaless Avro values.

Keeps the orders of 500 or more, maps each to a BigOrder with the amount in cents, and sends
it keyed by account. ``bench/raw_loops.py`` (``stateless_avro``) does the same by hand::

    faustc build bench/apps/stateless_avro.py -o build/
"""

import faust

app = faust.App("bench-stateless-avro", broker="kafka://localhost:9092")


class Order(faust.Record, serializer="avro"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


class BigOrder(faust.Record, serializer="avro"):
    order_id: str
    account_id: str
    amount_cents: int


orders_topic = app.topic("bench-orders-avro", key_type=str, value_type=Order, partitions=4)
big_orders_topic = app.topic(
    "bench-stateless-avro-out", key_type=str, value_type=BigOrder, partitions=4
)


@app.agent(orders_topic)
async def big_orders(orders: faust.Stream[Order]) -> None:
    async for big in orders.filter(lambda o: o.amount >= 500.0).map(
        lambda o: BigOrder(o.order_id, o.account_id, round(o.amount * 100))
    ):
        await big_orders_topic.send(key=big.account_id, value=big)


if __name__ == "__main__":
    app.main()
