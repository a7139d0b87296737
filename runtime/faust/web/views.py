"""Pages: Faust's view API (``@app.page``, ``faust.web.View``) and ``app.web``.

A page is a view class with one method per HTTP method (``get``, ``post``, ``put``,
``patch``, ``delete``), each ``async def get(self, request, **params)`` returning a
response made by ``self.json(...)``, ``self.text(...)``, ``self.html(...)``,
``self.bytes(...)`` or ``self.error(status, reason)``. A plain ``async def`` decorated
with ``@app.page`` answers every method. Path parameters (``/count/{word}/``) arrive as
keyword arguments. ``request`` is aiohttp's request (``request.query``, ``await
request.json()``), as with Faust's default web driver. Example::

    @app.page("/count/{word}/")
    async def get_count(self, request, word):
        return self.json({"word": word, "count": counts[word]})

    @app.page("/orders/")
    class Orders(faust.web.View):
        async def post(self, request):
            body = await request.json()
            if "id" not in body:
                return self.error(400, "an order needs an id")
            await orders_topic.send(value=Order(**body))
            return self.json({"queued": body["id"]}, status=202)

``app.web`` holds the pages the worker's web server serves (``faust.web.server``) and the
worker's address (``app.web.url``). aiohttp is imported only when a response is made.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from faust.serializers.codecs import json_dumps

if TYPE_CHECKING:
    from aiohttp import web as aiohttp_web

    from faust.app import App

    Request = aiohttp_web.Request
    Response = aiohttp_web.StreamResponse
else:
    Request = Any
    Response = Any

#: the HTTP methods a view answers, each by the method of the same name
METHODS = ("get", "post", "put", "patch", "delete")

ViewHandlerFun = Callable[..., Awaitable[Any]]
#: what ``@app.page`` decorates: a View subclass or an ``async def view(self, request)``
PageArg = type["View"] | ViewHandlerFun


class View:
    """A page of the web server (see the module docstring)."""

    #: set by ``@app.page``: the view's name and the path it is served at
    view_name: str = ""
    view_path: str = ""

    def __init__(self, app: App, web: Web) -> None:
        self.app = app
        self.web = web

    async def dispatch(self, request: Request) -> Response:
        """Call the method of ``request``'s HTTP method with the path's parameters."""
        method = request.method.lower()
        if method == "head":
            method = "get"
        handler = getattr(self, method, None) if method in METHODS else None
        if handler is None or not self._answers(method):
            return self.error(405, f"{request.method} is not allowed here")
        response: Response = await handler(request, **request.match_info)
        return response

    def _answers(self, method: str) -> bool:
        return getattr(type(self), method) is not getattr(View, method)

    async def get(self, request: Request, **params: Any) -> Response:
        return self.error(405, "GET is not allowed here")

    async def post(self, request: Request, **params: Any) -> Response:
        return self.error(405, "POST is not allowed here")

    async def put(self, request: Request, **params: Any) -> Response:
        return self.error(405, "PUT is not allowed here")

    async def patch(self, request: Request, **params: Any) -> Response:
        return self.error(405, "PATCH is not allowed here")

    async def delete(self, request: Request, **params: Any) -> Response:
        return self.error(405, "DELETE is not allowed here")

    # -- responses -------------------------------------------------------------------------

    def json(
        self,
        value: Any,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        """``value`` as JSON (Records, datetimes, sets ... as Faust's JSON codec writes them)."""
        return self.bytes(
            json_dumps(value),
            content_type=content_type,
            status=status,
            reason=reason,
            headers=headers,
        )

    def text(
        self,
        value: str,
        *,
        content_type: str = "text/plain",
        status: int = 200,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        from aiohttp import web

        return web.Response(
            text=value, content_type=content_type, status=status, reason=reason, headers=headers
        )

    def html(
        self,
        value: str,
        *,
        status: int = 200,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return self.text(
            value, content_type="text/html", status=status, reason=reason, headers=headers
        )

    def bytes(
        self,
        value: builtins.bytes,
        *,
        content_type: str | None = None,
        status: int = 200,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        from aiohttp import web

        return web.Response(
            body=value,
            content_type=content_type or "application/octet-stream",
            status=status,
            reason=reason,
            headers=headers,
        )

    def error(self, status: int, reason: str, **kwargs: Any) -> Response:
        """``{"error": reason, **kwargs}`` as JSON, with HTTP ``status``."""
        return self.json({"error": reason, **kwargs}, status=status)

    def notfound(self, reason: str = "Not Found", **kwargs: Any) -> Response:
        return self.error(404, reason, **kwargs)

    async def read_request_content(self, request: Request) -> builtins.bytes:
        return await request.read()

    @classmethod
    def from_handler(cls, fun: ViewHandlerFun) -> type[View]:
        """A view class whose every method calls ``fun(self, request, **params)``."""
        if not inspect.iscoroutinefunction(fun):
            raise TypeError(f"@app.page needs an async def or a View subclass, not {fun!r}")
        members: dict[str, Any] = {method: fun for method in METHODS}
        members.update(__doc__=fun.__doc__, __module__=fun.__module__)
        return type(fun.__name__, (cls,), members)


class Web:
    """``app.web``: the pages of an app and where its worker serves them."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: path -> view class, in the order they were declared
        self.views: dict[str, type[View]] = {}

    @property
    def url(self) -> str:
        """This worker's web address, ``http://<web_host>:<web_port>/`` (the port actually
        bound once the server runs, when ``web_port`` is 0)."""
        return self.app.conf.web_url

    def add_page(
        self, path: str, fun: PageArg, *, base: type[View] = View, name: str | None = None
    ) -> type[View]:
        """Register ``fun`` (a View subclass or an ``async def``) at ``path``."""
        if not path.startswith("/"):
            raise ValueError(f"a page's path starts with '/': {path!r}")
        if inspect.isclass(fun):
            if not issubclass(fun, View):
                raise TypeError(f"@app.page: {fun.__name__} must subclass faust.web.View")
            view: type[View] = fun
        else:
            view = base.from_handler(fun)
        if path in self.views:
            raise ValueError(f"two pages are served at {path!r}")
        view.view_name = name or view.__name__
        view.view_path = path
        self.views[path] = view
        return view
