"""Commands: what ``python app.py <command>`` runs, built in or the app's own.

A command is a class with ``async def run(self, ...)`` (or a plain ``def run``) that
receives its options and arguments as keyword arguments, as in Faust. ``AppCommand``
gives it the app (``self.app``) and Faust's helpers: ``say`` (print, unless ``--quiet``),
``carp`` (print only with ``--debug``), ``tabulate`` (a table, or JSON with ``--json``),
``dumps``, ``to_key``/``to_value``/``to_model`` (command-line text to a key or value),
``to_topic`` and ``abbreviate_fqdn``. While it runs, the app can send: the app is lent a
producer that connects on the first send and is flushed when the command ends (as
Faust starts its producer on demand), so ``await topic.send(...)`` and
``await agent.send(...)`` work in a command. Example::

    @app.command(option("--count", type=int, default=1), argument("name"))
    async def greet(self: AppCommand, name: str, count: int) -> None:
        \"\"\"Say hello, and tell the greetings topic.\"\"\"
        self.say(f"hello {name}")
        await greetings.send(value=name)

``@app.command()`` turns the function into an ``AppCommand`` subclass (``from_handler``);
a function without parameters runs without ``self``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, ClassVar

import click
import orjson

from faust.cli import output
from faust.models.record import canonical_module_name, registry
from faust.models.typeinfo import describe, json_decoder
from faust.running import Running
from faust.transport import open_transport
from faust.transport.base import Producer, ProducerProxy, Transport

if TYPE_CHECKING:
    from faust.app import App
    from faust.topics import Topic


@dataclasses.dataclass
class State:
    """The options given before the command (``python app.py --json agents``) and the
    app; every command reads them."""

    app: App
    quiet: bool = False
    debug: bool = False
    json: bool = False
    datadir: str | None = None
    workdir: str | None = None
    loglevel: str | None = None
    logfile: str | None = None
    #: what the command line is called (``wordcount.py``), for messages
    prog_name: str = ""
    #: a built worker: the check that its app module did not change since the build
    built_from: tuple[str | None, str] | None = None
    #: a built worker's compiled agents, by name
    compiled_agents: dict[str, Any] = dataclasses.field(default_factory=dict)


class Command:
    """A command (see the module docstring)."""

    UsageError: ClassVar[type[Exception]] = click.UsageError

    #: options and arguments (``faust.cli.option``/``argument``), in ``--help`` order
    options: ClassVar[Sequence[Any] | None] = None

    def __init__(self, state: State, *args: Any, **kwargs: Any) -> None:
        self.state = state
        self.debug = state.debug
        self.quiet = state.quiet
        self.json = state.json
        self.datadir = state.datadir
        self.workdir = state.workdir
        self.logfile = state.logfile
        self.loglevel = state.loglevel
        self.prog_name = state.prog_name
        self.stdout: IO[str] = sys.stdout
        self.stderr: IO[str] = sys.stderr
        self.args = args
        self.kwargs = kwargs

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """What the command does (``async def`` or ``def`` in a subclass); its options and
        arguments come as keyword arguments."""

    def say(self, message: Any, file: IO[str] | None = None, err: IO[str] | None = None) -> None:
        """Print ``message`` on stdout (``file``, or stderr with ``err``), unless --quiet."""
        if not self.quiet:
            click.echo(message, file=file or err or self.stdout)

    def carp(self, message: Any, **kwargs: Any) -> None:
        """Print ``#-- message``, only with --debug."""
        if self.debug:
            self.say(f"#-- {message}", **kwargs)

    def dumps(self, obj: Any) -> str:
        return output.dumps(obj)

    def tabulate(
        self,
        data: Sequence[Sequence[Any]],
        headers: Sequence[str] | None = None,
        wrap_last_row: bool = True,
        title: str = "",
        **kwargs: Any,
    ) -> str:
        """``data`` as a table (``--json``: a JSON list of objects keyed by ``headers``)."""
        if self.json:
            return output.table_json(data, headers)
        return output.table(data, headers, title)


