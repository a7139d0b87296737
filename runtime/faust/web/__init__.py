"""The worker's web server and Faust's view API.

- ``faust.web.views``: ``View`` (``@app.page`` pages), ``app.web``;
- ``faust.web.server``: the aiohttp server a worker runs beside its poll loop, with the
  app's pages, ``/health``, ``/ready``, ``/metrics``, ``/graph`` and ``/router``;
- ``faust.web.metrics``: the worker sensor behind ``/metrics`` (Prometheus text format);
- ``faust.web.router``: ``app.router`` and ``@app.table_route`` (a table's key read
  through the worker holding it); ``faust.web.directory``: where the other workers are.

Example::

    @app.page("/hello/{name}/")
    async def hello(self: faust.web.View, request: faust.web.Request, name: str):
        return self.json({"hello": name})
"""

from faust.web.views import Request, Response, View, Web

__all__ = ["Request", "Response", "View", "Web"]
