"""Sensor alerts whose topic, table and app names are module constants and f-strings of
constants, as most Faust apps in the wild spell them.

Constructs: the App id, topic names and table name from module constants;
``f'{PREFIX}-alerts'``; a threshold constant used in the agent; ``Table(default=float)``
holding each sensor's highest reading.
"""
import faust

APP_ID = 'sensor-alerts'
PREFIX = 'sensor'
READINGS_TOPIC = f'{PREFIX}-readings'
MAX_TABLE = 'max_reading'
THRESHOLD = 50.0

app = faust.App(APP_ID, broker='kafka://localhost:9092', topic_partitions=2)


class Reading(faust.Record):
    sensor: str
    value: float


readings_topic = app.topic(READINGS_TOPIC, key_type=str, value_type=Reading)
alerts_topic = app.topic(f'{PREFIX}-alerts', key_type=str, value_type=Reading)
max_reading = app.Table(MAX_TABLE, default=float)


@app.agent(readings_topic)
async def watch(readings):
    async for reading in readings:
        if reading.value > max_reading[reading.sensor]:
            max_reading[reading.sensor] = reading.value
        if reading.value > THRESHOLD:
            await alerts_topic.send(key=reading.sensor, value=reading)


if __name__ == '__main__':
    app.main()
