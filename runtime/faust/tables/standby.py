"""Standby replicas: warm copies of the table partitions this worker does not own.

With ``table_standby_replicas`` >= 1 a worker follows the changelog partitions of its
``rocksdb://`` tables that the group gave to other workers, into the same RocksDB
databases it would use as their owner (``<datadir>/tables/<table>/<partition>``), with the
offset of the last record applied stored next to the data in one ``WriteBatch``. When a
partition then moves to this worker, its open store is handed to the table as the owner's:
recovery continues from its offset and replays only the tail the standby had not read yet,
instead of the whole changelog. When a partition moves away, the owner's store (committed
by the revocation) is handed back and followed from its offset.

Which partitions: Kafka's standard group protocol (the assignors librdkafka ships) does
not know about standbys, so it cannot place a moved partition on the worker that kept it
warm; only a worker that follows every partition it does not own is sure to be warm for
any takeover. So a worker follows all of them (README, "Choices we made"): each partition
has one copy per worker, and every changelog record is read once by each worker.

What a standby never does: its stores are not the table's stores, so agents, timers and
web views never see them (a table reads only partitions it owns); it never writes to a
changelog; it reads ``read_committed`` (the changelog reader's isolation), so it holds
only committed changes and never goes past a partition's last stable offset. Example::

    standby = Standby(tables, partition_counts, transport.changelog_reader)
    standby.follow(owned={0, 1})      # follow partitions 2 and 3 of every rocksdb table
    standby.poll()                    # each turn of the poll loop: apply what arrived
    store = standby.take(table, 2)    # partition 2 moved here: its store, open, goes to
    table._adopt_store(2, store)      # ... the owner; recovery replays only the tail
    standby.adopt(table, table._release_store(0))   # partition 0 moved away: followed
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from faust.tables.stores import RocksDBStore, Store
from faust.transport.base import ChangelogReader

if TYPE_CHECKING:
    from faust.events import TransportMessage
    from faust.tables.base import Table

log = logging.getLogger("faust.tables")

#: changelog records applied per poll at most (the poll loop must go round)
MAX_RECORDS_PER_POLL = 10_000


def followed_tables(tables: Iterable[Table[Any, Any]]) -> list[Table[Any, Any]]:
    """The tables standbys follow: partitioned ``rocksdb://`` tables. A ``memory://``
    table's partitions are dropped when they move away, and a copy of every partition in
    every worker's memory is not what a user of memory tables pays for."""
    return [t for t in tables if not t.is_global and t.store_scheme == "rocksdb"]


