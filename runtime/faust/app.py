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

import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from faust.agents import Agent, Crontab, SinkT, Task, Timer
from faust.cron import CronSchedule
from faust.exceptions import ImproperlyConfigured
from faust.models.record import canonical_module_name
from faust.running import RawSend, Running
from faust.serializers.codecs import Codec
from faust.serializers.registry import CodecRegistry
from faust.settings import Settings
from faust.tables import GlobalTable, SetGlobalTable, SetTable, Table
from faust.tables.base import RecoverCallback, WindowCloseCallback
from faust.topics import Topic
from faust.transport.base import DirectProduce, produce_through
from faust.windows import Window

if TYPE_CHECKING:
    from faust.cli.base import AppCommand
    from faust.replies import Replies
    from faust.streams import BatchSource, Stream

KT = TypeVar("KT")
VT = TypeVar("VT")
TimerFun = TypeVar("TimerFun", bound=Callable[[], Any])
TableT = TypeVar("TableT", bound=Table[Any, Any])
#: an agent function over a stream of ``VT`` values (it may ``yield`` results)
TypedAgentFun = Callable[["Stream[VT]"], Coroutine[Any, Any, None] | AsyncIterator[Any]]


class App:
    """A Faust application: its id names the consumer group and internal topics."""

    def __init__(self, id: str, *, broker: str | None = None, **settings: Any) -> None:
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
        self.topics: list[Topic[Any, Any]] = []
        self.agents: dict[str, Agent[Any]] = {}
        self.tables: dict[str, Table[Any, Any]] = {}
        self.timers: list[Timer] = []
        self.crontabs: list[Crontab] = []
        self.tasks: list[Task] = []
        #: what a worker (or ``agent.test_context()``) lends the app while it runs it: the
        #: producer, the feeds of ``app.stream()`` loops, the replies (``faust.running``)
        self.running: Running | None = None

    @property
    def id(self) -> str:
        return self.conf.id

    # -- declarations ----------------------------------------------------------------------

    @overload
    def topic(
        self,
        *topics: str,
        key_type: type[KT],
        value_type: type[VT],
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[KT, VT]: ...

    @overload
    def topic(
        self,
        *topics: str,
        key_type: None = None,
        value_type: type[VT],
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[Any, VT]: ...

    @overload
    def topic(
        self,
        *topics: str,
        key_type: type[KT],
        value_type: None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[KT, Any]: ...

    @overload
    def topic(
        self,
        *topics: str,
        key_type: None = None,
        value_type: None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[Any, Any]: ...

    def topic(
        self,
        *topics: str,
        key_type: Any = None,
        value_type: Any = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> Topic[Any, Any]:
        """Declare a topic; the worker creates it at start-up if it does not exist."""
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

    def find_topic(self, name: str) -> Topic[Any, Any] | None:
        """The declared topic called ``name`` (None if there is none)."""
        for topic in self.topics:
            if name in topic.topics:
                return topic
        return None

    def agent(
        self,
        channel: Topic[Any, VT],
        *,
        name: str | None = None,
        concurrency: int = 1,
        sink: Iterable[SinkT] | None = None,
        error_policy: str | None = None,
        dead_letter_topic: str | None = None,
    ) -> Callable[[TypedAgentFun[VT]], Agent[VT]]:
        """Register the decorated ``async def f(stream)`` as an agent on ``channel``.

        ``error_policy`` (``fail``, ``skip``, ``dead-letter``) overrides the app's for this
        agent; ``dead_letter_topic`` names where ``dead-letter`` sends its failed messages.
        """

        def register(fun: TypedAgentFun[VT]) -> Agent[VT]:
            agent = Agent(
                fun,
                app=self,
                channel=channel,
                name=name,
                concurrency=concurrency,
                sink=sink,
                error_policy=error_policy,
                dead_letter_topic=dead_letter_topic,
            )
            if agent.name in self.agents:
                raise ImproperlyConfigured(f"two agents are named {agent.name!r}")
            self.agents[agent.name] = agent
            return agent

        return register

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
        help: str | None = None,
    ) -> Table[Any, VT]:
        """Declare a table (see ``faust.tables``)."""
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
                help=help,
            )
        )

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
                help=help,
            )
        )

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
                help=help,
            )
        )

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
                help=help,
            )
        )

    def _register_table(self, table: TableT) -> TableT:
        if table.name in self.tables:
            raise ImproperlyConfigured(f"two tables are named {table.name!r}")
        self.tables[table.name] = table
        return table

    def timer(self, interval: float, *, on_leader: bool = False) -> Callable[[TimerFun], TimerFun]:
        """Run the decorated coroutine function every ``interval`` seconds."""

        def register(fun: TimerFun) -> TimerFun:
            name = f"{canonical_module_name(fun.__module__)}.{fun.__qualname__}"
            self.timers.append(Timer(fun, float(interval), name, on_leader))
            return fun

        return register

    def crontab(
        self, cron_format: str, *, timezone: Any = None, on_leader: bool = False
    ) -> Callable[[TimerFun], TimerFun]:
        """Run the decorated coroutine function at the times ``cron_format`` says.

        ``timezone`` is a ``datetime.tzinfo`` (default: the machine's local time).
        """
        schedule = CronSchedule.parse(cron_format)
        if timezone is not None:
            schedule = schedule.with_timezone(timezone)

        def register(fun: TimerFun) -> TimerFun:
            name = f"{canonical_module_name(fun.__module__)}.{fun.__qualname__}"
            self.crontabs.append(Crontab(fun, schedule, name, on_leader))
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

    def replies(self) -> Replies:
        """The consumer of ``agent.ask()`` replies of this process."""
        running = self.running
        if running is None or running.replies is None:
            raise RuntimeError(f"app {self.id!r} is not running: ask() happens inside a worker")
        return running.replies

    def task(self, fun: TimerFun) -> TimerFun:
        """Run the decorated coroutine function once when the worker starts."""
        name = f"{canonical_module_name(fun.__module__)}.{fun.__qualname__}"
        self.tasks.append(Task(fun, name))
        return fun

    # -- running ---------------------------------------------------------------------------

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

        run_cli(self, argv=argv)

    def __repr__(self) -> str:
        return f"<App: {self.id}>"


def _caller_module() -> str:
    """The module of the code that made the App (outside this package)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name != __name__:
            return name
        frame = frame.f_back  # type: ignore[assignment]
    return ""
