"""Order batches: ``take`` gathers orders into batches, the agent yields a total per batch
to its sink topic, and a crontab and a timer report.

``take(100, within=1.0)`` hands over 100 orders at a time, or fewer once the oldest has
waited a second; orders in a batch being gathered are not committed until the batch is
processed. Run it::

    faustc run examples/order_batches.py --broker kafka://127.0.0.1:9092
"""

from collections.abc import AsyncIterator

import faust

app = faust.App("order-batches", broker="kafka://localhost:9092")


class Order(faust.Record, serializer="json"):
    order_id: str
    amount: float


class BatchTotal(faust.Record, serializer="json"):
    count: int
    total: float


orders_topic = app.topic("batch-orders", key_type=str, value_type=Order, partitions=4)
totals_topic = app.topic("batch-totals", value_type=BatchTotal, partitions=1)
seen = {"batches": 0}


@app.agent(orders_topic, sink=[totals_topic])
async def total_batches(orders: faust.Stream[Order]) -> AsyncIterator[BatchTotal]:
    async for batch in orders.take(100, within=1.0):
        seen["batches"] += 1
        yield BatchTotal(count=len(batch), total=round(sum(o.amount for o in batch), 2))


@app.timer(interval=5.0)
async def report_progress() -> None:
    print(f"{seen['batches']} batches so far", flush=True)


@app.crontab("0 * * * *")
async def hourly_report() -> None:
    print(f"hourly: {seen['batches']} batches", flush=True)


if __name__ == "__main__":
    app.main()
