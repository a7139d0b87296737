"""Stores: where one table partition's data lives, in memory or in RocksDB.

A table keeps one store per partition it owns (one per changelog partition). Every store
has a plain dict, ``data``, that the table reads and writes at dict speed, and a set,
``dirty``, of keys written since the last commit. At commit the worker sends one changelog
record per dirty key, and once those are acknowledged the store ``persist``s them:

- ``memory://``: ``data`` holds everything; nothing survives a restart, so a partition is
  restored from the start of its changelog every time it is assigned.
- ``rocksdb://``: one RocksDB database per (table, partition) under the app's data directory
  (``<datadir>/tables/<table>/<partition>``). ``data`` is a cache in front of it (``ABSENT``
  marks a key known to be missing). The changelog records of a commit and the offset of the
  last one go into RocksDB in one ``WriteBatch``, so after a crash the database holds some
  committed state and says exactly which: restore continues from that offset.

Under at-least-once every store also knows its *source positions* (:class:`Positions`):
the offsets, in the source partitions that write it, up to which the messages' effects are
in it. A commit writes them on its last changelog record of each partition (the
``faustc-positions`` header: a reader that applied it has all of the commit's records
there) and into RocksDB with the data; restore reads them back, and a store whose last
applied record carries none does not know them (``positions`` None). When a commit's
changelog records are durable but the group refused its offsets (a broker stall expired the worker's
session), the next owner of the partition resumes from them, not from the older committed
offsets, and counts nothing twice (``TableManager.resume_positions``).

Keys and values are stored as the bytes of their changelog records. Example::

    store = RocksDBStore(Path("app-data/tables/counts/0"), codec, partition=0)
    store.data[b"k"] = 1; store.dirty.add(b"k")
    changes = [(codec.dump_key(b"k"), codec.dump_value(1))]
    store.persist(changes, offset=41)        # data + "applied up to changelog offset 41"
    store.offset                              # 41
"""

from __future__ import annotations

import json as json_module
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from faust.events import TransportMessage
from faust.exceptions import StoreFailed, os_reason
from faust.serializers import codecs
from faust.serializers.codecs import CodecContext
from faust.serializers.registry import CodecRegistry
from faust.serializers.schemas import PLAIN_JSON_TYPES, Dumper, Loader, make_dumper, make_loader
from faust.serializers.schemas import make_payload_converter as _converter


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<absent>"


#: a key that is not in the table (a deletion not yet committed, or a cached miss)
ABSENT: Any = _Absent()

#: a RocksDB store drops its cache after a commit when it holds more keys than this
CACHE_MAX_KEYS = 100_000
#: a store of windows (``Store.keeps_recent``) keeps at least this many keys cached
RECENT_MIN_KEYS = 4096
#: a windowed table's RocksDB memtable (RocksDB's default: 64 MiB), see _window_options
WINDOW_WRITE_BUFFER = 2 << 20

_META = "__faust__"
_OFFSET = b"changelog-offset"
_POSITIONS = b"source-positions"
#: the changelog header that carries a commit's source positions (see :class:`Positions`)
POSITIONS_HEADER = "faustc-positions"


class Positions:
    """Where the sources of one table partition were when a commit made a store's changes
    durable: ``offsets`` (source topic -> the next offset to process, every message before
    it applied) and ``tables``, how many tables of the partition that commit wrote (a
    reader that finds all of them knows the commit is complete). Encoded as compact JSON,
    the value of the ``faustc-positions`` header::

        Positions({"payments": 1200}, 2).encode()   # b'{"o":{"payments":1200},"t":2}'
    """

    __slots__ = ("offsets", "tables")

    def __init__(self, offsets: dict[str, int], tables: int) -> None:
        self.offsets = offsets
        self.tables = tables

    def encode(self) -> bytes:
        return json_module.dumps(
            {"o": self.offsets, "t": self.tables}, separators=(",", ":")
        ).encode()

    @classmethod
    def decode(cls, data: bytes | None) -> Positions | None:
        """The positions in ``data`` (None: absent or unreadable, so unknown)."""
        if not data:
            return None
        try:
            raw = json_module.loads(data)
            offsets = {str(topic): int(offset) for topic, offset in raw["o"].items()}
            return cls(offsets, int(raw["t"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Positions)
            and self.offsets == other.offsets
            and self.tables == other.tables
        )

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.offsets.items())), self.tables))

    def __repr__(self) -> str:
        return f"Positions({self.offsets!r}, {self.tables})"


