"""TableManager: the worker's side of tables: partitions, recovery, commits, expiry.

The worker owns one TableManager and calls it at these points (``faust.worker.commit``
documents the order of a commit)::

    tables = TableManager(app, transport, data_directory=Path("app-data"), wall_clock=time.time)
    specs = tables.changelog_specs(source_partitions)      # topics to create at start-up
    tables.check_partitions(actual_partitions)             # co-partitioning, or an error
    tables.attach(); await tables.start_globals()          # global tables: all of them
    to_pause = tables.on_assigned(partitions)              # open stores, start restoring
    ready = await tables.recover_step()                    # ... resume these when restored
    tables.poll_standbys()                                 # warm copies of the others' ones
    pending = tables.produce_changes(producer, positions)  # at commit: changelog records
    tables.persist(pending, producer.take_delivered_offsets())   # once they are durable
    await tables.expire()                                  # windows past `expires`
    tables.on_revoked(still_assigned)                      # close what moved away

A table partition is numbered like the source partitions that write it: assigning
``orders[3]`` opens partition 3 of every (non-global) table, pauses ``orders[3]``, restores
the stores from their changelogs to the true end, then resumes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluent_kafka import TopicPartition

from faust.events import set_current_message
from faust.exceptions import PartitionsMismatch
from faust.tables.base import Table
from faust.tables.globaltable import GlobalTable
from faust.tables.recovery import Restorer
from faust.tables.standby import Standby, followed_tables
from faust.tables.stores import ABSENT, POSITIONS_HEADER, Changes, Positions, Store
from faust.tables.windowed import WindowedTable
from faust.transport.base import Producer, TopicSpec, Transport

if TYPE_CHECKING:
    from faust.app import App

log = logging.getLogger("faust.tables")

#: a day, as Kafka Streams keeps windowed changelogs beyond the windows' own lifetime
WINDOW_CHANGELOG_EXTRA_RETENTION = 86_400.0

#: what a commit made durable, per store: its changes and its source positions
Pending = list[tuple[Table[Any, Any], Store, Changes | None, Positions | None]]
#: source partition number -> source topic -> the consumer's position (what a commit covers)
SourcePositions = dict[int, dict[str, int]]


class PartitionMarker:
    """The "current message" while expiring windows of a partition: writes made by
    ``on_window_close`` go to that partition, as if a message of it were processed."""

    def __init__(self, partition: int, timestamp: float) -> None:
        self._partition = partition
        self._timestamp_ms = int(timestamp * 1000)

    def topic(self) -> str | None:
        return None

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int | None:
        return None

    def key(self) -> bytes | None:
        return None

    def value(self) -> bytes | None:
        return None

    def headers(self) -> Any:
        return None

    def timestamp(self) -> tuple[int, int]:
        return (1, self._timestamp_ms)

    def error(self) -> Any:
        return None


def encoded_changes(
    store: Store,
    dump_key: Callable[[Any], bytes],
    dump_value: Callable[[Any], bytes | None],
    batch: Any | None,
) -> Iterator[tuple[bytes, bytes | None]]:
    """The changelog records of the keys ``store`` wrote since the last commit (a None
    value: deleted), each also put into ``batch`` (``Store.change_batch``; None: the store
    needs only offsets) as it is made: RocksDB copies it, so a commit holds no record's
    bytes until they are durable (orjson's bytes keep a 4 KiB buffer each). Example::

        producer.send_tracked_run(topic, 0, encoded_changes(store, dk, dv, batch))
    """
    get = store.data.get
    for key in store.dirty:
        raw_key = dump_key(key)
        raw_value = None if (value := get(key, ABSENT)) is ABSENT else dump_value(value)
        if batch is not None and raw_value is None:
            batch.delete(raw_key)
        elif batch is not None:
            batch.put(raw_key, raw_value)
        yield raw_key, raw_value


class TableManager:
    """See the module docstring."""

    def __init__(
        self,
        app: App,
        transport: Transport,
        *,
        data_directory: Path | None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.transport = transport
        self.data_directory = data_directory
        #: the time windows expire by (the worker's clock: ``faust.worker.clock``)
        self.wall_clock = wall_clock
        tables = list(app.tables.values())
        self.tables: list[Table[Any, Any]] = [t for t in tables if not t.is_global]
        self.global_tables: list[GlobalTable[Any, Any]] = [
            t for t in tables if isinstance(t, GlobalTable)
        ]
        self.partition_counts: dict[str, int] = {}
        #: partition numbers whose stores are open
        self.held: set[int] = set()
        #: partition -> tables still restoring it
        self.recovering: dict[int, set[str]] = {}
        self._restorer: Restorer | None = None
        self._global_restorer: Restorer | None = None
        self._recovered_tables: set[str] = set()
        self._expire_now = False
        #: changelog records sent per table since the worker started (for metrics)
        self.changelog_records: dict[str, int] = {}
        #: warm copies of partitions owned elsewhere (``table_standby_replicas``)
        self.standby: Standby | None = None
        if app.conf.table_standby_replicas > 0 and followed_tables(self.tables):
            self.standby = Standby(self.tables, self.partition_counts, transport.changelog_reader)

    @property
    def active(self) -> bool:
        return bool(self.tables or self.global_tables)

    def all_tables(self) -> list[Table[Any, Any]]:
        return [*self.tables, *self.global_tables]

    # -- start-up ---------------------------------------------------------------------------

    def changelog_specs(
        self, source_partitions: dict[str, int], default_partitions: int, replicas: int
    ) -> list[TopicSpec]:
        """The changelog topics, co-partitioned with the sources: as many partitions as
        the widest source topic (none known: ``default_partitions``). A table's own
        ``partitions=`` must be that many (Kafka Streams' co-partitioning, and Faust's
        check at a table's first write): a narrower changelog has no partition for some
        source partitions, a wider one sends table routes to partitions no source has."""
        widest = max(source_partitions.values(), default=default_partitions)
        specs = []
        for table in self.all_tables():
            partitions = table.partitions or widest
            if (
                table.partitions
                and not table.is_global
                and source_partitions
                and table.partitions != widest
            ):
                source = max(sorted(source_partitions), key=lambda name: source_partitions[name])
                raise PartitionsMismatch(
                    f"table {table.name!r} declares partitions={table.partitions}, but its "
                    f"source topic {source!r} has {widest} partitions: a table's changelog "
                    "has one partition per partition of the topics that write it; set "
                    f"partitions={widest} on the table (or leave it out)"
                )
            self.partition_counts[table.changelog_topic_name] = partitions
            named = table.changelog_topic
            specs.append(
                TopicSpec(
                    table.changelog_topic_name,
                    partitions,
                    (named.replicas if named is not None else None) or replicas,
                    tuple(sorted(self._changelog_config(table).items())),
                )
            )
        return specs

    @staticmethod
    def _changelog_config(table: Table[Any, Any]) -> dict[str, str]:
        config = {"cleanup.policy": "compact"}
        window = table.window
        if window is not None and window.expires is not None:
            # keep a window's records for as long as the window itself lives, plus a day
            span = getattr(window, "size", 0.0) or (
                getattr(window, "before", 0.0) + getattr(window, "after", 0.0)
            )
            retention = span + window.expires + WINDOW_CHANGELOG_EXTRA_RETENTION
            config = {"cleanup.policy": "compact,delete", "retention.ms": str(int(retention * 1e3))}
        if table.changelog_topic is not None:  # the topic the app named, as declared
            config.update(table.changelog_topic.config)
        config.update(table.extra_topic_configs)
        return config

    def check_partitions(self, actual: dict[str, int]) -> None:
        """Changelog topics that already existed must have the partitions planned."""
        for table in self.all_tables():
            name = table.changelog_topic_name
            expected = self.partition_counts.get(name)
            found = actual.get(name)
            if expected is not None and found is not None and found != expected:
                raise PartitionsMismatch(
                    f"changelog topic {name!r} of table {table.name!r} has {found} "
                    f"partitions, but the table needs {expected} (co-partitioned with its "
                    f"source topics); recreate the changelog with {expected} partitions "
                    "(the table then starts empty)"
                )

    def table_of(self, changelog_topic: str) -> str:
        """The name of the table whose changelog is ``changelog_topic``."""
        for table in self.all_tables():
            if table.changelog_topic_name == changelog_topic:
                return table.name
        return changelog_topic

    def attach(self) -> None:
        """Take the app's tables over for this worker; windows expire by its clock."""
        for table in self.all_tables():
            table._attach(self.data_directory)
            if isinstance(table, WindowedTable):
                table.clock = self.wall_clock

    async def start_globals(self) -> None:
        """Restore every global table completely (before the worker consumes anything)."""
        if not self.global_tables:
            return
        self._global_restorer = Restorer(
            self.transport.changelog_reader(),
            what="global table partitions",
            transaction_wait=self.app.conf.table_recovery_transaction_wait,
        )
        for table in self.global_tables:
            store = table._open_global()
            for partition in range(self.partition_counts[table.changelog_topic_name]):
                self._global_restorer.add(table, store, table.changelog_topic_name, partition)
        while self._global_restorer.active:
            self._global_restorer.step()
        for table in self.global_tables:
            await self._call_recover_callbacks(table)
        # from here on, the same reader follows every partition from where it stopped
        for table in self.global_tables:
            store = table.store
            for partition in range(self.partition_counts[table.changelog_topic_name]):
                applied = store.offsets.get(partition)
                self._global_restorer.reader.assign(
                    [
                        TopicPartition(
                            table.changelog_topic_name,
                            partition,
                            applied + 1 if applied is not None else 0,
                        )
                    ]
                )

    def poll_globals(self) -> None:
        """Apply what arrived on the global tables' changelogs (no waiting)."""
        restorer = self._global_restorer
        if restorer is None:
            return
        batch = restorer.reader.read(10_000, 0)
        if not batch.records:
            return
        by_topic: dict[str, list[Any]] = {}
        for record in batch.records:
            by_topic.setdefault(record.topic() or "", []).append(record)
        for table in self.global_tables:
            records = by_topic.get(table.changelog_topic_name)
            if records:
                table.store.apply_changelog(records)

    # -- assignment -------------------------------------------------------------------------

    def on_assigned(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Open the table partitions of newly assigned source partitions and start
        restoring them; return the source partitions to pause until they are restored."""
        if not self.tables:
            return []
        new = {tp.partition for tp in partitions} - self.held
        standby = self.standby
        for partition in sorted(new):
            self.held.add(partition)
            for table in self.tables:
                if partition >= self.partition_counts[table.changelog_topic_name]:
                    continue  # a narrower source: a write from here is a clear error
                warm = standby.take(table, partition) if standby is not None else None
                if warm is not None:  # followed here: recovery replays only the tail
                    store = table._adopt_store(partition, warm)
                else:
                    store = table._open_store(partition)
                if self._restorer is None:
                    self._restorer = Restorer(
                        self.transport.changelog_reader(),
                        what="table partitions",
                        transaction_wait=self.app.conf.table_recovery_transaction_wait,
                    )
                self._restorer.add(table, store, table.changelog_topic_name, partition)
                self.recovering.setdefault(partition, set()).add(table.name)
        if standby is not None:
            standby.follow(owned=self.held)
        return [tp for tp in partitions if tp.partition in self.recovering]

    def on_revoked(self, still_assigned: set[int]) -> None:
        """Close the stores of partitions this worker no longer holds (call after the
        commit that made their changes durable)."""
        gone = self.held - still_assigned
        if not gone:
            return
        if self._restorer is not None:
            self._restorer.remove(gone)
        standby = self.standby
        for partition in gone:
            self.recovering.pop(partition, None)
            for table in self.tables:
                if standby is None:
                    table._close_store(partition)
                    continue
                store = table._release_store(partition)
                if store is not None:
                    standby.adopt(table, store)  # kept warm here
        self.held -= gone
        log.debug("closed table partitions %s", sorted(gone))
        if standby is not None:
            standby.follow(owned=self.held)

    def recovery_records(self) -> int:
        """Changelog records applied by recovery since the worker started (the global
        tables' first restore included)."""
        return sum(r.records for r in (self._restorer, self._global_restorer) if r is not None)

    def recovery_remaining(self) -> int | None:
        """Changelog records the partitions being restored still have to read (estimate)."""
        restorer = self._restorer
        return restorer.remaining() if restorer is not None else 0

    @property
    def restoring(self) -> bool:
        return bool(self.recovering)

    async def recover_step(self) -> set[int]:
        """Restore a little more; return the partitions that are now complete."""
        restorer = self._restorer
        if restorer is None or not restorer.active:
            return set()
        ready: set[int] = set()
        for target in restorer.step():
            table, partition = target.table, target.partition
            if isinstance(table, WindowedTable):
                table.index(target.store)
            self._recovered_tables.add(table.name)
            waiting = self.recovering.get(partition)
            if waiting is not None:
                waiting.discard(table.name)
                if not waiting:
                    del self.recovering[partition]
                    ready.add(partition)
        if ready:
            self._expire_now = True
        if not restorer.active:
            by_name = {table.name: table for table in self.tables}
            for name in sorted(self._recovered_tables):
                await self._call_recover_callbacks(by_name[name])
            self._recovered_tables.clear()
        return ready

    async def _call_recover_callbacks(self, table: Table[Any, Any]) -> None:
        for callback in table._recover_callbacks:
            result = callback()
            if result is not None:
                await result

    # -- commit -----------------------------------------------------------------------------

    def has_changes(self) -> bool:
        return any(store.dirty for table in self.all_tables() for store in table._stores.values())

    def produce_changes(
        self, producer: Producer, sources: SourcePositions | None = None
    ) -> Pending:
        """Send one changelog record per key written since the last commit (tracked, so
        :meth:`persist` learns their offsets); return what :meth:`persist` needs.

        ``sources`` (at-least-once): the positions the commit covers; every record carries
        those of its partition, and every store of those partitions will know them once
        :meth:`persist` has run (``faust.tables.stores.Positions``)."""
        pending: Pending = []
        send, send_run = producer.send_tracked, producer.send_tracked_run
        positions: dict[int, Positions] = {}
        headers: dict[int, list[tuple[str, bytes]]] = {}
        if sources:
            written_per_partition: dict[int, int] = {}
            for table in self.tables:
                for partition, store in table._stores.items():
                    if store.dirty:
                        written_per_partition[partition] = (
                            written_per_partition.get(partition, 0) + 1
                        )
            for partition, offsets in sources.items():
                if partition in self.held and partition not in self.recovering:
                    marks = Positions(offsets, written_per_partition.get(partition, 0))
                    positions[partition] = marks
                    headers[partition] = [(POSITIONS_HEADER, marks.encode())]
        for table in self.tables:
            topic = table.changelog_topic_name
            codec = table.codec
            dump_key, dump_value = codec.dump_key, codec.dump_value
            for partition, store in table._stores.items():
                marks_of = positions.get(partition)
                if not store.dirty:
                    if marks_of is not None and store.positions != marks_of:
                        pending.append((table, store, [], marks_of))
                    continue
                # the positions go on the commit's last record of the partition only: a
                # reader that finds them has every record of the commit before them (an
                # idempotent producer writes a partition's records in order, without gaps);
                # that record's offset is the one the store keeps
                changes = store.change_batch()
                records = encoded_changes(store, dump_key, dump_value, changes)
                send_run(topic, partition, records, headers.get(partition))
                written = self.changelog_records
                written[table.name] = written.get(table.name, 0) + len(store.dirty)
                store.recent, store.dirty = store.dirty, set()
                pending.append((table, store, changes, marks_of))
        for global_table in self.global_tables:
            store = global_table.store
            if not store.dirty:
                continue
            topic = global_table.changelog_topic_name
            codec = global_table.codec
            partitions = global_table._dirty_partitions
            for key in store.dirty:
                value = store.data.get(key, ABSENT)
                send(
                    topic,
                    codec.dump_key(key),
                    None if value is ABSENT else codec.dump_value(value),
                    partitions.pop(key, 0),
                )
            written = self.changelog_records
            written[global_table.name] = written.get(global_table.name, 0) + len(store.dirty)
            store.dirty = set()
        return pending

    def persist(self, pending: Pending, delivered: dict[tuple[str, int], int]) -> None:
        """The changelog records of ``pending`` are durable: write them to the stores,
        with the offset of the last one, in one batch per store."""
        for table, store, changes, positions in pending:
            partition = store.partition if store.partition is not None else 0
            offset = delivered.get((table.changelog_topic_name, partition))
            offsets = {partition: offset} if offset is not None else {}
            store.persist(changes or [], offsets, positions)

    def resume_positions(self, partition: int) -> dict[str, int]:
        """Where the source partitions numbered ``partition`` really are, by what its
        restored table stores hold (call once they are restored): source topic -> the
        first offset whose effects none of them holds. Empty when that is not known (a
        store without positions: written under exactly-once, or by Faust). Under
        at-least-once a commit's changes can be durable while its offsets were refused
        (the group dropped the worker in a broker stall): resuming here, not at the
        committed offsets, counts nothing twice.

        Each store knows the positions of the last commit that wrote it (or that it saw):
        the latest of those is exact when every table that commit wrote holds it; else
        (a commit whose records only partly arrived) the earliest, so nothing is lost."""
        marks: list[Positions] = []
        for table in self.tables:
            store = table._stores.get(partition)
            if store is None:
                continue
            if store.positions is None:
                if store.offsets.get(partition) is not None:
                    return {}  # holds changes of unknown positions
                continue  # empty: nothing applied, nothing to say
            marks.append(store.positions)
        if not marks:
            return {}
        latest = max(marks, key=lambda mark: sum(mark.offsets.values()))
        if sum(mark == latest for mark in marks) >= latest.tables:
            return dict(latest.offsets)
        earliest: dict[str, int] = {}
        for topic in latest.offsets:
            offsets = [mark.offsets[topic] for mark in marks if topic in mark.offsets]
            if len(offsets) == len(marks):
                earliest[topic] = min(offsets)
        return earliest

    # -- windows ----------------------------------------------------------------------------

    def expire_due(self) -> bool:
        due, self._expire_now = self._expire_now, False
        return due

    async def expire(self) -> int:
        """Delete windows past their ``expires`` in every partition held and restored;
        call ``on_window_close(key, value)`` once for each. Returns how many closed."""
        closed_count = 0
        for table in self.tables:
            if not isinstance(table, WindowedTable) or table.window.expires is None:
                continue
            now = table.clock()
            for partition, store in list(table._stores.items()):
                if partition in self.recovering:
                    continue
                closed = table.close_expired(store, now)
                if not closed:
                    continue
                closed_count += len(closed)
                set_current_message(PartitionMarker(partition, now))
                try:
                    for key, value in closed:
                        try:
                            await table.on_window_close(key, value)
                        except Exception:
                            log.exception("table %s: on_window_close(%r) raised", table.name, key)
                finally:
                    set_current_message(None)
        return closed_count

    # -- standbys (``table_standby_replicas``) ---------------------------------------------

    def poll_standbys(self) -> None:
        """Apply what arrived on the changelogs of partitions followed as standbys (no
        waiting; ``faust.tables.standby``). Not while partitions this worker owns are
        restoring: they come first (as in Kafka Streams), the standbys catch up after."""
        if self.standby is not None and not self.recovering:
            self.standby.poll()

    def standby_records(self) -> int:
        """Changelog records applied to standby copies since the worker started."""
        return self.standby.records if self.standby is not None else 0

    def standby_lag(self) -> int | None:
        """Changelog records the standby copies have still to apply (estimate)."""
        return self.standby.lag() if self.standby is not None else 0

    # -- shutdown ---------------------------------------------------------------------------

    def close(self) -> None:
        if self.standby is not None:
            self.standby.close()
            self.standby = None
        if self._restorer is not None:
            self._restorer.close()
            self._restorer = None
        if self._global_restorer is not None:
            self._global_restorer.close()
            self._global_restorer = None
        for table in self.all_tables():
            table._detach()
        self.held.clear()
        self.recovering.clear()
