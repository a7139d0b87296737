"""A log relay in a file whose name is not a Python identifier (``log-relay.py``), run
with ``python log-relay.py worker`` as such scripts are.

Constructs: an app file named with a dash; ``app.main()``; ``value_serializer='raw'``.
"""
import faust

app = faust.App(
    'log-relay',
    broker='kafka://localhost:9092',
    value_serializer='raw',
    topic_partitions=1,
)
logs_topic = app.topic('relay-logs')
errors_topic = app.topic('relay-errors')


@app.agent(logs_topic)
async def relay(lines):
    async for line in lines:
        if line.startswith(b'ERROR'):
            await errors_topic.send(value=line)


if __name__ == '__main__':
    app.main()
