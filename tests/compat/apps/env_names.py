"""A relay whose App id, broker and topic names come from the environment, with defaults,
the way apps deployed with twelve-factor settings are written.

Constructs: ``os.environ.get(NAME, default)`` and ``os.getenv`` for the App id, the broker
and topic names; the run sets ``RELAY_SINK`` and leaves the others to their defaults.
"""
import os

import faust

APP_ID = os.environ.get('RELAY_APP_ID', 'env-relay')
SOURCE = os.getenv('RELAY_SOURCE', 'relay-in')
SINK = os.environ.get('RELAY_SINK', 'relay-out')

app = faust.App(APP_ID, broker=os.environ.get('KAFKA_BROKER', 'kafka://localhost:9092'))

source_topic = app.topic(SOURCE, value_type=str)
sink_topic = app.topic(SINK, value_type=str)


@app.agent(source_topic)
async def relay(messages):
    async for message in messages:
        await sink_topic.send(value=message.upper())


if __name__ == '__main__':
    app.main()
