"""Shop: big orders sent on, running totals per account, orders per account per minute.

The app of README "Testing your app" (its tests: ``tests/test_shop.py``, with
``faustc.testing.TestDriver``). An agent reads typed orders, keeps each account's total in
a table, counts orders per account in one-minute windows and sends the big orders on; when
a minute closes, its count goes to ``minute-counts``::

    faustc run examples/shop.py --broker kafka://127.0.0.1:9092
"""

import faust

app = faust.App("shop", broker="kafka://localhost:9092")


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    amount: float


class BigOrder(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    amount: float


class MinuteCount(faust.Record, serializer="json"):
    account_id: str
    minute: float
    orders: int


orders_topic = app.topic("orders", key_type=str, value_type=Order, partitions=4)
big_orders_topic = app.topic("big-orders", key_type=str, value_type=BigOrder, partitions=4)
minute_counts_topic = app.topic("minute-counts", key_type=str, value_type=MinuteCount, partitions=4)

BIG = 1000.0

totals = app.Table("totals", default=float)


async def minute_closed(key: tuple[str, tuple[float, float]], orders: int) -> None:
    account_id, (start, _end) = key
    await minute_counts_topic.send(key=account_id, value=MinuteCount(account_id, start, orders))


orders_per_minute = app.Table(
    "orders-per-minute", default=int, on_window_close=minute_closed
).tumbling(60, expires=60)


@app.agent(orders_topic)
async def process_orders(orders: faust.Stream[Order]) -> None:
    async for order in orders:
        totals[order.account_id] += order.amount
        orders_per_minute[order.account_id] += 1
        if order.amount >= BIG:
            big = BigOrder(order.order_id, order.account_id, order.amount)
            await big_orders_topic.send(key=order.account_id, value=big)


@app.timer(interval=60.0)
async def report() -> None:
    print(f"{len(totals)} accounts, {sum(totals.values()):.2f} in total", flush=True)


if __name__ == "__main__":
    app.main()
