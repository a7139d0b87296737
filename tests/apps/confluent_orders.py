"""Orders in Confluent's Avro wire format (avro-confluent), for the real-broker test.

The registry is confluent-kafka's in-process ``mock://`` one, so the test runs this app's
worker in the test process (tests/test_avro_on_kafka.py says why).
"""

import decimal

import faust
from faust import DecimalField

app = faust.App(
    "confluent-orders",
    broker="kafka://localhost:9092",
    schema_registry_url="mock://confluent-orders",
)


class Order(faust.Record, namespace="shop.confluent.Order"):
    order_id: str
    account_id: str
    amount: decimal.Decimal = DecimalField(max_digits=10, decimal_places=2)
    note: str | None = None


class BigOrder(faust.Record, namespace="shop.confluent.BigOrder"):
    order_id: str
    amount_cents: int
    note: str


orders_topic = app.topic(
    "confluent-orders",
    key_type=str,
    value_type=Order,
    value_serializer="avro-confluent",
    partitions=2,
)
big_orders_topic = app.topic(
    "confluent-big-orders",
    key_type=str,
    value_type=BigOrder,
    value_serializer="avro-confluent",
    partitions=2,
)


@app.agent(orders_topic)
async def find_big_orders(orders: faust.Stream[Order]) -> None:
    async for order in orders.filter(lambda o: o.amount >= 100):
        big = BigOrder(
            order_id=order.order_id,
            amount_cents=int(order.amount * 100),
            note=order.note or "",
        )
        await big_orders_topic.send(key=order.account_id, value=big)
