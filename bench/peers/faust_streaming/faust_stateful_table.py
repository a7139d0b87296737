"""stateful_table for faust-streaming, as its users write it: count and sum of amounts per
account in a RocksDB table (its changelog written by Faust). Run by bench/run.py --peers::

    BROKER_URL=kafka://127.0.0.1:9092 python -m faust -A faust_stateful_table worker
"""

import faust

app = faust.App(
    "bench-peer-faust-stateful-table", broker="kafka://localhost:9092", store="rocksdb://"
)


class Order(faust.Record, serializer="json"):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str


orders_topic = app.topic("bench-orders", key_type=str, value_type=Order)
# (value_type=list makes faust-streaming 0.15 fail to read its own values back from RocksDB:
# "type object 'list' has no attribute 'from_data'"; without it values are plain JSON)
totals = app.Table("totals", key_type=str, partitions=4)


@app.agent(orders_topic)
async def tally(orders):
    async for order in orders:
        count, total = totals.get(order.account_id) or (0, 0.0)
        totals[order.account_id] = [count + 1, total + order.amount]


if __name__ == "__main__":
    app.main()
