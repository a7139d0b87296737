"""stateless_json for faust-streaming, as its users write it: keep the orders of 500 or more,
send each as a BigOrder (amount in cents) keyed by account. Run by bench/run.py --peers::

    BROKER_URL=kafka://127.0.0.1:9092 python -m faust -A faust_stateless_json worker
"""

import faust

app = faust.App("bench-peer-faust-stateless-json", broker="kafka://localhost:9092")


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


class BigOrder(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    amount_cents: int


orders_topic = app.topic("bench-orders", key_type=str, value_type=Order)
big_orders_topic = app.topic(
    "bench-peer-faust-stateless-json-out", key_type=str, value_type=BigOrder
)


@app.agent(orders_topic)
async def big_orders(orders):
    async for order in orders.filter(lambda o: o.amount >= 500.0):
        big = BigOrder(order.order_id, order.account_id, round(order.amount * 100))
        await big_orders_topic.send(key=big.account_id, value=big)


if __name__ == "__main__":
    app.main()