def header_positions(record: TransportMessage) -> Positions | None:
    """The source positions a changelog record carries (None: it carries none)."""
    headers = record.headers()
    if not headers:
        return None
    for name, value in headers:
        if name == POSITIONS_HEADER:
            return Positions.decode(value)
    return None


class TableCodec:
    """How a table's keys and values become changelog bytes and back (Faust's rules:
    ``bytes`` types are raw, a Record uses its serializer, anything else JSON).

    Windowed tables key their values by ``(key, (start, end))``, written as the JSON array
    ``[key, [start, end]]`` as Faust writes it. ``registry``: the app's codecs (named ones,
    and the generated codecs of a compiled worker; ``faust.serializers.registry``).
    """

    def __init__(
        self,
        key_type: Any,
        value_type: Any,
        key_serializer: str | codecs.Codec,
        value_serializer: str | codecs.Codec,
        *,
        windowed: bool = False,
        registry: CodecRegistry | None = None,
    ) -> None:
        #: keys are ``(key, (start, end))`` (a windowed table's; see RocksDBStore's options)
        self.windowed = windowed
        values = CodecContext(registry=registry)
        keys = CodecContext(is_key=True, registry=registry)
        self.dump_value: Dumper = make_dumper(value_type, value_serializer, context=values)
        self.load_value: Loader = make_loader(value_type, value_serializer, context=values)
        self.load_key: Loader
        if windowed:
            self.dump_key, self.load_key = _windowed_key_codec(key_type)
        else:
            self.dump_key = _never_none(
                make_dumper(key_type, key_serializer, context=keys),
                json=type(keys.get_codec(key_serializer)) is codecs.JSONCodec,
            )
            self.load_key = make_loader(key_type, key_serializer, is_key=True, context=keys)


def _never_none(dump: Dumper, *, json: bool = False) -> Callable[[Any], bytes]:
    """A key dumper for stores: a None key is stored as JSON null (stores need bytes).
    ``json``: ``dump`` is the JSON codec's, so a key of a plain JSON type (a text key) is
    written by ``json_dumps`` at once."""
    json_dumps, plain = codecs.json_dumps, PLAIN_JSON_TYPES
    if json:

        def dump_json_key(key: Any) -> bytes:
            if type(key) in plain:
                return json_dumps(key)
            data = dump(key)
            return b"null" if data is None else data

        return dump_json_key

    def dump_key(key: Any) -> bytes:
        data = dump(key)
        return b"null" if data is None else data

    return dump_key


def _windowed_key_codec(key_type: Any) -> tuple[Callable[[Any], bytes], Loader]:
    json = codecs.get_codec("json")
    convert = _converter(key_type)
    load_list = make_loader(None, "json", is_key=True)

    def dump_key(windowed_key: Any) -> bytes:
        return json.dumps(windowed_key)

    if type(json) is codecs.JSONCodec:  # the same bytes, without the codec's frames
        return codecs.json_dumps, load_key_of(load_list, convert)

    return dump_key, load_key_of(load_list, convert)


def load_key_of(load_list: Loader, convert: Callable[[Any], Any]) -> Loader:
    """A windowed key's loader: ``[key, [start, end]]`` -> ``(key, (start, end))``."""

    def load_key(data: bytes | None, headers: Any = None, /) -> Any:
        key, (start, end) = load_list(data)
        return (convert(key), (float(start), float(end)))

    return load_key


#: encoded (key, value) pairs; a None value deletes the key (or, from
#: :meth:`Store.change_batch`, a RocksDB ``WriteBatch`` holding them)
Changes = list[tuple[bytes, bytes | None]] | Any


