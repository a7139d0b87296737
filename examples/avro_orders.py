"""Orders in Avro: a Record with every kind of field, carried by topics with the avro codec.

Big orders (total >= 1000) are re-published as a summary; `faustc schema` exports the
schemas non-Python consumers read them with::

    faustc schema examples/avro_orders.py -o schemas/
    faustc run examples/avro_orders.py --broker kafka://127.0.0.1:9092
"""

import datetime
import decimal
import enum
import uuid

import faust
from faust import DatetimeField, DecimalField

app = faust.App("avro-orders", broker="kafka://localhost:9092")


class Status(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"


class Line(faust.Record, namespace="shop.Line"):
    sku: str
    quantity: int
    price: decimal.Decimal = DecimalField(max_digits=10, decimal_places=2)


class Order(faust.Record, namespace="shop.Order", serializer="avro"):
    order_id: uuid.UUID
    account_id: str
    placed_at: datetime.datetime = DatetimeField(timezone="UTC")
    status: Status
    lines: list[Line]
    tags: dict[str, str]
    note: str | None = None


class BigOrder(faust.Record, namespace="shop.BigOrder", serializer="avro"):
    order_id: uuid.UUID
    account_id: str
    total: decimal.Decimal = DecimalField(max_digits=12, decimal_places=2)
    lines: int
    day: datetime.date


orders_topic = app.topic("avro-orders", key_type=str, value_type=Order, partitions=4)
big_orders_topic = app.topic("avro-big-orders", key_type=str, value_type=BigOrder, partitions=4)


def total_of(order: Order) -> decimal.Decimal:
    return sum((line.price * line.quantity for line in order.lines), decimal.Decimal("0"))


@app.agent(orders_topic)
async def find_big_orders(orders: faust.Stream[Order]) -> None:
    async for order in orders.filter(lambda o: o.status is not Status.NEW):
        total = total_of(order)
        if total >= 1000:
            summary = BigOrder(
                order_id=order.order_id,
                account_id=order.account_id,
                total=total,
                lines=len(order.lines),
                day=order.placed_at.date(),
            )
            await big_orders_topic.send(key=order.account_id, value=summary)


if __name__ == "__main__":
    app.main()
