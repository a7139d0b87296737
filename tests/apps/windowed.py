"""A windowed app for the window tests (tests/test_tables_worker.py, tests/test_differential.py).

Counts page views per page in tumbling windows of the message time (closed windows are
reported to a topic), in hopping windows of a field of the value, and collects each page's
visitors in a SetTable.
"""

from typing import Any

import faust

app = faust.App("windowed", broker="kafka://localhost:9092", table_cleanup_interval=0.0)


class View(faust.Record):
    page: str
    user: str
    at: float


views_topic = app.topic("views", key_type=str, value_type=View, partitions=2)
stats_topic = app.topic("view-stats", key_type=str, value_type=str, partitions=2)
closed_topic = app.topic("closed-windows", key_type=str, value_type=str, partitions=2)


async def report_closed(key: Any, value: int) -> None:
    page, (start, end) = key
    await closed_topic.send(key=page, value=f"{page}@{start:g}-{end:g}={value}")


per_page_table = app.Table("per-page", default=int, on_window_close=report_closed).tumbling(
    10, expires=30
)
by_field_table = app.Table("by-field", default=int).hopping(10, 5).relative_to_field(View.at)
visitors_table = app.SetTable("visitors", value_type=str)


@app.agent(views_topic)
async def count_views(views: faust.Stream[View]) -> None:
    async for view in views:
        per_page_table[view.page] += 1
        by_field_table[view.page] += 1
        visitors_table[view.page].add(view.user)
        await stats_topic.send(
            key=view.page,
            value=(
                f"{per_page_table[view.page].current()}|{by_field_table[view.page].value()}"
                f"|{by_field_table[view.page].delta(5)}|{len(visitors_table[view.page])}"
            ),
        )


if __name__ == "__main__":
    app.main()
