"""``app.router`` and ``@app.table_route``: read a table's key through any worker.

A table is partitioned like the topics that write it; each worker holds some of its
partitions. A request for a key may reach any worker (a load balancer in front of
them); the worker that gets it answers when it holds the key's partition, else forwards
the request to the worker that does and returns that worker's answer, as Faust's router
does. Where the others are comes from ``faust.web.directory``.

- the key's partition: Kafka's murmur2 of the key's bytes (a ``str`` key by its UTF-8
  bytes, ``bytes`` as they are, anything else as the table's changelog writes it), modulo
  the table's partition count: where a producer keying a source topic with it sends it;
- a forwarded request carries the header ``Faust-Routed-From``; a worker that gets one
  for a partition it does not hold (its sender's view was stale: the group is
  rebalancing) answers 503 naming itself and the sender, and never forwards it again, so
  a request makes at most one hop;
- no worker known to hold the partition yet: 503 (Faust's ``ServiceUnavailable``).

Example::

    @app.page("/count/{word}/")
    @app.table_route(table=counts, match_info="word")
    async def get_count(self, request, word):
        return self.json({word: counts[word]})      # runs on the worker holding ``word``

    app.router.key_store("counts", "kafka")         # URL('http://host-b:6066/')
    app.router.tables_metadata()                    # {url: {changelog: [partitions]}}
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from yarl import URL

from faust.exceptions import SameNode
from faust.transport.partitioner import partition_for_key

if TYPE_CHECKING:
    from aiohttp import ClientSession

    from faust.app import App
    from faust.tables.base import Table
    from faust.web.directory import WorkerDirectory
    from faust.web.views import Request, Response, View, Web
    from faust.worker.worker import Worker

#: a view function or method ``@app.table_route`` decorates (its type is kept)
RoutedView = TypeVar("RoutedView", bound=Callable[..., Any])

#: the header of a request one worker forwarded to another (the sender's URL)
ROUTED_HEADER = "Faust-Routed-From"
#: seconds a forwarded request may take
FORWARD_TIMEOUT = 30.0
#: request headers not passed on when forwarding (aiohttp sets its own)
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class ServiceUnavailable(Exception):
    """No worker is known to hold the key's partition yet (503)."""


