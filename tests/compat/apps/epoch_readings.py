"""Readings stamped with the epoch seconds their sensor sent: the agent builds a Record
whose ``datetime`` field holds that number, as Faust's windowed-aggregation example does
with ``date=int(time())``, and sends it on. Faust writes the number as it was given.

Constructs: a ``datetime`` field holding an ``int``; ``Record`` built in an agent and
sent; a ``dict`` input read by key.
"""
from datetime import datetime

import faust


class Reading(faust.Record, serializer='json'):
    sensor: str
    date: datetime
    value: float


app = faust.App('epoch-readings', broker='kafka://localhost:9092', topic_partitions=1)
raw_topic = app.topic('epoch-raw')
readings_topic = app.topic('epoch-readings', value_type=Reading)


@app.agent(raw_topic)
async def stamp(raws):
    async for raw in raws:
        reading = Reading(sensor=raw['sensor'], date=raw['epoch'], value=raw['value'])
        await readings_topic.send(key=raw['sensor'], value=reading)


if __name__ == '__main__':
    app.main()
