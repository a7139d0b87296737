"""Delivery receipts: every forwarded order is sent with a ``callback`` that records the
delivery, and a timer reports how many deliveries were confirmed.

Constructs: ``Topic.send(..., callback=fun)`` (the callback gets the sent message's
future; ``fut.result()`` is the record's metadata); a module list appended from the
callback and read by a timer.
"""
import faust

app = faust.App('delivery-receipts', broker='kafka://localhost:9092', topic_partitions=1)
orders_topic = app.topic('receipt-orders', value_type=str)
shipped_topic = app.topic('receipt-shipped', value_type=str)
delivered = []


def on_delivered(fut):
    metadata = fut.result()
    delivered.append((metadata.topic, metadata.offset))


@app.agent(orders_topic)
async def ship(orders):
    async for order in orders:
        await shipped_topic.send(value=order, callback=on_delivered)


@app.timer(1.0)
async def report():
    topics = sorted({topic for topic, _ in delivered})
    print(f'DELIVERED {len(delivered)} to {topics}')


if __name__ == '__main__':
    app.main()
