"""A GlobalTable app (tests/test_tables_worker.py, tests/test_tables_on_kafka.py).

Exchange rates arrive on one topic and are kept in a GlobalTable; orders on another topic
are converted with whatever rate every worker holds, whichever worker wrote it.
"""

import os

import faust

app = faust.App("rates", broker="kafka://localhost:9092")


class Order(faust.Record):
    id: int
    currency: str
    amount: float


rate_updates_topic = app.topic("rate-updates", key_type=str, value_type=float, partitions=2)
orders_topic = app.topic("orders", key_type=str, value_type=Order, partitions=2)
converted_topic = app.topic("converted", key_type=str, value_type=str, partitions=2)
rates_table = app.GlobalTable("rates", value_type=float)


@app.agent(rate_updates_topic)
async def update_rates(updates: faust.Stream[float]) -> None:
    async for currency, rate in updates.items():
        rates_table[currency] = rate


@app.agent(orders_topic)
async def convert(orders: faust.Stream[Order]) -> None:
    async for order in orders:
        rate = rates_table.get(order.currency)
        await converted_topic.send(
            key=order.currency, value=f"{order.id}:{order.currency}:{rate}:{os.getpid()}"
        )


if __name__ == "__main__":
    app.main()
