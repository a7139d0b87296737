"""The built-in commands besides ``worker``: ``send``, ``agents``, ``tables``, ``models``,
``model`` and ``reset``, with Faust's options and output.

Tables print as boxed text, or as a JSON list with ``--json`` (before the command, as in
Faust, or after it). Examples::

    python app.py agents                         # name, topic, help of every agent
    python app.py --json tables                  # [{"name": ..., "help": ...}]
    python app.py model Order                    # field, type, default
    python app.py send orders '{"order_id": "o1", "amount": 12.5}' -k a1 --repeat 3
    python app.py send @count_words hello        # to the agent's topic
    python app.py reset                          # delete this worker's table state
"""

from __future__ import annotations

import asyncio
import datetime
import random
import shutil
import time
from pathlib import Path
from typing import Any

import click

from faust.cli.base import AppCommand, find_model, parse_text
from faust.cli.params import argument, option
from faust.exceptions import ImproperlyConfigured
from faust.models.record import Record, registry
from faust.transport import open_transport
from faust.transport.partitioner import partition_for_key
from faust.worker.state import DataDirectory
from faust.worker.topic_setup import ADMIN_TIMEOUT, TopicSetup

#: a table without ``help=`` (Faust's words)
DEFAULT_TABLE_HELP = 'Missing description: use Table(.., help="str")'
#: built-in types show by name, other types by repr (Faust's rule)
BUILTIN_TYPES = frozenset({int, float, str, bytes, bool, datetime.datetime})
#: seconds ``send`` waits for each record to be acknowledged
SEND_TIMEOUT = 30.0

#: the JSON output option, accepted after the command too (Faust: before it)
json_option = option(
    "--json", "json_output", is_flag=True, default=False, help="Print JSON instead of a table."
)


class agents(AppCommand):
    """List agents."""

    options = [
        option("--local/--no-local", default=False, help="Include agents using a local channel"),
        json_option,
    ]

    async def run(self, local: bool = False, json_output: bool = False) -> None:
        self.json = self.json or json_output
        rows = [
            [f"@{self.abbreviate_fqdn(agent.name)}", _topic_name(agent.channel), _help(agent)]
            for agent in sorted(self.app.agents.values(), key=lambda a: a.name)
        ]
        self.say(self.tabulate(rows, headers=["name", "topic", "help"], title="Agents"))


class tables(AppCommand):
    """List available tables."""

    options = [json_option]

    async def run(self, json_output: bool = False) -> None:
        self.json = self.json or json_output
        rows = [[t.name, t.help or DEFAULT_TABLE_HELP] for t in self.app.tables.values()]
        self.say(self.tabulate(rows, headers=["name", "help"], title="Tables"))


class models(AppCommand):
    """List all available models as a tabulated list."""

    options = [
        option("--builtins/--no-builtins", default=False, help="Include faust's own models"),
        json_option,
    ]

    async def run(self, builtins: bool = False, json_output: bool = False) -> None:
        self.json = self.json or json_output
        rows = [
            [self.abbreviate_fqdn(namespace), _help(model)]
            for namespace, model in sorted(registry.items())
            if builtins or not (namespace.startswith("@") or namespace.startswith("faust."))
        ]
        self.say(self.tabulate(rows, headers=["name", "help"], title="Models"))


class model(AppCommand):
    """Show model detail."""

    options = [argument("name"), json_option]

    async def run(self, name: str, json_output: bool = False) -> None:
        self.json = self.json or json_output
        found = find_model(name, self.origin)
        if found is None:
            raise self.UsageError(f"No model {name!r}. {self._models_hint(name)}")
        rows = []
        for field in found._options.fields:
            descriptor = found._options.descriptors[field]
            rows.append(
                [
                    descriptor.field,
                    _type_name(descriptor.type),
                    "*" if descriptor.required else repr(descriptor.default),
                ]
            )
        title = self.abbreviate_fqdn(found._options.namespace)
        self.say(self.tabulate(rows, headers=["field", "type", "default"], title=title))


class reset(AppCommand):
    """Delete local table state.

    Deletes this worker's RocksDB tables (in --datadir); the changelogs stay, and the next
    worker restores the tables from them."""

    options = [option("-D", "--datadir", default=None, help="The worker's --datadir.")]

    async def run(self, datadir: str | None = None) -> None:
        conf = self.app.conf
        if datadir:
            conf.datadir = datadir
        directory = DataDirectory(Path(conf.data_directory))
        if not directory.path.exists():
            self.say(f"Nothing to delete: {directory.path} does not exist")
            return
        directory.lock()  # one line, exit 1, if a worker runs on it
        try:
            deleted = 0
            for table in self.app.tables.values():
                path = directory.path / "tables" / table.name
                if path.exists():
                    partitions = sorted(p.name for p in path.iterdir())
                    self.say(
                        f"Removing database for table {table.name}: {path} "
                        f"({len(partitions)} partition(s): {', '.join(partitions)})"
                    )
                    shutil.rmtree(path)
                    deleted += 1
                elif table.store_scheme == "memory":
                    self.say(f"Table {table.name}: kept in memory, nothing stored locally")
                else:
                    self.say(f"Table {table.name}: no local state in {directory.path}")
            self.say(
                f"Deleted the local state of {deleted} table(s) in {directory.path}; "
                "the next worker restores them from their changelogs"
            )
        finally:
            directory.release()


