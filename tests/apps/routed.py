"""An app whose table is read through any worker (tests/test_table_routes_on_kafka.py).

``amounts`` (4 partitions, str keys, int values) -> agent ``add``: ``totals[key] +=
value``. The table is read through:

- ``/total/{word}/``: a function page routed by its path parameter;
- ``/totals/?word=...``: a class view whose ``get`` is routed by a query parameter;
- Faust's ``/table/totals/{word}/`` and ``/router/totals/{word}/``.

Each answer names the worker that made it (``app.web.url``).
"""

from typing import Any

import faust
from faust.web import Request, Response, View

app = faust.App("routed", broker="kafka://localhost:9092")

amounts_topic = app.topic("amounts", key_type=str, value_type=int, partitions=4)
totals = app.Table("totals", default=int)


@app.agent(amounts_topic)
async def add(amounts: faust.Stream[int]) -> None:
    async for word, amount in amounts.items():
        totals[word] += amount


@app.page("/total/{word}/")
@app.table_route(table=totals, match_info="word")
async def get_total(self: View, request: Request, word: str) -> Response:
    return self.json({"word": word, "total": totals[word], "worker": app.web.url})


@app.page("/totals/")
class Totals(View):
    @app.table_route(table=totals, query_param="word")
    async def get(self, request: Request, **params: Any) -> Response:
        word = request.query["word"]
        return self.json({"word": word, "total": totals[word], "worker": app.web.url})


if __name__ == "__main__":
    app.main()
