"""Names from constants and from the environment, with defaults, as twelve-factor apps
write them; the source is regrouped, so the worker tells its two stages apart by name."""

import os

import faust

PREFIX = "relay"
APP_ID = os.environ.get("RELAY_APP_ID", f"{PREFIX}-env")
SOURCE = os.getenv("RELAY_SOURCE", PREFIX + "-in")
SINK = os.environ.get("RELAY_SINK", default=f"{PREFIX}-out")
COUNTS = f"{PREFIX}_counts"

app = faust.App(APP_ID, broker="memory://", topic_partitions=2)


class Line(faust.Record, serializer="json"):
    user: str
    text: str


source_topic = app.topic(SOURCE, value_type=Line)
sink_topic = app.topic(SINK, value_type=str)
counts = app.Table(COUNTS, default=int)


@app.agent(source_topic)
async def relay(lines: faust.Stream[Line]) -> None:
    async for line in lines.group_by(Line.user):
        counts[line.user] += 1
        await sink_topic.send(key=line.user, value=f"{line.user}:{line.text.upper()}")