class Store:
    """One table partition, or every partition of a global table (see the module
    docstring)."""

    #: ``data`` holds every key, so a key missing from it is missing from the table
    complete = True

    def __init__(self, codec: TableCodec, partition: int | None) -> None:
        self.codec = codec
        #: the changelog partition (None: a global table's store, holding them all)
        self.partition = partition
        self.data: dict[Any, Any] = {}
        self.dirty: set[Any] = set()
        #: changelog partition -> offset of the last record applied
        self.offsets: dict[int, int] = {}
        #: the source positions whose effects the store holds (None: not known)
        self.positions: Positions | None = None
        #: window end -> windowed keys ending then (windowed tables; see Table)
        self.window_ends: dict[float, set[Any]] = {}
        self.window_heap: list[float] = []
        #: the keys the last commit wrote (``TableManager.produce_changes``)
        self.recent: set[Any] = set()
        #: a cache of windows: after a commit a RocksDB store keeps the keys written since
        #: the one before (once it holds more than twice those, and RECENT_MIN_KEYS):
        #: windows of event time go cold when the next one starts, so caching every
        #: window ever written would only hold memory (a late write reads RocksDB)
        self.keeps_recent = False

    def load(self, key: Any) -> Any:
        """The value of ``key`` not found in ``data`` (ABSENT when it has none)."""
        return ABSENT

    def delete(self, key: Any) -> None:
        self.data.pop(key, None)
        self.dirty.add(key)

    def items(self) -> Iterator[tuple[Any, Any]]:
        for key, value in list(self.data.items()):
            if value is not ABSENT:
                yield key, value

    def apply_changelog(self, records: list[TransportMessage]) -> None:
        """Apply changelog records (in order); keys written here and not yet committed
        keep their newer value."""
        load_key, load_value = self.codec.load_key, self.codec.load_value
        data, dirty, offsets = self.data, self.dirty, self.offsets
        for record in records:
            key = load_key(record.key())
            offsets[record.partition() or 0] = record.offset() or 0
            if key in dirty:
                continue
            value = record.value()
            if value is None:
                data.pop(key, None)
            else:
                data[key] = load_value(value)
        if records:
            self.positions = header_positions(records[-1])

    def change_batch(self) -> Any | None:
        """Where a commit puts the encoded changes :meth:`persist` will write (``put`` and
        ``delete`` of bytes), as it produces them; None when it needs only the offsets."""
        return None

    def persist(
        self, changes: Changes, offsets: dict[int, int], positions: Positions | None = None
    ) -> None:
        """The changelog records ``changes`` are durable, up to ``offsets``; the store now
        holds the effects of every message before ``positions`` (None: unchanged)."""
        self.offsets.update(offsets)
        if positions is not None:
            self.positions = positions

    def wipe(self) -> None:
        """Forget everything (the changelog lost data: restore from its beginning)."""
        self.data.clear()
        self.dirty.clear()
        self.offsets.clear()
        self.positions = None
        self.window_ends.clear()
        self.window_heap.clear()

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} partition={self.partition} offsets={self.offsets}>"


class MemoryStore(Store):
    """``memory://``: a dict."""