class AppCommand(Command):
    """A command of an app (``self.app``); see the module docstring."""

    def __init__(self, state: State, *args: Any, **kwargs: Any) -> None:
        super().__init__(state, *args, **kwargs)
        self.app: App = state.app
        self.key_serializer = kwargs.pop("key_serializer", None) or self.app.conf.key_serializer
        self.value_serializer = (
            kwargs.pop("value_serializer", None) or self.app.conf.value_serializer
        )

    @classmethod
    def from_handler(
        cls, *options: Any, **attributes: Any
    ) -> Callable[[Callable[..., Any]], type[AppCommand]]:
        """``@app.command(*options)``: the decorated function becomes ``run`` of a new
        command class named after it (without parameters it runs without ``self``)."""

        def make(fun: Callable[..., Any]) -> type[AppCommand]:
            run: Any = fun if inspect.signature(fun).parameters else staticmethod(fun)
            namespace = {
                "run": run,
                "__doc__": fun.__doc__,
                "__module__": fun.__module__,
                "__qualname__": fun.__qualname__,
                "__wrapped__": fun,
                "options": list(options),
                **attributes,
            }
            return type(fun.__name__, (cls,), namespace)

        return make

    # -- command-line text to keys and values -------------------------------------------------

    def to_key(self, typ: str | None, key: str) -> Any:
        """The key given as text: a model's JSON when ``typ`` names one, else bytes."""
        return self.to_model(typ, key, self.key_serializer)

    def to_value(self, typ: str | None, value: str) -> Any:
        """The value given as text: a model's JSON when ``typ`` names one, else bytes."""
        return self.to_model(typ, value, self.value_serializer)

    def to_model(self, typ: str | None, value: str, serializer: Any) -> Any:
        if typ:
            model = self.import_relative_to_app(typ)
            return parse_text(model, value)
        return value.encode()

    def import_relative_to_app(self, attr: str) -> Any:
        """A Record by its namespace (``shop.Order``) or its name in the app (``Order``)."""
        model = find_model(attr, self.origin)
        if model is None:
            raise self.UsageError(f"No model {attr!r}. {self._models_hint(attr)}")
        return model

    def to_topic(self, entity: str) -> Topic[Any, Any]:
        """A topic by name (the app's declaration if it has one), or ``@agent``'s topic."""
        if not entity:
            raise self.UsageError("Missing topic/@agent name")
        if entity.startswith("@"):
            agent = find_agent(self.app, entity[1:], self.origin)
            if agent is None:
                names = ", ".join(f"@{self.abbreviate_fqdn(n)}" for n in sorted(self.app.agents))
                raise self.UsageError(f"No agent {entity!r} (agents: {names or 'none'})")
            topic: Topic[Any, Any] = agent.channel
            return topic
        return self.app.find_topic(entity) or self.app.topic(entity)

    @property
    def origin(self) -> str:
        """The app's module (``wordcount``): names in it are shown without it."""
        return app_origin(self.app)

    def abbreviate_fqdn(self, name: str, *, prefix: str = "") -> str:
        """``wordcount.count_words`` -> ``count_words`` (names outside the app's module
        stay whole)."""
        origin = self.origin
        if origin and name.startswith(origin + "."):
            return prefix + name[len(origin) + 1 :]
        return name

    def _models_hint(self, name: str) -> str:
        import difflib

        names = [self.abbreviate_fqdn(n) for n in registry if not n.startswith("@")]
        close = difflib.get_close_matches(name, names, n=1)
        if close:
            return f"Did you mean {close[0]!r}?"
        return f'Please run "{self.prog_name} models" for a list.'


def app_origin(app: App) -> str:
    """The module that declared ``app`` (its script's stem when run as ``__main__``)."""
    return canonical_module_name(getattr(app, "origin_module", "") or "")


def find_model(name: str, origin: str) -> Any:
    """The Record class called ``name``: its namespace, or ``<origin>.<name>``."""
    model = registry.get(name)
    if model is None and origin:
        model = registry.get(f"{origin}.{name}")
    return model


def find_agent(app: App, name: str, origin: str) -> Any:
    """The agent called ``name``: its full name, ``<origin>.<name>``, or its function's."""
    agents = app.agents
    for candidate in (name, f"{origin}.{name}"):
        if candidate in agents:
            return agents[candidate]
    matches = [a for n, a in agents.items() if n.rsplit(".", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None


def parse_text(typ: Any, text: str) -> Any:
    """A value of type ``typ`` from command-line text: a ``str`` as written, ``bytes`` as
    its UTF-8, anything else (a Record, a number, a list ...) as JSON."""
    if typ is None or typ is bytes:
        return text.encode()
    if typ is str:
        return text
    return json_decoder(describe(typ))(orjson.loads(text))


# -- the engine a command lends the app -----------------------------------------------------


class OnDemandProducer(ProducerProxy):
    """A producer that connects on its first use (a command that never sends never
    reaches the broker). The first use creates the app's declared topics, as a worker
    would, so that a send to a new declared topic gets its declared partitions."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._transport: Transport | None = None
        self._producer: Producer | None = None

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            from faust.worker.topic_setup import TopicSetup

            transport = self._transport = open_transport(self.app.conf)
            transport.check_connection(self.app.conf.broker_connect_timeout)
            TopicSetup(self.app, transport).declared()
            self._producer = transport.producer()
        return self._producer

    @property
    def started(self) -> bool:
        return self._producer is not None

    # what needs no connection does not make one

    def queued(self) -> int:
        return self.producer.queued() if self.started else 0

    def delivery_errors(self) -> int:
        return self.producer.delivery_errors() if self.started else 0

    def flush(self, timeout: float) -> None:
        if self._producer is not None:
            self._producer.flush(timeout)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
        if self._transport is not None:
            self._transport.close()


#: seconds a command waits at its end for what it sent to be acknowledged
FLUSH_TIMEOUT = 30.0


def execute(command: Command, kwargs: dict[str, Any]) -> Any:
    """Run ``command`` with its options: lend the app a producer, run, flush, take it back."""
    app = command.state.app
    producer = OnDemandProducer(app)
    lent = app.running is None
    if lent:
        app.running = Running(producer)
    try:
        result = command.run(**kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run(_awaited(result))
        producer.flush(FLUSH_TIMEOUT)
        return result
    finally:
        if lent:
            app.running = None
        producer.close()


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
