"""The App: where topics, agents, tables and timers are declared.

Example::

    app = faust.App("word-count", broker="kafka://localhost:9092")
    words = app.topic("words", value_type=str)
    counts = app.Table("word-counts", default=int)

    @app.agent(words)
    async def count(stream: faust.Stream[str]) -> None:
        async for word in stream:
            counts[word] += 1

    if __name__ == "__main__":
        app.main()         # python app.py worker --broker kafka://...

``app.main()`` runs this module's agents as they are written (the reference runtime).
``faustc build app.py`` compiles the same module into a fused worker.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import inspect
import logging
import sys
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable, Sequence
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from faust.agents import Agent, Crontab, SinkT, Task, Timer, default_agent_name
from faust.contract import agent_topic_name, discovery_modules, scanned
from faust.cron import CronSchedule
from faust.delivery import DeliveryReport
from faust.exceptions import ImproperlyConfigured
from faust.running import RawSend, Running
from faust.sensors import Monitor, SensorDelegate
from faust.serializers.codecs import Codec
from faust.serializers.registry import CodecRegistry
from faust.serializers.schemas import Schema
from faust.settings import Settings
from faust.signals import Signal, SyncSignal
from faust.tables import GlobalTable, SetGlobalTable, SetTable, Table
from faust.tables.base import RecoverCallback, WindowCloseCallback
from faust.topics import Topic
from faust.transport.base import DirectProduce, SendCell, produce_through, unread_cell
from faust.web.views import PageArg, View, Web
from faust.windows import Window

if TYPE_CHECKING:
    from faust.channels import Channel
    from faust.cli.base import AppCommand
    from faust.replies import Replies
    from faust.services import Service
    from faust.streams import BatchSource, Stream
    from faust.web.router import RoutedView, Router

log = logging.getLogger("faust.app")

KT = TypeVar("KT")
VT = TypeVar("VT")
#: a timer, crontab or task function: ``async def f()`` or ``async def f(app)``
TimerFun = TypeVar("TimerFun", bound=Callable[..., Any])
TableT = TypeVar("TableT", bound=Table[Any, Any])
ServiceT = TypeVar("ServiceT")
#: an agent function over a stream of ``VT`` values (it may ``yield`` results)
TypedAgentFun = Callable[["Stream[VT]"], Coroutine[Any, Any, None] | AsyncIterable[Any]]


class FlowControl:
    """Faust's ``app.flow_control``. Faust starts a worker's stream queues suspended and
    its tests must ``resume()`` them; here streams are never suspended, so ``resume()``
    has nothing to do and :meth:`is_active` is always true."""

    def resume(self) -> None:
        """Let streams take messages (they always do here)."""

    def is_active(self) -> bool:
        return True


class App:
    """A Faust application: its id names the consumer group and internal topics."""

    def __init__(
        self, id: str, *, broker: str | Sequence[Any] | None = None, **settings: Any
    ) -> None:
        if not id:
            raise ImproperlyConfigured("App id must be a non-empty string")
        self.conf = Settings.from_app_kwargs(id, broker, settings)
        #: this app's codecs: registered for it, or generated for its Records by a built
        #: worker (``faust.serializers.registry``)
        self.codecs = CodecRegistry()
        #: the app's own commands (``@app.command()``), by the order they were declared
        self.commands: list[type[AppCommand]] = []
        #: the module that declared the app: the CLI shows names in it without it
        self.origin_module: str = _caller_module()
        #: whether :meth:`main` ran (``python app.py worker`` on a module that never calls
        #: it says so at exit: :func:`_main_never_called`)
        self.main_called = False
        if self.origin_module == "__main__" and sys.argv[1:2] and sys.argv[1][:1] != "-":
            atexit.register(_main_never_called, self)
        self.topics: list[Topic[Any, Any]] = []
        #: in-memory channels (``app.channel()``), never created in Kafka
        self.channels: list[Channel[Any, Any]] = []
        self.agents: dict[str, Agent[Any]] = {}
        self.tables: dict[str, Table[Any, Any]] = {}
        self.timers: list[Timer] = []
        self.crontabs: list[Crontab] = []
        self.tasks: list[Task] = []
        #: ``@app.service`` classes (or instances), started with the worker
        self.services: list[type[Service] | Service] = []
        #: the services of the running worker
        self.running_services: list[Service] = []
        #: what a worker (or ``agent.test_context()``) lends the app while it runs it: the
        #: producer, the feeds of ``app.stream()`` loops, the replies (``faust.running``)
        self.running: Running | None = None
        #: Faust's test fixtures assign the test's event loop here; the worker runs on the
        #: loop it is started in, so nothing reads it
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Faust's ``app.flow_control`` (tests call ``resume()``)
        self.flow_control = FlowControl()
        #: Faust-style sensors told of what the worker does (``faust.sensors``)
        self.sensors = SensorDelegate(self)
        self._monitor: Monitor | None = None
        #: the pages of the worker's web server (``@app.page``) and its address
        self.web = Web(self)
        self._router: Router | None = None
        # Faust's signals (``faust.signals``): receivers are called with the app first
        #: the worker was created (before it starts)
        self.on_worker_init = SyncSignal("on_worker_init", sender=self)
        #: a record the app sends is about to be queued: receivers get its key, value,
        #: partition, timestamp and headers (a list they may add to), as in Faust
        self.on_produce_message = SyncSignal("on_produce_message", sender=self)
        #: the worker has started: agents running, topics subscribed (before any message)
        self.on_startup = Signal("on_startup", sender=self)
        #: the group gave this worker partitions (a set of TopicPartition)
        self.on_partitions_assigned = Signal("on_partitions_assigned", sender=self)
        #: the group took partitions away, after they were committed
        self.on_partitions_revoked = Signal("on_partitions_revoked", sender=self)
        #: every assigned partition's tables are restored: all of them flow
        self.on_rebalance_complete = Signal("on_rebalance_complete", sender=self)
        #: the worker is stopping (SIGTERM): before its streams end and it commits
        self.on_before_shutdown = Signal("on_before_shutdown", sender=self)
        #: the worker has stopped: everything committed, clients closed
        self.on_shutdown = Signal("on_shutdown", sender=self)
        #: what ``discover()`` imported (None: it has not run; a second call does nothing)
        self._discovered: list[str] | None = None

    @property
    def id(self) -> str:
        return self.conf.id

    @property
    def monitor(self) -> Monitor:
        """Faust's Monitor (``faust.sensors.monitor``): made and added to the app's sensors
        when first read, so that an app that never reads it pays for none of its hooks."""
        if self._monitor is None:
            self._monitor = Monitor()
            self.sensors.add(self._monitor)
        return self._monitor

    @monitor.setter
    def monitor(self, monitor: Monitor) -> None:
        if self._monitor is not None:
            self.sensors.remove(self._monitor)
        self._monitor = monitor
        self.sensors.add(monitor)

    @property
    def router(self) -> Router:
        """Faust's ``app.router`` (``faust.web.router``): which worker holds a table's key
        (``key_store``), every table's partitions by worker (``tables_metadata``), and
        ``route_req``, which forwards a request there."""
        if self._router is None:
            from faust.web.router import Router

            self._router = Router(self)
        return self._router

    # -- declarations ----------------------------------------------------------------------

    @overload
    def topic(
        self,
        *topics: str,
        schema: Schema | None = None,
        key_type: type[KT],
        value_type: type[VT],
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        retention: float | timedelta | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[KT, VT]: ...

    @overload
    def topic(
        self,
        *topics: str,
        schema: Schema | None = None,
        key_type: None = None,
        value_type: type[VT],
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        retention: float | timedelta | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[Any, VT]: ...

    @overload
    def topic(
        self,
        *topics: str,
        schema: Schema | None = None,
        key_type: type[KT],
        value_type: None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        retention: float | timedelta | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[KT, Any]: ...

    @overload
    def topic(
        self,
        *topics: str,
        schema: Schema | None = None,
        key_type: None = None,
        value_type: None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        retention: float | timedelta | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[Any, Any]: ...

    def topic(
        self,
        *topics: str,
        schema: Schema | None = None,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        retention: float | timedelta | None = None,
        compacting: bool | None = None,
        deleting: bool | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[Any, Any]:
        """Declare a topic; the worker creates it at start-up if it does not exist.

        As in Faust: a ``schema`` gives the types and serializers its keywords do not;
        ``compacting``/``deleting`` set ``cleanup.policy``, ``retention`` (seconds)
        ``retention.ms``, and ``config`` has the last word.
        """
        if schema is not None:
            key_type = key_type if key_type is not None else schema.key_type
            value_type = value_type if value_type is not None else schema.value_type
            key_serializer = key_serializer or schema.key_serializer
            value_serializer = value_serializer or schema.value_serializer
        config = {**_topic_config(retention, compacting, deleting), **(config or {})}
        topic: Topic[Any, Any] = Topic(
            self,
            topics=topics,
            key_type=key_type,
            value_type=value_type,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            partitions=partitions,
            replicas=replicas,
            internal=internal,
            config=config,
        )
        self.topics.append(topic)
        return topic

    def channel(
        self,
        *,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        maxsize: int | None = None,
    ) -> Channel[KT, VT]:
        """An in-memory channel (``faust.channels``): agents and ``app.stream()`` loops
        read it, ``channel.send()`` puts values on it; nothing reaches Kafka."""
        from faust.channels import Channel

        channel: Channel[KT, VT] = Channel(
            self, key_type=key_type, value_type=value_type, maxsize=maxsize
        )
        self.channels.append(channel)
        return channel

    def find_topic(self, name: str) -> Topic[Any, Any] | None:
        """The declared topic called ``name`` (None if there is none)."""
        for topic in self.topics:
            if name in topic.topics:
                return topic
        return None

    @overload
    def agent(
        self,
        channel: Topic[Any, VT],
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[SinkT] | None = None,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
        isolated_partitions: bool = False,
        use_reply_headers: bool | None = None,
        help: str | None = None,
    ) -> Callable[[TypedAgentFun[VT]], Agent[VT]]: ...

    @overload
    def agent(
        self,
        channel: None = None,
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[SinkT] | None = None,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
        isolated_partitions: bool = False,
        use_reply_headers: bool | None = None,
        help: str | None = None,
        schema: Schema | None = None,
        key_type: type[Any] | None = None,
        value_type: type[VT],
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
    ) -> Callable[[TypedAgentFun[VT]], Agent[VT]]: ...

    @overload
    def agent(
        self,
        channel: None = None,
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[SinkT] | None = None,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
        isolated_partitions: bool = False,
        use_reply_headers: bool | None = None,
        help: str | None = None,
        schema: Schema | None = None,
        key_type: type[Any] | None = None,
        value_type: None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
    ) -> Callable[[TypedAgentFun[Any]], Agent[Any]]: ...

    def agent(
        self,
        channel: Topic[Any, Any] | None = None,
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[SinkT] | None = None,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
        isolated_partitions: bool = False,
        use_reply_headers: bool | None = None,
        help: str | None = None,
        schema: Schema | None = None,
        key_type: type[Any] | None = None,
        value_type: type[Any] | None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
    ) -> Callable[[TypedAgentFun[Any]], Agent[Any]]:
        """Register the decorated ``async def f(stream)`` as an agent on ``channel``.

        Without a channel the agent gets a topic of its own, as in Faust:
        ``<app id>-<agent name>`` (:func:`faust.contract.agent_topic_name`), typed by
        ``schema``/``key_type``/``value_type`` and fed by ``agent.send/cast/ask``.
        ``error_policy`` (``fail``, ``skip``, ``dead-letter``) overrides the app's for this
        agent; ``dead_letter_topic`` names where ``dead-letter`` sends its failed messages.
        ``use_reply_headers=False``: ``ask()`` wraps each request in Faust's envelope
        (``ReqRepRequest``: the value, the reply topic, the correlation id) instead of
        headers, and the agent unwraps it. ``isolated_partitions=True``: one instance of
        the agent per partition the worker holds, started at its first message and ended
        when the partition is revoked, as Faust's actors (``faust.worker.runner``).
        """
        own_topic = dict(
            schema=schema,
            key_type=key_type,
            value_type=value_type,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            partitions=partitions,
        )
        if channel is not None and any(value is not None for value in own_topic.values()):
            given = ", ".join(key for key, value in own_topic.items() if value is not None)
            raise TypeError(f"app.agent(): {given} apply only to an agent without a channel")

        def register(fun: TypedAgentFun[Any]) -> Agent[Any]:
            agent_name = name or default_agent_name(fun)
            topic = channel
            if topic is None:
                topic = self.topic(
                    agent_topic_name(self.conf.id, agent_name),
                    schema=schema,
                    key_type=key_type,
                    value_type=value_type,
                    key_serializer=key_serializer,
                    value_serializer=value_serializer,
                    partitions=partitions,
                    internal=True,
                )
            agent = Agent(
                fun,
                app=self,
                channel=topic,
                name=agent_name,
                concurrency=concurrency,
                sink=sink,
                error_policy=error_policy,
                dead_letter_topic=dead_letter_topic,
                help=help,
                use_reply_headers=use_reply_headers is not False,
                isolated_partitions=isolated_partitions,
            )
            if agent.name in self.agents:
                raise ImproperlyConfigured(f"two agents are named {agent.name!r}")
            self.agents[agent.name] = agent
            return agent

        return register

    @overload
    def Table(
        self,
        name: str,
        *,
        default: Callable[[], VT],
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        window: Window | None = None,
        on_window_close: WindowCloseCallback | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> Table[Any, VT]: ...

    @overload
    def Table(
        self,
        name: str,
        *,
        default: None = None,
        key_type: type[KT] | None = None,
        value_type: type[VT],
        partitions: int | None = None,
        window: Window | None = None,
        on_window_close: WindowCloseCallback | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> Table[Any, VT]: ...

    @overload
    def Table(
        self,
        name: str,
        *,
        default: None = None,
        key_type: type[KT] | None = None,
        value_type: None = None,
        partitions: int | None = None,
        window: Window | None = None,
        on_window_close: WindowCloseCallback | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> Table[Any, Any]: ...

    def Table(
        self,
        name: str,
        *,
        default: Callable[[], VT] | None = None,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        window: Window | None = None,
        on_window_close: WindowCloseCallback | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> Table[Any, VT]:
        """Declare a table (see ``faust.tables``); ``changelog_topic=app.topic(...)``
        names its changelog (default ``<app id>-<name>-changelog``), as in Faust."""
        return self._register_table(
            Table(
                self,
                name=name,
                default=default,
                key_type=key_type,
                value_type=value_type,
                partitions=partitions,
                window=window,
                on_window_close=on_window_close,
                on_recover=on_recover,
                store=store,
                extra_topic_configs=extra_topic_configs,
                changelog_topic=changelog_topic,
                help=help,
            )
        )

    @overload
    def GlobalTable(
        self,
        name: str,
        *,
        default: Callable[[], VT],
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> GlobalTable[Any, VT]: ...

    @overload
    def GlobalTable(
        self,
        name: str,
        *,
        default: None = None,
        key_type: type[KT] | None = None,
        value_type: type[VT],
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> GlobalTable[Any, VT]: ...

    @overload
    def GlobalTable(
        self,
        name: str,
        *,
        default: None = None,
        key_type: type[KT] | None = None,
        value_type: None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> GlobalTable[Any, Any]: ...

    def GlobalTable(
        self,
        name: str,
        *,
        default: Callable[[], VT] | None = None,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> GlobalTable[Any, VT]:
        """Declare a table every worker holds completely (see ``faust.tables.globaltable``)."""
        return self._register_table(
            GlobalTable(
                self,
                name=name,
                default=default,
                key_type=key_type,
                value_type=value_type,
                partitions=partitions,
                on_recover=on_recover,
                store=store,
                extra_topic_configs=extra_topic_configs,
                changelog_topic=changelog_topic,
                help=help,
            )
        )

    @overload
    def SetTable(
        self,
        name: str,
        *,
        key_type: type[KT] | None = None,
        value_type: type[VT],
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> SetTable[Any, VT]: ...

    @overload
    def SetTable(
        self,
        name: str,
        *,
        key_type: type[KT] | None = None,
        value_type: None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> SetTable[Any, Any]: ...

    def SetTable(
        self,
        name: str,
        *,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> SetTable[Any, VT]:
        """Declare a table of sets (see ``faust.tables.sets``)."""
        return self._register_table(
            SetTable(
                self,
                name=name,
                key_type=key_type,
                value_type=value_type,
                partitions=partitions,
                on_recover=on_recover,
                store=store,
                extra_topic_configs=extra_topic_configs,
                changelog_topic=changelog_topic,
                help=help,
            )
        )

    @overload
    def SetGlobalTable(
        self,
        name: str,
        *,
        key_type: type[KT] | None = None,
        value_type: type[VT],
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> SetGlobalTable[Any, VT]: ...

    @overload
    def SetGlobalTable(
        self,
        name: str,
        *,
        key_type: type[KT] | None = None,
        value_type: None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> SetGlobalTable[Any, Any]: ...

    def SetGlobalTable(
        self,
        name: str,
        *,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        on_recover: RecoverCallback | None = None,
        store: str | None = None,
        extra_topic_configs: dict[str, str] | None = None,
        changelog_topic: Topic[Any, Any] | None = None,
        help: str | None = None,
    ) -> SetGlobalTable[Any, VT]:
        """Declare a table of sets every worker holds completely."""
        return self._register_table(
            SetGlobalTable(
                self,
                name=name,
                key_type=key_type,
                value_type=value_type,
                partitions=partitions,
                on_recover=on_recover,
                store=store,
                extra_topic_configs=extra_topic_configs,
                changelog_topic=changelog_topic,
                help=help,
            )
        )

    def _register_table(self, table: TableT) -> TableT:
        if table.name in self.tables:
            raise ImproperlyConfigured(f"two tables are named {table.name!r}")
        self.tables[table.name] = table
        return table

    def timer(
        self, interval: float | timedelta, *, on_leader: bool = False, name: str | None = None
    ) -> Callable[[TimerFun], TimerFun]:
        """Run the decorated coroutine function every ``interval`` seconds (it is given
        the app when it takes a parameter, as in Faust)."""

        def register(fun: TimerFun) -> TimerFun:
            timer_name = name or default_agent_name(fun)
            seconds = _seconds(interval)
            self.timers.append(Timer(_given_app(fun, self), seconds, timer_name, on_leader))
            return fun

        return register

    def crontab(
        self,
        cron_format: str,
        *,
        timezone: tzinfo | None = None,
        tz: tzinfo | None = None,
        on_leader: bool = False,
    ) -> Callable[[TimerFun], TimerFun]:
        """Run the decorated coroutine function at the times ``cron_format`` says (any
        form croniter reads, ``@daily`` included: ``faust.cron``).

        ``timezone`` is a ``datetime.tzinfo`` (default: the App's ``timezone`` setting,
        UTC unless set, as in Faust); ``tz`` is the same, as Faust's crontab guide and
        example write it.
        """
        if timezone is not None and tz is not None:
            raise TypeError("app.crontab(): give timezone= or tz=, not both")
        zone = timezone if timezone is not None else tz
        schedule = CronSchedule.parse(cron_format).with_timezone(
            zone if zone is not None else self.conf.timezone
        )

        def register(fun: TimerFun) -> TimerFun:
            name = default_agent_name(fun)
            self.crontabs.append(Crontab(_given_app(fun, self), schedule, name, on_leader))
            return fun

        return register

    def stream(
        self,
        channel: Topic[Any, VT],
        *,
        processors: Iterable[Callable[[Any], Any]] | None = None,
    ) -> Stream[VT]:
        """A stream over ``channel``, for ``async for`` inside an ``@app.task``.

        The running worker feeds it from the app's consumer (group = app id).
        """
        from faust.streams import Stream

        return Stream(channel, processors=processors)

    def attach_stream(self, stream: Stream[Any]) -> BatchSource:
        """Give ``stream`` its feed of messages (called on its first iteration)."""
        running = self.running
        if running is None or running.attach_stream is None:
            raise RuntimeError(
                f"{stream!r} is not attached to a running worker: start the app with "
                "`faustc run app.py` or use agent.test_context()"
            )
        return running.attach_stream(stream)

    def is_leader(self) -> bool:
        """Is this worker the leader of its group (the one that runs ``on_leader=True``
        timers, crontabs and tasks)? Faust's rule: it holds partition 0 of the app's
        leader topic (``faust.contract.leader_topic_name``). False outside a worker."""
        running = self.running
        return running is not None and running.is_leader is not None and running.is_leader()

    def waiting_for_replies(self) -> None:
        """The running coroutine is about to wait for ``agent.ask()`` replies: when it is
        an agent in the middle of a batch, the worker goes on without waiting for that
        batch (the requests must be consumed too; ``faust.running``)."""
        running = self.running
        if running is not None and running.detach is not None:
            running.detach()

    def replies(self) -> Replies:
        """The consumer of ``agent.ask()`` replies of this process."""
        running = self.running
        if running is None or running.replies is None:
            raise RuntimeError(f"app {self.id!r} is not running: ask() happens inside a worker")
        return running.replies

    @overload
    def task(self, fun: TimerFun, *, on_leader: bool = False) -> TimerFun: ...

    @overload
    def task(
        self, fun: None = None, *, on_leader: bool = False
    ) -> Callable[[TimerFun], TimerFun]: ...

    def task(
        self, fun: TimerFun | None = None, *, on_leader: bool = False
    ) -> TimerFun | Callable[[TimerFun], TimerFun]:
        """Run the decorated coroutine function once when the worker starts (it is given
        the app when it takes a parameter, as in Faust); ``@app.task`` or
        ``@app.task(on_leader=...)``."""

        def register(fun: TimerFun) -> TimerFun:
            name = default_agent_name(fun)
            self.tasks.append(Task(_given_app(fun, self), name, on_leader))
            return fun

        return register(fun) if fun is not None else register

    def page(
        self, path: str, *, base: type[View] = View, name: str | None = None
    ) -> Callable[[PageArg], type[View]]:
        """Serve the decorated view at ``path`` on the worker's web server (Faust's
        ``@app.page``): a ``faust.web.View`` subclass, or ``async def view(self, request,
        **params)`` answering every method. ``path`` may hold parameters: ``/count/{word}/``
        passes ``word=`` to the handler."""

        def register(fun: PageArg) -> type[View]:
            return self.web.add_page(path, fun, base=base, name=name)

        return register

    def table_route(
        self,
        table: TableT,
        shard_param: str | None = None,
        *,
        query_param: str | None = None,
        match_info: str | None = None,
        exact_key: str | None = None,
    ) -> Callable[[RoutedView], RoutedView]:
        """Decorate a view (method) so that it runs on the worker holding the table's key,
        as Faust's ``@app.table_route``: the key comes from the path parameter
        ``match_info``, the query parameter ``query_param`` (``shard_param``, deprecated)
        or is ``exact_key``; a worker not holding it forwards the request to the one that
        does (``faust.web.router``)."""
        return self.router.table_route(
            table,
            shard_param,
            query_param=query_param,
            match_info=match_info,
            exact_key=exact_key,
        )

    def service(self, cls: ServiceT) -> ServiceT:
        """Decorator: start this ``faust.Service`` subclass (or instance) with the worker
        and stop it with it, as Faust's ``@app.service`` does (``faust.services``)."""
        from faust.services import Service

        if not (isinstance(cls, Service) or (isinstance(cls, type) and issubclass(cls, Service))):
            raise TypeError(f"@app.service takes a faust.Service subclass or instance, not {cls!r}")
        self.services.append(cls)
        return cls

    def start_services(self) -> list[Service]:
        """The services to start now: an instance of each ``@app.service`` class (the
        instances given as they are); :attr:`running_services` until they stop."""
        self.running_services = [s() if isinstance(s, type) else s for s in self.services]
        return self.running_services

    def discover(self, *extra_modules: str) -> list[str]:
        """Import the modules ``autodiscover``/``origin`` name (and ``extra_modules``),
        and every module of those that are packages, so that the agents, tables, timers
        and services declared there register, as Faust's ``App.discover()`` does (the
        rule: :func:`faust.contract.discovery_modules`, :func:`faust.contract.scanned`).
        The worker calls it when it starts. Returns the modules imported."""
        import importlib
        import pkgutil

        if self._discovered is not None and not extra_modules:
            return self._discovered

        autodiscover = self.conf.autodiscover
        if callable(autodiscover):
            autodiscover = list(autodiscover())
        try:
            names = discovery_modules(autodiscover, self.conf.origin)
        except ValueError as exc:
            raise ImproperlyConfigured(str(exc)) from None
        imported: list[str] = []
        for name in dict.fromkeys([*names, *extra_modules]):
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name is not None and name.startswith(exc.name):
                    raise ImproperlyConfigured(
                        f"autodiscover: no module named {name!r} (App autodiscover= or origin=)"
                    ) from None
                raise
            imported.append(name)
            for found in pkgutil.walk_packages(getattr(module, "__path__", []), f"{name}."):
                if not scanned(found.name):
                    continue
                try:
                    importlib.import_module(found.name)
                except Exception as exc:  # as Faust's scan: a warning, and the others go on
                    log.warning("autodiscover: importing %s raised %r", found.name, exc)
                    continue
                imported.append(found.name)
        self._discovered = imported
        return imported

    # -- running ---------------------------------------------------------------------------

    def finalize(self) -> None:
        """Faust's "complete the app's configuration" (its test fixtures call it). An App
        here is complete once declared: nothing to do."""

    def sender(self) -> RawSend:
        """``send(topic, key, value, partition=None, timestamp=None, headers=None)`` for
        already-encoded bytes: what :meth:`send_raw` does, bound once. A compiled agent
        takes it when it starts and produces through it per record, without the checks
        ``send_raw`` repeats on every call. The worker lends the app its running engine
        (``faust.running``) before any agent starts and takes it back after they stopped."""
        running = self.running
        if running is None:
            return self.send_raw
        return running.sender()

    def direct_sender(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        """``(produce, retry)``: the producer's own ``produce(topic, value, key)`` and the
        errors after which a compiled loop calls :meth:`sender`'s ``send`` with the same
        record instead (see ``faust.transport.base.Producer.direct``). A compiled agent
        takes it when it starts, for sends of a key, a value and headers."""
        running = self.running
        if running is None:
            return produce_through(self.send_raw), ()  # raises: the app is not running
        return running.direct_sender()

    def counting_sender(self) -> tuple[DirectProduce, tuple[type[Exception], ...], SendCell]:
        """``(produce, retry, cell)``: :meth:`direct_sender` for a compiled loop that
        counts the records it produces itself, ``cell[0] += 1`` on ``cell(topic)`` after
        each ``produce`` returned (``faust.running.Running.counting_sender``; what a
        worker's ``/metrics`` counts as the agent's records sent)."""
        running = self.running
        if running is None:
            return produce_through(self.send_raw), (), unread_cell  # raises: not running
        return running.counting_sender()

    def send_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        *,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Produce already-encoded bytes (every send ends here)."""
        running = self.running
        if running is None:
            raise RuntimeError(
                f"app {self.id!r} is not running: sends happen inside a worker "
                "(`faustc run app.py`, `python app.py worker`, or agent.test_context())"
            )
        running.producer.send(topic, key, value, partition, timestamp, headers)

    def send_reported(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        report: DeliveryReport,
        *,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Produce already-encoded bytes and call ``report`` once they are acknowledged
        (``Topic.send(callback=)``; ``faust.delivery``)."""
        running = self.running
        if running is None:
            self.send_raw(topic, key, value)  # raises: not running
            return
        running.producer.send_reported(topic, key, value, partition, timestamp, headers, report)

    def command(
        self, *options: Any, base: type[AppCommand] | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], type[AppCommand]]:
        """Decorator: the function becomes a command of this app's command line, with
        ``options`` (``faust.cli.option``/``argument``), as in Faust. It is called as the
        ``run`` method of a new ``base`` (default ``faust.cli.AppCommand``) subclass, so its
        first parameter is the command (``self.app``, ``self.say``...); a function
        without parameters is called without it. ``python app.py <function name> ...``."""
        from faust.cli.base import AppCommand

        def register(fun: Callable[..., Any]) -> type[AppCommand]:
            command = (base or AppCommand).from_handler(*options, **kwargs)(fun)
            self.commands.append(command)
            return command

        return register

    def main(self, argv: list[str] | None = None) -> NoReturn:
        """The app's command line: ``python app.py worker [--broker URL]``, ``send``,
        ``agents``, ``tables``, ``models``, ``model``, ``reset`` and its own commands."""
        from faust.cli.main import run_cli

        self.main_called = True
        run_cli(self, argv=argv)

    def __repr__(self) -> str:
        return f"<App: {self.id}>"


