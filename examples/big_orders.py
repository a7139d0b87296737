"""Big orders: keep the orders of 1,000 or more and send them on, in cents.

A typed Record on the input topic, a ``filter(...).map(...)`` chain (a lambda, inlined by
the compiler, and a named function, called directly), and an output topic::

    faustc run examples/big_orders.py --broker kafka://127.0.0.1:9092
"""

import faust

app = faust.App("big-orders", broker="kafka://localhost:9092")


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    amount: float
    currency: str = "USD"


class BigOrder(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    amount_cents: int


orders_topic = app.topic("orders", key_type=str, value_type=Order, partitions=4)
big_orders_topic = app.topic("big-orders", key_type=str, value_type=BigOrder, partitions=4)

BIG = 1000.0


def to_big_order(order: Order) -> BigOrder:
    return BigOrder(order.order_id, order.account_id, round(order.amount * 100))


@app.agent(orders_topic)
async def find_big_orders(orders: faust.Stream[Order]) -> None:
    async for big in orders.filter(lambda o: o.amount >= BIG).map(to_big_order):
        await big_orders_topic.send(key=big.account_id, value=big)


if __name__ == "__main__":
    app.main()
