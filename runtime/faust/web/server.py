"""The worker's web server: the app's pages, probes and metrics, beside the poll loop.

An aiohttp server in the worker's own event loop. The poll loop yields to the event loop
once per batch (``await asyncio.sleep(0)``), so a request is answered between two
batches and costs the hot path nothing while nobody asks. It serves:

- the app's pages (``@app.page``, ``faust.web.views``);
- ``GET /health``: 200 while the process is alive and its poll loop goes round; 503 with
  the reason when the loop has not gone round for ``HEALTH_STALL_SECONDS`` (a liveness
  probe restarts such a worker);
- ``GET /ready``: 200 once the group has given the worker an assignment and every table
  is restored; 503 with the reason until then (a readiness probe);
- ``GET /metrics``: Prometheus' text format (``faust.web.metrics``);
- ``GET /graph``: the app's topology as JSON (agents, their topics and sinks, tables);
- ``GET /router``: which partitions this worker holds; Faust's router views:
  ``/router/`` (every table's partitions by worker), ``/router/{table}/`` (one table's),
  ``/router/{table}/{key}/`` (the URL of the worker holding the key);
- Faust's table views: ``/table/`` (the tables), ``/table/{table}/``,
  ``/table/{table}/{key}/`` (the key's value, read through the worker holding it:
  ``faust.web.router``).

The server also starts the worker's directory (``faust.web.directory``): this worker's
URL and partitions published for the others, theirs read, for ``app.router``.

``web_port=0`` takes any free port, and ``app.conf.web_port`` then says which. A port in
use is one line (``ImproperlyConfigured``). Example::

    server = WebServer(app, worker, metrics)
    await server.start()          # the worker's start-up line then names http://0.0.0.0:6066/
    ...
    await server.stop()
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from aiohttp import web

from faust.exceptions import ImproperlyConfigured, SameNode
from faust.web.graph import topology
from faust.web.metrics import CONTENT_TYPE, WorkerMetrics
from faust.web.views import View

if TYPE_CHECKING:
    from faust.app import App
    from faust.tables.base import Table
    from faust.web.directory import WorkerDirectory
    from faust.worker.worker import Worker

log = logging.getLogger("faust.web")

#: seconds without a turn of the poll loop after which ``/health`` says 503
HEALTH_STALL_SECONDS = 120.0


class WebServer:
    """The app's pages and the worker's probes and metrics over HTTP (module docstring)."""

    def __init__(
        self,
        app: App,
        worker: Worker,
        metrics: WorkerMetrics | None,
        directory: WorkerDirectory | None = None,
    ) -> None:
        self.app = app
        self.worker = worker
        self.metrics = metrics
        self.directory = directory
        self._runner: web.AppRunner | None = None
        self._view = View(app, app.web)

    def application(self) -> web.Application:
        """The aiohttp application: the app's pages first, then the built-in views."""
        application = web.Application(middlewares=self._middlewares())
        router = application.router
        pages = self.app.web.views
        for path, view_class in pages.items():
            view = view_class(self.app, self.app.web)
            router.add_route("*", path, view.dispatch, name=view.view_name or None)
        builtins = {
            "/health": self.health,
            "/ready": self.ready,
            "/metrics": self.metrics_view,
            "/graph": self.graph,
            "/router": self.router,
            "/router/": self.router_tables,
            "/router/{name}/": self.router_table,
            "/router/{name}/{key}/": self.router_key,
            "/table/": self.table_list,
            "/table/{name}/": self.table_detail,
            "/table/{name}/{key}/": self.table_key,
        }
        for path, handler in builtins.items():
            if path not in pages:
                router.add_get(path, handler)
        return application

    def _middlewares(self) -> list[Any]:
        if not len(self.app.sensors):
            return []
        app = self.app

        @web.middleware
        async def sensors(request: web.Request, handler: Any) -> web.StreamResponse:
            sensors = list(app.sensors)
            states = [sensor.on_web_request_start(app, request) for sensor in sensors]
            response: web.StreamResponse | None = None
            try:
                response = await handler(request)
                return response
            finally:
                for sensor, state in zip(sensors, states, strict=True):
                    sensor.on_web_request_end(app, request, response, state)

        return [sensors]

    async def start(self) -> None:
        conf = self.app.conf
        runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, conf.web_bind, conf.web_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ImproperlyConfigured(
                f"cannot serve the web server on {conf.web_bind}:{conf.web_port}: "
                f"{_reason(exc)} (another worker on this host? give each its own "
                "--web-port, or --without-web)"
            ) from None
        self._runner = runner
        if conf.web_port == 0:
            for address in runner.addresses:
                if isinstance(address, tuple):
                    conf.web_port = address[1]
                    break
        self.worker.web_address = f"http://{conf.web_bind}:{conf.web_port}/"
        router = self.app.router
        router.worker = self.worker
        if self.directory is not None:
            router.directory = self.directory
            self.directory.start(self.worker.transport)
        # the worker's start-up line says where (a broker that cannot be reached must stay
        # the only line a worker that cannot start prints)
        log.debug("web server on %s (%s)", self.worker.web_address, self.app.web.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self.directory is not None:
            self.directory.stop()
        await self.app.router.close()

    # -- the built-in views ----------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        reason = self.worker.health(HEALTH_STALL_SECONDS)
        if reason is None:
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "unhealthy", "reason": reason}, status=503)

    async def ready(self, request: web.Request) -> web.Response:
        reason = self.worker.readiness()
        if reason is None:
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "not ready", "reason": reason}, status=503)

    async def metrics_view(self, request: web.Request) -> web.Response:
        if self.metrics is None:
            return web.json_response({"error": "metrics are off"}, status=404)
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def graph(self, request: web.Request) -> web.Response:
        return web.json_response(topology(self.app))

    async def router(self, request: web.Request) -> web.Response:
        assigned: dict[str, list[int]] = {}
        for topic, partition, *_ in self.worker.offsets():
            assigned.setdefault(topic, []).append(partition)
        return web.json_response(
            {
                "url": self.app.web.url,
                "assigned": {topic: sorted(parts) for topic, parts in sorted(assigned.items())},
            }
        )

    # -- Faust's router and table views ------------------------------------------------------

    async def router_tables(self, request: web.Request) -> web.StreamResponse:
        return self._view.json(self.app.router.tables_metadata())

    async def router_table(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.app.tables:
            return self._view.error(404, "unknown table", name=name)
        return self._view.json(self.app.router.table_metadata(name))

    async def router_key(self, request: web.Request) -> web.StreamResponse:
        name, key = request.match_info["name"], request.match_info["key"]
        if name not in self.app.tables:
            return self._view.error(404, "unknown table", name=name)
        try:
            return self._view.json(str(self.app.router.key_store(name, key)))
        except KeyError:
            return self._view.error(503, "no worker is known to hold this key yet", key=key)

    async def table_list(self, request: web.Request) -> web.StreamResponse:
        return self._view.json([_table_info(t) for t in self.app.tables.values()])

    async def table_detail(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        table = self.app.tables.get(name)
        if table is None:
            return self._view.error(404, "unknown table", name=name)
        return self._view.json(_table_info(table))

    async def table_key(self, request: web.Request) -> web.StreamResponse:
        """The key's value, from the worker holding it (Faust's ``TableKeyDetail``)."""
        name, key = request.match_info["name"], request.match_info["key"]
        try:
            return await self.app.router.route_req(name, key, self.app.web, request)
        except SameNode:
            pass
        table = self.app.tables[name]
        try:
            value = table[key]  # a table with default= answers a missing key with it, as Faust
        except KeyError:
            return self._view.error(404, "key not found", key=key, table=name)
        return self._view.json(value)


def _table_info(table: Table[Any, Any]) -> dict[str, str]:
    return {"name": table.name, "help": table.help}


def _reason(exc: OSError) -> str:
    """``address already in use``: the system's words for the error, without the text
    asyncio wraps around them."""
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)