class Standby:
    """Follows the changelog partitions of tables this worker does not own (see the
    module docstring)."""

    def __init__(
        self,
        tables: list[Table[Any, Any]],
        partition_counts: dict[str, int],
        reader_factory: Callable[[], ChangelogReader],
    ) -> None:
        self.tables = followed_tables(tables)
        self.partition_counts = partition_counts
        self._reader_factory = reader_factory
        self._reader: ChangelogReader | None = None
        #: (changelog topic, partition) -> (table, its standby store)
        self._stores: dict[tuple[str, int], tuple[Table[Any, Any], RocksDBStore]] = {}
        #: changelog records applied by standbys since the worker started (for metrics)
        self.records = 0
        #: followed partitions that have not reached their changelog's end yet
        self._catching_up: set[tuple[str, int]] = set()
        #: followed partition -> the end offset where the reader last reported it read to
        #: the end (transaction markers take offsets no record has)
        self._read_to: dict[tuple[str, int], int] = {}

    @property
    def active(self) -> bool:
        return bool(self.tables)

    def followed(self) -> set[tuple[str, int]]:
        """(changelog topic, partition) of every standby store open now."""
        return set(self._stores)

    def follow(self, owned: set[int]) -> None:
        """Follow every partition of the followed tables except ``owned``, opening the
        stores of those not followed yet; close the standby stores of ``owned`` partitions
        that no owner took (:meth:`take`)."""
        wanted: dict[tuple[str, int], Table[Any, Any]] = {}
        for table in self.tables:
            topic = table.changelog_topic_name
            for partition in range(self.partition_counts.get(topic, 0)):
                if partition not in owned:
                    wanted[(topic, partition)] = table
        released = [key for key in self._stores if key not in wanted]
        for store in self._release(released):
            store.close()
        added = [key for key in wanted if key not in self._stores]
        self._start([(wanted[key], key[1], None) for key in added])

    def adopt(self, table: Table[Any, Any], store: Store) -> None:
        """``store`` was revoked from this worker: keep it open and follow its partition
        from the offset it stored (what its cache held uncommitted is dropped: the
        database is the truth, as after a restart); close it if its table is not
        followed."""
        followed = any(t is table for t in self.tables)  # (a table == compares contents)
        if not followed or not isinstance(store, RocksDBStore):
            store.close()
            return
        store.data = {}
        store.dirty = set()
        store.window_ends.clear()
        store.window_heap.clear()
        self._start([(table, store.partition or 0, store)])

    def take(self, table: Table[Any, Any], partition: int) -> RocksDBStore | None:
        """The standby store of ``table``'s ``partition``, handed over to its new owner,
        open (None: this worker does not follow it)."""
        key = (table.changelog_topic_name, partition)
        if key not in self._stores:
            return None
        (store,) = self._release([key])
        return store

    def _start(self, entries: list[tuple[Table[Any, Any], int, RocksDBStore | None]]) -> None:
        """Follow these partitions, each into its open store or the one on disk."""
        if not entries:
            return
        if self._reader is None:
            self._reader = self._reader_factory()
        assignments = []
        for table, partition, store in entries:
            if store is None:
                store = RocksDBStore(table._store_path(partition), table.codec, partition)
            key = (table.changelog_topic_name, partition)
            self._stores[key] = (table, store)
            self._catching_up.add(key)
            applied = store.offsets.get(partition)
            start = applied + 1 if applied is not None else OFFSET_BEGINNING
            assignments.append(TopicPartition(*key, start))
        self._reader.assign(assignments)
        log.info(
            "standby: following %s", ", ".join(f"{a.topic}[{a.partition}]" for a in assignments)
        )

    def _release(self, keys: list[tuple[str, int]]) -> list[RocksDBStore]:
        """Stop following ``keys``; return their stores, still open."""
        if not keys:
            return []
        if self._reader is not None:
            self._reader.unassign([TopicPartition(topic, p) for topic, p in keys])
        stores, handed = [], []
        for key in keys:
            self._catching_up.discard(key)
            self._read_to.pop(key, None)
            _table, store = self._stores.pop(key)
            applied = store.offsets.get(key[1])
            handed.append(f"{key[0]}[{key[1]}]@{applied if applied is not None else 'none'}")
            stores.append(store)
        log.info("standby: released %s (applied up to these offsets)", ", ".join(handed))
        return stores

    def poll(self, timeout: float = 0.0) -> int:
        """Apply what arrived on the followed changelog partitions (waiting at most
        ``timeout``); return how many records were applied."""
        reader = self._reader
        if reader is None or not self._stores:
            return 0
        batch = reader.read(MAX_RECORDS_PER_POLL, timeout)
        applied = 0
        if batch.records:
            by_partition: dict[tuple[str, int], list[TransportMessage]] = {}
            for record in batch.records:
                key = (record.topic() or "", record.partition() or 0)
                by_partition.setdefault(key, []).append(record)
            for key, records in by_partition.items():
                entry = self._stores.get(key)
                if entry is None:
                    continue  # released while a fetch was in flight
                entry[1].apply_changelog(records)
                applied += len(records)
        for key in batch.out_of_range:
            entry = self._stores.get(key)
            if entry is None:
                continue
            table, store = entry
            log.warning(
                "table %s: standby of changelog %s[%d] is past what the topic holds (it lost "
                "records, or was recreated); discarding the standby copy and following from "
                "the start",
                table.name,
                *key,
            )
            store.wipe()
            self._catching_up.add(key)
            self._read_to.pop(key, None)
            reader.unassign([TopicPartition(*key)])
            reader.assign([TopicPartition(*key, OFFSET_BEGINNING)])
        for topic, partition, end in batch.eof:
            if (topic, partition) in self._stores:
                self._read_to[(topic, partition)] = end
            if (topic, partition) in self._catching_up:
                self._catching_up.discard((topic, partition))
                log.info("standby: %s[%d] caught up at offset %d", topic, partition, end)
        self.records += applied
        return applied

    def lag(self) -> int | None:
        """Changelog records the standbys have not applied yet (an estimate, from the
        fetched high watermarks; None while one is unknown)."""
        reader = self._reader
        if reader is None:
            return 0
        total = 0
        for (topic, partition), (_table, store) in self._stores.items():
            end = reader.high_watermark(topic, partition)
            if end is None:
                return None
            if self._read_to.get((topic, partition)) == end:
                continue  # read to the end (past any transaction marker)
            total += max(0, end - (store.offsets.get(partition, -1) + 1))
        return total

    def close(self) -> None:
        for store in self._release(list(self._stores)):
            store.close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
