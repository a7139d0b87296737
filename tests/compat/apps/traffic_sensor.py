"""A custom sensor counting the messages that come in on the orders topic and the records
sent to the confirmations topic; a timer prints the counts. Sensors are how Faust apps
hook metrics into the worker.

Constructs: a ``faust.Sensor`` subclass overriding ``on_message_in`` and
``on_send_completed``; ``app.sensors.add(sensor)``.
"""
from collections import Counter

import faust

app = faust.App('traffic-sensor', broker='kafka://localhost:9092', topic_partitions=1)
orders_topic = app.topic('sensed-orders', value_type=str)
confirmations_topic = app.topic('sensed-confirmations', value_type=str)

traffic = Counter()


class TrafficSensor(faust.Sensor):

    def on_message_in(self, tp, offset, message):
        traffic[f'in:{tp.topic}'] += 1

    def on_send_completed(self, producer, state, metadata):
        traffic[f'out:{metadata.topic}'] += 1


app.sensors.add(TrafficSensor())


@app.agent(orders_topic)
async def confirm(orders):
    async for order in orders:
        await confirmations_topic.send(value=f'confirmed {order}')


@app.timer(1.0)
async def report():
    print(f"TRAFFIC in={traffic['in:sensed-orders']} out={traffic['out:sensed-confirmations']}")


if __name__ == '__main__':
    app.main()
