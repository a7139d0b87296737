"""Points that arrive as base64-wrapped JSON, read through a ``faust.Schema`` whose value
serializer is a composed codec (JSON, then base64), and sent on as plain JSON.

Constructs: ``app.topic(name, schema=faust.Schema(...))``; ``key_serializer='raw'``;
``codecs.get_codec('json') | codecs.get_codec('binary')``; a Record value type given by
the schema.
"""
import faust
from faust.serializers import codecs


class Point(faust.Record):
    x: int
    y: int


app = faust.App('base64-points', broker='kafka://localhost:9092', topic_partitions=1)

wrapped_points = faust.Schema(
    key_type=str,
    value_type=Point,
    key_serializer='raw',
    value_serializer=codecs.get_codec('json') | codecs.get_codec('binary'),
)
points_topic = app.topic('points-b64', schema=wrapped_points)
plain_points_topic = app.topic('points-plain', key_type=str, value_type=Point)


@app.agent(points_topic)
async def unwrap(points):
    async for key, point in points.items():
        await plain_points_topic.send(key=key, value=Point(x=point.x * 10, y=point.y * 10))


if __name__ == '__main__':
    app.main()
