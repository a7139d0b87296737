"""Table: a named, partitioned, changelog-backed mapping with Faust's API.

Example (the seeds' word count)::

    counts = app.Table("word-counts", default=int)

    @app.agent(words)
    async def count(stream):
        async for word in stream:
            counts[word] += 1          # a missing key reads as default() == 0

How it is kept (see also ``faust.tables.stores`` and ``faust.tables.manager``):

- A table has one store per partition, numbered like the partitions of the topics that
  write it: a write made while processing a message of partition ``p`` goes to store ``p``
  and, at the next commit, to partition ``p`` of the changelog topic
  ``<app id>-<table>-changelog`` (as Faust and Kafka Streams do, so the worker that owns a
  source partition owns the matching table partition). Iterating (``items()``,
  ``len()``...) covers every partition held here.
- Reads follow Faust's stores. A ``memory://`` table (Faust's default store is one dict per
  table and worker) answers ``table[k]`` from whichever partition held here has ``k``, also
  inside an agent, and a key lives in one partition at a time: a write of ``k`` while
  processing partition ``p`` moves ``k`` out of the partition that had it (deleted there,
  a tombstone in that changelog partition at the next commit), so
  ``counts["all"] += 1`` over four partitions counts every message, as on Faust. A
  ``rocksdb://`` table (Faust's RocksDB store: one database per partition) reads only the
  current message's partition inside an agent. Outside an agent (timers, tasks) every
  table reads every partition held here.
- Reads and writes are dict operations on the store's ``data``; the key is added to the
  store's ``dirty`` set. Nothing else happens per access: the changelog records and the
  RocksDB writes happen once per commit, one per key written since the last one.
- Outside a worker (``agent.test_context()``, plain scripts) a table keeps its partitions in
  memory and accepts writes anywhere; inside a running worker a write outside an agent's
  stream is an error, as in Faust (there is no partition to write it to).

Windowed tables (``.tumbling()``, ``.hopping()``, ``.using_window()``) are tables whose
keys are ``(key, (start, end))``, of their own class (``faust.tables.windowed``); see
``faust.tables.wrappers`` for the WindowSet API agents use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, ItemsView, Iterator, MutableMapping, ValuesView
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from faust.contract import changelog_topic_name
from faust.events import TransportMessage, current_message
from faust.exceptions import ImproperlyConfigured, PartitionsMismatch
from faust.models.record import Record
from faust.serializers import codecs
from faust.tables.stores import (
    ABSENT,
    GlobalRocksDBStore,
    MemoryStore,
    RocksDBStore,
    Store,
    TableCodec,
)
from faust.windows import HoppingWindow, Seconds, TumblingWindow, Window

if TYPE_CHECKING:
    from faust.app import App
    from faust.tables.wrappers import WindowWrapper
    from faust.topics import Topic

KT = TypeVar("KT")
VT = TypeVar("VT")

log = logging.getLogger("faust.tables")

#: ``on_window_close(key, value)``: key is ``(key, (start, end))``; may be async
WindowCloseCallback = Callable[[Any, Any], Awaitable[None] | None]
RecoverCallback = Callable[[], Awaitable[None] | None]

STORE_SCHEMES = ("memory", "rocksdb")


def serializer_for(typ: Any) -> str | codecs.Codec:
    """Faust's rule for table keys and values: ``bytes`` raw, a Record its own serializer,
    anything else JSON."""
    if typ is bytes:
        return "raw"
    if isinstance(typ, type) and issubclass(typ, Record) and typ._options.serializer:
        serializer: str | codecs.Codec = typ._options.serializer
        return serializer
    return "json"


class Table(MutableMapping[KT, VT], Generic[KT, VT]):
    """A table (``app.Table(name, default=...)``); see the module docstring."""

    #: every worker holds every partition (GlobalTable)
    is_global = False

    def __init__(
        self,
        app: App,
        *,
        name: str,
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
    ) -> None:
        if changelog_topic is not None:
            changelog_topic.get_topic_name()  # one name (raises otherwise)
        self.app = app
        #: the changelog the app named (``changelog_topic=app.topic(...)``), else None:
        #: ``<app id>-<table>-changelog``
        self.changelog_topic = changelog_topic
        self.name = name
        self.default = default
        self.key_type = key_type
        self.value_type = value_type
        self.partitions = partitions or (changelog_topic.partitions if changelog_topic else None)
        self.help = help or ""
        self.extra_topic_configs = dict(extra_topic_configs or {})
        self._store_url = store
        self._on_window_close = on_window_close
        self._recover_callbacks: list[RecoverCallback] = [on_recover] if on_recover else []
        self.key_serializer = serializer_for(key_type)
        self.value_serializer = serializer_for(value_type)
        self.window: Window | None = None
        self._codec: TableCodec | None = None
        #: partition -> store (a global table keeps its one store under -1)
        self._stores: dict[int, Store] = {}
        #: a worker manages the stores (else they are created in memory on first use)
        self._managed = False
        #: the last message a read or write saw, and the store of its partition
        self._seen_message: TransportMessage | None = None
        self._seen_store: Store | None = None
        self._data_directory: Path | None = None
        #: keys are read and written by this class's own methods (not a subclass's):
        #: ``in_place`` may do what they do inline
        cls = type(self)
        self._plain = (
            cls.__getitem__ is Table.__getitem__
            and cls.__setitem__ is Table.__setitem__
            and cls.__missing__ is Table.__missing__
        )
        if window is not None:
            self.using_window(window)
        #: reads inside an agent look in every partition held, a key lives in one
        #: (``memory://``, Faust's one dict; module docstring)
        self._spans_partitions = self._one_dict()

    # -- identity ---------------------------------------------------------------------------

    @property
    def changelog_topic_name(self) -> str:
        """The changelog: the topic ``changelog_topic=`` gave, else
        ``<app id>-<table>-changelog`` (:func:`faust.contract.changelog_topic_name`)."""
        if self.changelog_topic is not None:
            return self.changelog_topic.get_topic_name()
        return changelog_topic_name(self.app.conf.id, self.name)

    @property
    def store_scheme(self) -> str:
        """``memory`` or ``rocksdb`` (the table's ``store=``, else the app's setting)."""
        return _check_store_url(self.name, self._store_url or self.app.conf.store)

    def _one_dict(self) -> bool:
        return not self.is_global and self.store_scheme == "memory"

    @property
    def codec(self) -> TableCodec:
        if self._codec is None:
            self._codec = self._make_codec()
        return self._codec

    def _make_codec(self) -> TableCodec:
        return TableCodec(
            self.key_type,
            self.value_type,
            self.key_serializer,
            self.value_serializer,
            windowed=self.window is not None,
            registry=self.app.codecs,
        )

    def on_recover(self, fun: RecoverCallback) -> RecoverCallback:
        """Decorator: call ``fun`` (sync or async) after this table's partitions recover."""
        self._recover_callbacks.append(fun)
        return fun

    # -- stores (the worker's TableManager drives these) ------------------------------------

    def _attach(self, data_directory: Path | None) -> None:
        """A worker takes over: forget partitions kept outside it."""
        self._seen_message = None
        self._close_all()
        self._stores = {}
        self._managed = True
        self._data_directory = data_directory
        self._spans_partitions = self._one_dict()

    def reset_state(self) -> None:
        """Forget every partition and what it held: an empty table again (each
        ``agent.test_context()`` starts this way; a worker taking the table over too)."""
        self._seen_message = None
        self._close_all()
        self._stores = {}

    def _detach(self) -> None:
        """The worker stopped: close databases; memory partitions stay readable."""
        self._seen_message = None
        for partition, store in list(self._stores.items()):
            if not isinstance(store, MemoryStore):
                store.close()
                del self._stores[partition]
        self._managed = False

    def _close_all(self) -> None:
        for store in self._stores.values():
            store.close()

    def _store_path(self, partition: int | None) -> Path:
        if self._data_directory is None:
            raise ImproperlyConfigured(f"table {self.name!r}: rocksdb:// needs a data directory")
        leaf = "global" if partition is None else str(partition)
        return self._data_directory / "tables" / self.name / leaf

    def _new_store(self, partition: int | None) -> Store:
        if self.store_scheme == "rocksdb" and self._managed:
            if partition is None:
                return GlobalRocksDBStore(self._store_path(None), self.codec, None)
            return RocksDBStore(self._store_path(partition), self.codec, partition)
        return MemoryStore(self.codec, partition)

    def _open_store(self, partition: int) -> Store:
        store = self._stores.get(partition)
        if store is None:
            store = self._stores[partition] = self._new_store(partition)
        return store

    def _close_store(self, partition: int) -> None:
        self._seen_message = None
        store = self._stores.pop(partition, None)
        if store is not None:
            store.close()

    def _release_store(self, partition: int) -> Store | None:
        """Remove ``partition``'s store without closing it (a standby keeps it open)."""
        self._seen_message = None
        return self._stores.pop(partition, None)

    def _adopt_store(self, partition: int, store: Store) -> Store:
        """Make ``store`` (kept open by a standby) the store of ``partition``."""
        self._stores[partition] = store
        return store

    def _store_missing(self, partition: int) -> Store:
        """No store for ``partition``: create one outside a worker, else a clear error."""
        if not self._managed:
            return self._open_store(partition)
        held = ", ".join(str(p) for p in sorted(self._stores)) or "none"
        raise PartitionsMismatch(
            f"table {self.name!r} was written while processing a message of partition "
            f"{partition}, which this worker does not hold for the table (it holds {held}). "
            f"Its changelog {self.changelog_topic_name!r} must have at least as many "
            "partitions as every topic whose agents write the table."
        )

    def _write_store(self) -> Store:
        message = current_message()
        if message is not None:
            partition = message.partition() or 0
            store = self._stores.get(partition)
            if store is not None:
                self._seen_message, self._seen_store = message, store
                return store
        elif self._managed:
            raise RuntimeError(
                f"cannot modify table {self.name!r} outside of an agent's stream: a table "
                "write goes to the partition of the message being processed"
            )
        else:
            partition = 0
        try:
            return self._stores[partition]
        except KeyError:
            return self._store_missing(partition)

    # -- reading ----------------------------------------------------------------------------

    def _lookup(self, key: Any) -> Any:
        """The value of ``key`` (ABSENT when missing), as ``table[key]`` finds it."""
        message = current_message()
        if message is None:
            for store in list(self._stores.values()):
                value = store.data.get(key, ABSENT)
                if value is ABSENT and not store.complete:
                    value = store.load(key)
                if value is not ABSENT:
                    return value
            return ABSENT
        seen = self._seen_store if message is self._seen_message else None
        if seen is not None:
            store = seen
        else:
            partition = message.partition() or 0
            try:
                store = self._stores[partition]
            except KeyError:
                if self._managed:
                    return ABSENT
                store = self._store_missing(partition)
            self._seen_message, self._seen_store = message, store
        value = store.data.get(key, ABSENT)
        if value is ABSENT:
            value = store.load(key) if not store.complete else ABSENT
            if value is ABSENT and self._spans_partitions:
                value = self._elsewhere(key, store)
        return value

    def _elsewhere(self, key: Any, store: Store) -> Any:
        """The value of ``key`` in a partition held here other than ``store``'s (ABSENT:
        none has it); a ``memory://`` table's reads span its partitions."""
        for other in list(self._stores.values()):
            if other is not store:
                value = other.data.get(key, ABSENT)
                if value is not ABSENT:
                    return value
        return ABSENT

    def _take(self, key: Any, store: Store) -> Any:
        """``key``'s value, moved into ``store`` from the partition that holds it (deleted
        there: a tombstone in its changelog at the next commit); ABSENT when no partition
        held here has it. A ``memory://`` table keeps a key in one partition at a time."""
        for other in list(self._stores.values()):
            if other is not store:
                value = other.data.get(key, ABSENT)
                if value is not ABSENT:
                    other.delete(key)
                    return value
        return ABSENT

    def _holder(self, key: Any) -> tuple[Store, Any]:
        """The store a write of ``key`` goes through and the value ``key`` has (ABSENT:
        none): the current message's partition, or (``memory://``) the partition that
        holds the key."""
        store = self._write_store()
        value = store.data.get(key, ABSENT)
        if value is ABSENT and not store.complete:
            value = store.load(key)
        if value is ABSENT and self._spans_partitions and current_message() is not None:
            for other in list(self._stores.values()):
                found = other.data.get(key, ABSENT) if other is not store else ABSENT
                if found is not ABSENT:
                    return other, found
        return store, value

    def __getitem__(self, key: KT) -> VT:
        # the hot path (``table[k] += 1`` reads, then writes, with the same message)
        hooks = self.app.sensors.table_hooks
        if hooks is not None:
            for sensor in hooks.get:
                sensor.on_table_get(self, key)
        message = current_message()
        if message is None:
            store = None
        elif message is self._seen_message:
            store = self._seen_store
        else:
            store = self._stores.get(message.partition() or 0)
            if store is not None:
                self._seen_message, self._seen_store = message, store
        if store is None:
            value = self._lookup(key)
        else:
            value = store.data.get(key, ABSENT)
            if value is ABSENT:
                value = store.load(key) if not store.complete else ABSENT
                if value is ABSENT and self._spans_partitions:
                    value = self._elsewhere(key, store)
        if value is ABSENT:
            return self.__missing__(key)
        result: VT = value
        return result

    def __missing__(self, key: KT) -> VT:
        if self.default is not None:
            return self.default()  # as in Faust, reading a missing key does not store it
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return self._lookup(key) is not ABSENT

    def get(self, key: KT, default: Any = None) -> Any:
        # the hot path (see __getitem__)
        hooks = self.app.sensors.table_hooks
        if hooks is not None:
            for sensor in hooks.get:
                sensor.on_table_get(self, key)
        message = current_message()
        if message is None:
            store = None
        elif message is self._seen_message:
            store = self._seen_store
        else:
            store = self._stores.get(message.partition() or 0)
            if store is not None:
                self._seen_message, self._seen_store = message, store
        if store is None:
            value = self._lookup(key)
        else:
            value = store.data.get(key, ABSENT)
            if value is ABSENT:
                value = store.load(key) if not store.complete else ABSENT
                if value is ABSENT and self._spans_partitions:
                    value = self._elsewhere(key, store)
        return default if value is ABSENT else value

    def __iter__(self) -> Iterator[KT]:
        for key, _ in self._iter_items():
            yield key

    def _iter_items(self) -> Iterator[tuple[Any, Any]]:
        for store in list(self._stores.values()):
            yield from store.items()

    def __len__(self) -> int:
        return sum(1 for _ in self._iter_items())

    def items(self) -> ItemsView[KT, VT]:
        return _ItemsView(self)

    def values(self) -> ValuesView[VT]:
        return _ValuesView(self)

    def as_ansitable(self, title: str = "{table.name}", **kwargs: Any) -> str:
        """The table as a text table of its keys and values (Faust's ``as_ansitable``:
        ``key=``, ``value=`` headers, ``sort=``, ``sortkey=``, ``target=``; ``title`` may
        name ``{table.name}``); see ``faust.terminal``."""
        from faust.terminal import dict_as_ansitable

        return dict_as_ansitable(self, title=title.format(table=self), **kwargs)

    def copy(self) -> dict[KT, VT]:
        """The table's contents (every partition held here) as a dict."""
        return dict(self._iter_items())

    # -- writing ----------------------------------------------------------------------------

    def in_place(self, key: KT, op: Callable[[Any, Any], Any], value: Any) -> None:
        """``table[key] <op>= value`` in one call (``op`` the in-place operator:
        ``operator.iadd`` for ``+=``): what a compiled agent runs for that statement, with
        the same reads, call and write as the statement itself."""
        message = current_message()
        store = None
        if message is not None and self._plain:
            if message is self._seen_message:
                store = self._seen_store
            else:
                store = self._stores.get(message.partition() or 0)
                if store is not None:
                    self._seen_message, self._seen_store = message, store
        hooks = self.app.sensors.table_hooks
        if store is None or hooks is not None:
            self[key] = op(self[key], value)
            return
        data = store.data
        current = data.get(key, ABSENT)
        if current is ABSENT:
            current = self._missing_in(store, key)
        data[key] = op(current, value)
        store.dirty.add(key)

    def _missing_in(self, store: Store, key: Any) -> Any:
        """The value ``key`` starts from in a write through ``store`` when ``store.data``
        does not have it: the database's, else (``memory://``) the one moved from the
        partition that held it, else ``default()`` (KeyError without a default)."""
        current = store.load(key) if not store.complete else ABSENT
        if current is ABSENT and self._spans_partitions:
            current = self._take(key, store)
        return self.__missing__(key) if current is ABSENT else current

    def _read_in(self, store: Store, key: Any) -> Any:
        """The value of ``key`` that ``store.data`` does not have (ABSENT: none), as a
        read in an agent finds it: the database's, else (``memory://``) another
        partition's."""
        value = store.load(key) if not store.complete else ABSENT
        if value is ABSENT and self._spans_partitions:
            value = self._elsewhere(key, store)
        return value

    def _loop_stores(self) -> dict[int, Store] | None:
        """The stores a compiled loop may read and write directly during one batch
        (``faust.compiled.table_access``): None when this table's own methods must run
        (a subclass's, a global table's, a sensor's table hooks)."""
        if not self._plain or self.is_global or self.app.sensors.table_hooks is not None:
            return None
        return self._stores

    def __setitem__(self, key: KT, value: VT) -> None:
        # the hot path (see __getitem__)
        hooks = self.app.sensors.table_hooks
        if hooks is not None:
            for sensor in hooks.set:
                sensor.on_table_set(self, key, value)
        message = current_message()
        store = self._seen_store if message is self._seen_message else None
        if store is None or message is None:
            store = self._write_store()
        data = store.data
        if self._spans_partitions and key not in data:
            self._take(key, store)
        data[key] = value
        store.dirty.add(key)

    def __delitem__(self, key: KT) -> None:
        store, value = self._holder(key)
        if value is ABSENT:
            raise KeyError(key)
        self._told_del(key)
        store.delete(key)

    def _told_get(self, key: Any) -> None:
        hooks = self.app.sensors.table_hooks
        if hooks is not None:
            for sensor in hooks.get:
                sensor.on_table_get(self, key)

    def _told_set(self, key: Any, value: Any) -> None:
        hooks = self.app.sensors.table_hooks
        if hooks is not None:
            for sensor in hooks.set:
                sensor.on_table_set(self, key, value)

    def _told_del(self, key: Any) -> None:
        hooks = self.app.sensors.table_hooks
        if hooks is not None:
            for sensor in hooks.delete:
                sensor.on_table_del(self, key)

    def pop(self, key: KT, *default: Any) -> Any:
        self._told_get(key)  # as Faust's (MutableMapping's) pop reads the key first
        store, value = self._holder(key)
        if value is ABSENT:
            if default:
                return default[0]
            raise KeyError(key)
        self._told_del(key)
        store.delete(key)
        return value

    def setdefault(self, key: KT, default: Any = None) -> Any:
        self._told_get(key)
        value = self._lookup(key)
        if value is ABSENT:
            self[key] = default
            return default
        return value

    def clear(self) -> None:
        """Delete every key of every partition held here (a tombstone for each)."""
        for store in list(self._stores.values()):
            for key, _ in list(store.items()):
                store.delete(key)

    # -- windows ----------------------------------------------------------------------------

    def using_window(self, window: Window, *, key_index: bool = False) -> WindowWrapper:
        """Make this a windowed table (``faust.tables.windowed``, in place); returns the
        wrapper agents read and write through.

        ``key_index`` is accepted for Faust compatibility; keys are always listable.
        """
        from faust.tables.windowed import WindowedTable
        from faust.tables.wrappers import WindowWrapper

        if self.is_global:
            raise ImproperlyConfigured(f"global table {self.name!r} cannot be windowed")
        return WindowWrapper(WindowedTable.windowing(self, window))

    def tumbling(
        self, size: Seconds, expires: Seconds | None = None, key_index: bool = False
    ) -> WindowWrapper:
        """Windows of ``size`` seconds, one after the other."""
        return self.using_window(TumblingWindow(size, expires), key_index=key_index)

    def hopping(
        self,
        size: Seconds,
        step: Seconds,
        expires: Seconds | None = None,
        key_index: bool = False,
    ) -> WindowWrapper:
        """Windows of ``size`` seconds starting every ``step`` seconds."""
        return self.using_window(HoppingWindow(size, step, expires), key_index=key_index)

    def __repr__(self) -> str:
        kind = type(self).__name__
        window = f" {self.window!r}" if self.window is not None else ""
        return f"<{kind}: {self.name}{window} ({len(self._stores)} partition(s) held)>"

    # Tables are registered in dicts and sets by identity (a Mapping is unhashable).
    def __hash__(self) -> int:
        return object.__hash__(self)

    def __eq__(self, other: object) -> bool:
        return self is other


def _check_store_url(table: str, url: str) -> str:
    scheme = url.partition("://")[0] if "://" in url else url
    if scheme not in STORE_SCHEMES:
        raise ImproperlyConfigured(
            f"table {table!r}: unknown store {url!r} (use memory:// or rocksdb://)"
        )
    return scheme


def message_timestamp(message: TransportMessage) -> float:
    """A message's timestamp in seconds (its arrival time when it has none)."""
    kind, milliseconds = message.timestamp()
    if kind == 0 or milliseconds < 0:  # TIMESTAMP_NOT_AVAILABLE
        return time.time()
    return milliseconds / 1000.0


class _ItemsView(ItemsView[Any, Any]):
    _mapping: Table[Any, Any]

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._mapping._iter_items()


class _ValuesView(ValuesView[Any]):
    _mapping: Table[Any, Any]

    def __iter__(self) -> Iterator[Any]:
        for _, value in self._mapping._iter_items():
            yield value
