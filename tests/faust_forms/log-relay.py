"""A relay in a file whose name is no module name: its worker loads it from its path."""

import faust

app = faust.App("log-relay", broker="memory://", value_serializer="raw", topic_partitions=1)
logs_topic = app.topic("relay-logs")
errors_topic = app.topic("relay-errors")


@app.agent(logs_topic)
async def relay(lines: faust.Stream[bytes]) -> None:
    async for line in lines:
        if line.startswith(b"ERROR"):
            await errors_topic.send(value=line)