class send(AppCommand):
    """Send message to agent/topic."""

    options = [
        option("--key-type", "-K", help="Name of model to serialize key into."),
        option("--key-serializer", help="Override default serializer for key."),
        option("--value-type", "-V", help="Name of model to serialize value into."),
        option("--value-serializer", help="Override default serializer for value."),
        option("--key", "-k", help="String value for key (use json if model)."),
        option("--partition", type=int, help="Specific partition to send to."),
        option(
            "--repeat", "-r", type=click.IntRange(min=1), default=1, help="Send message n times."
        ),
        option("--min-latency", type=float, default=0.0, help="Minimum delay between sending."),
        option("--max-latency", type=float, default=0.0, help="Maximum delay between sending."),
        argument("entity"),
        argument("value", default=None, required=False),
    ]

    async def run(
        self,
        entity: str,
        value: str | None,
        *,
        key: str | None = None,
        key_type: str | None = None,
        key_serializer: str | None = None,
        value_type: str | None = None,
        value_serializer: str | None = None,
        partition: int | None = None,
        repeat: int = 1,
        min_latency: float = 0.0,
        max_latency: float = 0.0,
    ) -> None:
        topic = self.to_topic(entity)
        name = topic.get_topic_name()
        declared = self.app.find_topic(name) is not None
        key_bytes = self._encode(
            key, key_type, key_serializer, topic.key_type, topic.key_dumper(), declared
        )
        value_bytes = self._encode(
            value, value_type, value_serializer, topic.value_type, topic.value_dumper(), declared
        )
        transport = open_transport(self.app.conf)
        try:
            transport.check_connection(self.app.conf.broker_connect_timeout)
            partitions = TopicSetup(self.app, transport).declared()
            if name not in partitions:
                spec = TopicSetup(self.app, transport).specs(())
                partitions = transport.ensure_topics(
                    [s for s in spec if s.name == name],
                    ADMIN_TIMEOUT,
                    create=self.app.conf.topic_allow_declare,
                )
            count = partitions.get(name)
            if count is None:
                raise ImproperlyConfigured(f"topic {name!r} does not exist on the broker")
            if partition is not None and not 0 <= partition < count:
                raise self.UsageError(f"topic {name!r} has partitions 0-{count - 1}")
            producer = transport.producer(track_deliveries=True)
            try:
                for index in range(repeat):
                    target = partition
                    if target is None:
                        target = (
                            partition_for_key(key_bytes, count)
                            if key_bytes is not None
                            else random.randrange(count)
                        )
                    self.carp(f"k={key_bytes!r} v={value_bytes!r} -> {name}[{target}]...")
                    sent_at = time.time()
                    producer.send_tracked(name, key_bytes, value_bytes, target)
                    producer.flush(SEND_TIMEOUT)
                    offset = producer.take_delivered_offsets().get((name, target))
                    self.say(
                        self.dumps(
                            {
                                "topic": name,
                                "partition": target,
                                "topic_partition": [name, target],
                                "offset": offset,
                                "timestamp": int(sent_at * 1000),
                                "timestamp_type": 0,
                            }
                        )
                    )
                    if index + 1 < repeat and max_latency:
                        await asyncio.sleep(random.uniform(min_latency, max_latency))
            finally:
                producer.close()
        finally:
            transport.close()

    def _encode(
        self,
        text: str | None,
        model_name: str | None,
        serializer: str | None,
        declared_type: Any,
        dumper: Any,
        declared: bool,
    ) -> bytes | None:
        """Command-line text to the bytes the topic carries: a value of the named model
        (``-K``/``-V``) or of the topic's declared type, read as JSON (a ``str`` as
        written) and encoded with the topic's codec (``--key/value-serializer`` overrides
        it); the text's bytes as they are on a topic the app does not declare."""
        if text is None:
            return None
        typ = self.import_relative_to_app(model_name) if model_name else declared_type
        if typ is None and not declared:
            return text.encode()
        try:
            obj = parse_text(typ, text)
        except Exception as exc:
            raise self.UsageError(f"cannot read {text!r} as {_type_name(typ)}: {exc}") from None
        if serializer:
            codec = self.app.codecs.get(serializer)
            if isinstance(obj, Record):
                return codec.dumps_record(obj)
            return codec.dumps(obj)
        encoded: bytes = dumper(obj)
        return encoded


def _topic_name(topic: Any) -> str:
    try:
        return str(topic.get_topic_name())
    except ValueError:
        return ",".join(topic.topics)


def _help(obj: Any) -> str:
    doc = (getattr(obj, "help", None) or getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else "<N/A>"


def _type_name(typ: Any) -> str:
    if typ is None:
        return "bytes"
    if typ in BUILTIN_TYPES or isinstance(typ, type):
        return str(typ.__name__)
    return repr(typ)


#: the built-in commands, in ``--help`` order (``worker`` is in faust.cli.worker)
COMMANDS: list[type[AppCommand]] = [agents, model, models, reset, send, tables]
