"""Clicks per 10-second window, counted under one fixed key from input that has no key, as
Faust's tumbling-window example counts its events.

The input is spread over four partitions, and the agent reads the count back after each
click. Faust's table answers from every partition the worker holds, so each window's
count runs 1, 2, 3 ... across all its clicks, whichever partition they came from.

Constructs: a topic name from a module constant; unkeyed input; a tumbling window with
``expires=timedelta``; ``table[key].current()``; reads of a key written from other
partitions.
"""
from datetime import timedelta

import faust

TOPIC = 'clicks'

app = faust.App('click-windows', broker='kafka://localhost:9092', topic_partitions=4)


class Click(faust.Record, serializer='json'):
    page: str


clicks_topic = app.topic(TOPIC, value_type=Click)
running_counts_topic = app.topic('click-running-counts', value_type=int)

click_counts = app.Table('click_counts', default=int).tumbling(
    10, expires=timedelta(hours=2))


@app.agent(clicks_topic)
async def count_clicks(clicks):
    async for click in clicks:
        click_counts['all'] += 1
        await running_counts_topic.send(value=click_counts['all'].current())


if __name__ == '__main__':
    app.main()
