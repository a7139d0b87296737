"""Tables written under one key from several partitions (tests/test_differential.py).

Unkeyed clicks arrive on four partitions; the agent counts them all under the key
``"all"`` in a plain table and in a tumbling one, and sends the running counts. On
Faust's default store (``memory://``, one dict per table and worker) every message sees
the count of those before it, whatever partition they came from.
"""

import faust

app = faust.App("spanning", broker="kafka://localhost:9092")

clicks_topic = app.topic("clicks", value_type=str, partitions=4)
running_topic = app.topic("running-counts", value_type=str, partitions=1)

totals_table = app.Table("totals", default=int, partitions=4)
windowed_table = app.Table("per-minute", default=int, partitions=4).tumbling(60)


@app.agent(clicks_topic)
async def count_clicks(clicks: faust.Stream[str]) -> None:
    async for click in clicks:
        totals_table["all"] += 1
        windowed_table["all"] += 1
        await running_topic.send(
            value=f"{click}:{totals_table['all']}:{windowed_table['all'].current()}"
        )
