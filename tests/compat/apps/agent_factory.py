"""Agents made by a function: one ``make_mirror(source, sink)`` call per pair of topics,
each registering an agent inside the function, a pattern Faust users reach for when
several topics get the same treatment.

Constructs: ``app.agent(topic, name=...)(fun)`` called inside a function; agents defined
in a function's body; the function called at import time.
"""
import faust

app = faust.App('agent-factory', broker='kafka://localhost:9092', topic_partitions=1)


def make_mirror(source_name, sink_name):
    source = app.topic(source_name, value_type=str)
    sink = app.topic(sink_name, value_type=str)

    async def mirror(stream):
        async for value in stream:
            await sink.send(value=f'{source_name}:{value}')

    return app.agent(source, name=f'mirror-{source_name}')(mirror)


mirror_eu = make_mirror('orders-eu', 'orders-mirrored')
mirror_us = make_mirror('orders-us', 'orders-mirrored')


if __name__ == '__main__':
    app.main()