class Router:
    """``app.router`` (see the module docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: set by the web server while the worker runs (None: this worker alone)
        self.directory: WorkerDirectory | None = None
        self.worker: Worker | None = None
        self._session: ClientSession | None = None

    # -- Faust's Router API ----------------------------------------------------------------

    def key_partition(self, table_name: str, key: Any) -> int:
        """The partition of ``table_name`` that holds ``key`` (KeyError: unknown table;
        ServiceUnavailable: its partition count is not known yet)."""
        table = self.app.tables[table_name]
        count = self._partition_count(table)
        if count is None:
            raise ServiceUnavailable(
                f"the partitions of table {table.name!r} are not known yet (the worker is starting)"
            )
        return partition_for_key(routing_key(table, key), count)

    def key_store(self, table_name: str, key: Any) -> URL:
        """The URL of the worker holding ``key`` of ``table_name`` (KeyError: none is
        known to hold it yet)."""
        table = self.app.tables[table_name]
        me = URL(self.app.web.url)
        if table.is_global or self.directory is None:
            return me
        try:
            partition = self.key_partition(table_name, key)
        except ServiceUnavailable:
            raise KeyError(key) from None
        if self.directory.holds(partition):
            return me
        owner = self.directory.owner(partition)
        if owner is None:
            raise KeyError(key)
        return URL(owner)

    def table_metadata(self, table_name: str) -> dict[str, dict[str, list[int]]]:
        """``{worker URL: {changelog topic: [partitions]}}`` for one table."""
        table = self.app.tables[table_name]
        return {
            url: {changelog: partitions}
            for url, tables in self.tables_metadata().items()
            for changelog, partitions in tables.items()
            if changelog == table.changelog_topic_name
        }

    def tables_metadata(self) -> dict[str, dict[str, list[int]]]:
        """``{worker URL: {changelog topic: [partitions]}}`` for every table: each
        worker holds the partitions of every table numbered like the source partitions
        it was assigned."""
        tables = [t for t in self.app.tables.values() if not t.is_global]
        if self.directory is None:
            return {}
        found: dict[str, dict[str, list[int]]] = {}
        for url, assigned in self.directory.snapshot().items():
            numbers = sorted({p for partitions in assigned.values() for p in partitions})
            found[url] = {}
            for t in tables:
                count = self._partition_count(t)
                found[url][t.changelog_topic_name] = [
                    p for p in numbers if count is None or p < count
                ]
        return found

    async def route_req(self, table_name: str, key: Any, web: Web, request: Request) -> Response:
        """The answer of the worker holding ``key`` of ``table_name`` to ``request``;
        raises :class:`~faust.exceptions.SameNode` when that is this worker."""
        from faust.web.views import View

        view = View(self.app, web)
        table = self.app.tables.get(table_name)
        if table is None:
            return view.error(404, "unknown table", name=table_name)
        if table.is_global or self.directory is None:
            raise SameNode()
        try:
            partition = self.key_partition(table_name, key)
        except ServiceUnavailable as exc:
            return view.error(503, str(exc))
        if self.directory.holds(partition):
            raise SameNode()
        me = self.app.web.url
        sender = request.headers.get(ROUTED_HEADER)
        if sender is not None:
            return view.error(
                503,
                f"worker {me} does not hold partition {partition} of table {table_name!r}: "
                f"{sender} forwarded the request here from out-of-date routing information "
                "(the group is rebalancing?); ask again",
                worker=me,
                forwarded_by=sender,
            )
        owner = self.directory.owner(partition)
        if owner is None:
            return view.error(
                503,
                f"no worker is known to hold partition {partition} of table {table_name!r} "
                "yet (the group is assigning partitions)",
                worker=me,
            )
        return await self._forward(view, owner, request, partition, table_name)

    async def _forward(
        self, view: View, owner: str, request: Request, partition: int, table_name: str
    ) -> Response:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT)
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        headers[ROUTED_HEADER] = self.app.web.url
        url = URL(owner).join(request.rel_url)
        try:
            async with self._session.request(
                request.method, url, headers=headers, data=await request.read()
            ) as response:
                body = await response.read()
                content_type = response.headers.get("Content-Type")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return view.error(
                503,
                f"the worker holding partition {partition} of table {table_name!r}, {owner}, "
                f"did not answer: {exc or type(exc).__name__}",
                worker=owner,
            )
        from aiohttp import web

        forwarded = web.Response(body=body, status=status)
        if content_type:
            forwarded.headers["Content-Type"] = content_type
        return forwarded

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _partition_count(self, table: Table[Any, Any]) -> int | None:
        """How many partitions ``table`` has (None: not known before the worker planned
        its changelogs)."""
        worker = self.worker
        tables = worker.tables if worker is not None else None
        count = tables.partition_counts.get(table.changelog_topic_name) if tables else None
        return count or table.partitions

    # -- @app.table_route ------------------------------------------------------------------

    def table_route(
        self,
        table: Table[Any, Any],
        shard_param: str | None = None,
        *,
        query_param: str | None = None,
        match_info: str | None = None,
        exact_key: str | None = None,
    ) -> Callable[[RoutedView], RoutedView]:
        """Faust's ``@app.table_route``: the decorated view method runs on the worker
        holding the key (taken from ``match_info=`` path parameter, ``query_param=``
        (``shard_param=``, deprecated) or ``exact_key=``); elsewhere the request is
        forwarded there."""
        if shard_param is not None:
            warnings.warn(
                DeprecationWarning("shard_param is deprecated: use query_param"), stacklevel=2
            )
            if query_param:
                raise TypeError("Cannot specify shard_param and query_param")
            query_param = shard_param
        if query_param is None and match_info is None and exact_key is None:
            raise TypeError("Need one of query_param, shard_param, or exact key")

        def decorator(fun: RoutedView) -> RoutedView:
            @functools.wraps(fun)
            async def routed(view: View, request: Request, *args: Any, **kwargs: Any) -> Any:
                if exact_key:
                    key: Any = exact_key
                elif match_info:
                    key = request.match_info[match_info]
                else:
                    assert query_param is not None
                    key = request.query.get(query_param)
                    if key is None:
                        return view.error(400, f"the query parameter {query_param!r} is missing")
                try:
                    return await self.route_req(table.name, key, view.web, request)
                except SameNode:
                    return await fun(view, request, *args, **kwargs)

            return cast("RoutedView", routed)

        return decorator


def routing_key(table: Table[Any, Any], key: Any) -> bytes:
    """The bytes of ``key`` that decide its partition: ``bytes`` as they are, a ``str``
    UTF-8 encoded (as a topic keyed by strings sends it), anything else as the table's
    changelog writes it."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode()
    data: bytes = table.codec.dump_key(key)
    return data
