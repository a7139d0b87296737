"""Readings kept in Avro: the agent serializes each reading with ``dumps()`` (as it would
to store it elsewhere), reads it back with ``Reading.loads(data)`` and sends the copy on
as JSON. The Record names its serializer, so ``loads`` needs nothing else.

Constructs: ``faust.Record`` with ``serializer='avro'`` (faustc's Avro codec);
``Record.dumps()`` and ``Record.loads(data)``.
"""
import faust


class Reading(faust.Record, serializer='avro'):
    sensor: str
    value: float


app = faust.App('avro-roundtrip', broker='kafka://localhost:9092', topic_partitions=1)
incoming_topic = app.topic('avro-incoming')
copies_topic = app.topic('avro-copies')


@app.agent(incoming_topic)
async def copy(readings):
    async for raw in readings:
        data = Reading(sensor=raw['sensor'], value=raw['value']).dumps()
        again = Reading.loads(data)
        await copies_topic.send(value={'sensor': again.sensor, 'value': again.value})


if __name__ == '__main__':
    app.main()
