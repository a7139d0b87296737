"""Page views in hopping windows (10 seconds long, a new one every 5), counted under one
key, the way Faust's hopping-window example counts its events. After each view the agent
sends the count of the newest window that holds it.

Constructs: module constants for names and sizes (``WINDOW``, ``STEP``); ``hopping()``
with ``expires=timedelta``; ``WindowSet.current()``; a table read back in the same
agent; ``app.conf.table_cleanup_interval`` assigned after the App is made.
"""
from datetime import timedelta

import faust

TOPIC = 'page-views'
SINK = 'page-view-window-counts'
TABLE = 'views_per_window'
WINDOW = 10
STEP = 5

app = faust.App('hopping-views', broker='kafka://localhost:9092', topic_partitions=1)
app.conf.table_cleanup_interval = 5.0


class View(faust.Record):
    page: str


views_topic = app.topic(TOPIC, value_type=View)
window_counts_topic = app.topic(SINK, value_type=int)

views_per_window = app.Table(TABLE, default=int).hopping(
    WINDOW, STEP, expires=timedelta(hours=2))


@app.agent(views_topic)
async def count_views(views):
    async for view in views:
        views_per_window['views'] += 1
        await window_counts_topic.send(value=views_per_window['views'].current())


if __name__ == '__main__':
    app.main()