class RocksDBStore(Store):
    """``rocksdb://``: a RocksDB database with a dict cache in front."""

    complete = False

    def __init__(self, path: Path, codec: TableCodec, partition: int | None) -> None:
        super().__init__(codec, partition)
        self.path = path
        self._open()

    def _open(self) -> None:
        from rocksdict import Options, Rdict

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreFailed(f"cannot open table store {self.path}: {os_reason(exc)}") from None
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        options.create_missing_column_families(True)
        if self.codec.windowed:
            _window_options(options)
        # (rocksdict's stubs type raw-mode keys and values loosely: use them as Any)
        try:
            self.db: Any = Rdict(
                str(self.path), options, column_families={_META: Options(raw_mode=True)}
            )
        except Exception as exc:  # rocksdict raises Exception("IO error: ...")
            raise StoreFailed(f"cannot open table store {self.path}: {exc}") from None
        self._meta: Any = self.db.get_column_family(_META)
        self._meta_handle: Any = self.db.get_column_family_handle(_META)
        meta: Any = self._meta
        for name, value in meta.items(from_key=_OFFSET):
            if not bytes(name).startswith(_OFFSET):
                break
            self.offsets[int(name[len(_OFFSET) + 1 :])] = int(value)
        self.positions = Positions.decode(meta.get(_POSITIONS))

    def load(self, key: Any) -> Any:
        data = self.data
        if key in data:  # cached, ABSENT included: a delete not yet in RocksDB is the truth
            return data[key]
        raw = self.db.get(self.codec.dump_key(key))
        value = ABSENT if raw is None else self.codec.load_value(raw)
        data[key] = value
        return value

    def delete(self, key: Any) -> None:
        self.data[key] = ABSENT
        self.dirty.add(key)

    def items(self) -> Iterator[tuple[Any, Any]]:
        load_key, load_value = self.codec.load_key, self.codec.load_value
        pending = {key: value for key, value in self.data.items() if key in self.dirty}
        for raw_key, raw_value in self.db.items():
            key = load_key(raw_key)
            if key in pending:
                continue
            yield key, load_value(raw_value)
        for key, value in pending.items():
            if value is not ABSENT:
                yield key, value

    def _write(self, batch: Any, offsets: dict[int, int], positions: Positions | None) -> None:
        for partition, offset in offsets.items():
            batch.put(_offset_key(partition), str(offset).encode(), self._meta_handle)
        if positions is not None:
            batch.put(_POSITIONS, positions.encode(), self._meta_handle)
        elif offsets and self.positions is not None:
            batch.delete(_POSITIONS, self._meta_handle)  # changes of unknown positions
        try:
            self.db.write(batch)
        except Exception as exc:  # rocksdict raises Exception("IO error: ... File too large")
            raise StoreFailed(f"cannot write table store {self.path}: {exc}") from None
        self.offsets.update(offsets)
        self.positions = positions if positions is not None or offsets else self.positions

    def apply_changelog(self, records: list[TransportMessage]) -> None:
        from rocksdict import WriteBatch

        batch: Any = WriteBatch(raw_mode=True)
        offsets: dict[int, int] = {}
        for record in records:
            key, value = record.key(), record.value()
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
            offsets[record.partition() or 0] = record.offset() or 0
        if offsets:
            self._write(batch, offsets, header_positions(records[-1]))
            self._forget_cached(records)

    def _forget_cached(self, records: list[TransportMessage]) -> None:
        # restored keys may be cached with older values (a cache is empty while a
        # partition restores, so this is cheap)
        if self.data:
            self.data = {key: value for key, value in self.data.items() if key in self.dirty}

    def change_batch(self) -> Any:
        """A ``WriteBatch``: RocksDB copies each change in as the commit produces it, so
        the commit holds no bytes of its own until the changes are durable (orjson's
        bytes keep a 4 KiB buffer each: a list of them held ~20 MB at a windowed
        table's commit)."""
        from rocksdict import WriteBatch

        return WriteBatch(raw_mode=True)

    def persist(
        self, changes: Changes, offsets: dict[int, int], positions: Positions | None = None
    ) -> None:
        if isinstance(changes, list):
            batch = self.change_batch()
            for key, value in changes:
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)
        else:
            batch = changes
        self._write(batch, offsets, positions)
        data = self.data
        if len(data) > CACHE_MAX_KEYS and not self.dirty:
            data.clear()
        elif self.keeps_recent and len(data) > 2 * len(self.recent) + RECENT_MIN_KEYS:
            keep, dirty = self.recent, self.dirty  # (dirty: written since, under exactly-once)
            self.data = {key: value for key, value in data.items() if key in keep or key in dirty}

    def wipe(self) -> None:
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)
        super().wipe()
        self._open()

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is None:
            return
        # the column family object holds the database open: close it first
        try:
            self._meta.close()
            db.close()
        except Exception:  # a database whose writes failed refuses to flush as it closes
            pass  # (what it held uncommitted is in the changelog or not committed)
        del self._meta, self._meta_handle, self.db


class GlobalRocksDBStore(RocksDBStore):
    """A global table on RocksDB: every key in memory too, loaded when it opens.

    Writes reach the database only from the changelog (every worker tails all of its
    partitions), so the stored offsets always describe what the database holds.
    """

    complete = True

    def _open(self) -> None:
        super()._open()
        load_key, load_value = self.codec.load_key, self.codec.load_value
        self.data = {load_key(key): load_value(value) for key, value in self.db.items()}

    def load(self, key: Any) -> Any:
        return ABSENT

    def delete(self, key: Any) -> None:
        self.data.pop(key, None)
        self.dirty.add(key)

    def items(self) -> Iterator[tuple[Any, Any]]:
        return Store.items(self)

    def apply_changelog(self, records: list[TransportMessage]) -> None:
        super().apply_changelog(records)
        Store.apply_changelog(self, records)

    def _forget_cached(self, records: list[TransportMessage]) -> None:
        return None

    def change_batch(self) -> Any | None:
        return None

    def persist(
        self, changes: Changes, offsets: dict[int, int], positions: Positions | None = None
    ) -> None:
        return None  # the tail of the changelog writes them, with their offsets


def _window_options(options: Any) -> None:
    """RocksDB options for a windowed table's store. Windows of event time are written
    for a while and then go cold, and every new window's first write reads a key the
    database does not have: small memtables (flushed to disk sooner: what the process
    holds is the recent windows, not every change since it started) and bloom filters on
    the memtable and the files (a key that is not there is found missing without
    searching them)."""
    from rocksdict import BlockBasedOptions

    options.set_write_buffer_size(WINDOW_WRITE_BUFFER)
    options.set_memtable_whole_key_filtering(True)
    options.set_memtable_prefix_bloom_ratio(0.02)
    tables = BlockBasedOptions()
    tables.set_bloom_filter(10, False)
    options.set_block_based_table_factory(tables)


def _offset_key(partition: int) -> bytes:
    return b"%s:%d" % (_OFFSET, partition)
