"""A test app whose group_by stages read only the field they are keyed by
(tests/test_differential.py): ``by_product`` reads it from the repartition records' keys
(their text is the field), ``by_currency`` from the values (its repartition topic is
declared with JSON keys), ``amounts`` decodes the values (it reads another field too)."""

import faust

app = faust.App("regrouped", broker="kafka://localhost:9092", topic_partitions=2)


class Order(faust.Record):
    account: str
    product: str
    currency: str
    amount: int


orders = app.topic("orders", key_type=str, value_type=Order, partitions=3)
# by_currency's repartition topic, declared with keys as JSON: not the field's raw text
currency_repartition = app.topic(
    "regrouped.by_currency-orders-Order.currency-repartition",
    key_type=str,
    value_type=Order,
    key_serializer="json",
    partitions=2,
)
product_counts = app.Table("product-counts", default=int)
currency_counts = app.Table("currency-counts", default=int)
product_amounts = app.Table("product-amounts", default=int)


@app.agent(orders)
async def by_product(stream: faust.Stream[Order]) -> None:
    async for order in stream.group_by(Order.product):
        product_counts[order.product] += 1


@app.agent(orders)
async def by_currency(stream: faust.Stream[Order]) -> None:
    async for order in stream.filter(lambda o: o.amount > 0).group_by(Order.currency):
        currency_counts[order.currency] += 1


@app.agent(orders)
async def amounts(stream: faust.Stream[Order]) -> None:
    async for order in stream.group_by(Order.product):
        product_amounts[order.product] += order.amount