def _given_app(fun: Callable[..., Awaitable[Any]], app: App) -> Callable[[], Awaitable[Any]]:
    """``fun`` as a function of no arguments: called with ``app`` when it takes a
    parameter (Faust's rule for tasks, timers and crontabs)."""
    try:
        takes_app = bool(inspect.signature(fun).parameters)
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        takes_app = False
    if not takes_app:
        return fun

    @functools.wraps(fun)
    def call() -> Awaitable[Any]:
        return fun(app)

    return call


def _seconds(interval: float | timedelta) -> float:
    return interval.total_seconds() if isinstance(interval, timedelta) else float(interval)


def _topic_config(
    retention: float | timedelta | None, compacting: bool | None, deleting: bool | None
) -> dict[str, str]:
    """Faust's topic flags as topic configuration: ``cleanup.policy`` and
    ``retention.ms`` (``retention`` in seconds)."""
    config: dict[str, str] = {}
    policies = [name for name, on in (("compact", compacting), ("delete", deleting)) if on]
    if policies:
        config["cleanup.policy"] = ",".join(policies)
    if retention is not None:
        config["retention.ms"] = str(int(_seconds(retention) * 1000))
    return config


def _caller_module() -> str:
    """The module of the code that made the App (outside this package)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name != __name__:
            return name
        frame = frame.f_back  # type: ignore[assignment]
    return ""


def _main_never_called(app: App) -> None:
    """At exit of ``python app.py worker`` (a command given to a script that made an App):
    the module never called ``app.main()``, so nothing ran. Say what to do."""
    if app.main_called or getattr(sys, "last_value", None) is not None:
        return  # (or the module raised before it got there: that was said)
    script = sys.argv[0]
    module = Path(script).stem
    print(
        f"{script}: the module never calls app.main(), so {sys.argv[1]!r} did nothing: end it "
        "with `if __name__ == '__main__': app.main()`, or run it as Faust's -A does: "
        f"`python -m faust -A {module} {' '.join(sys.argv[1:])}`",
        file=sys.stderr,
    )
