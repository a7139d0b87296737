"""Recovery: read changelog partitions to their true end and apply them to table stores.

A partition's end is where the reader reports it exhausted (partition EOF, from the high
watermark in fetch responses), never ListOffsets(latest): some brokers under-report that,
and a table restored to it silently loses its last updates. Progress is logged every few
seconds with its rate, and drawn as a bar when stderr is a terminal.

The reader reads committed records only, so an open transaction (a producer that died
inside one) holds a changelog partition's last stable offset (LSO) below its end: the
reader stops there (an EOF below the high watermark), or, when the store's offset is past
the LSO already, sees nothing at all. The restorer says so (a warning naming the offsets)
and waits up to ``transaction_wait`` seconds for the transaction to end (the broker aborts
it after the producer's ``transaction.timeout.ms``; a successor with its transactional id
at once); then it declares the partition restored up to what it could read, and says that
too, rather than waiting forever or stopping silently at the LSO. Example::

    restorer = Restorer(transport.changelog_reader(), what="table partitions",
                        transaction_wait=60.0)
    restorer.add(table, store, "app-counts-changelog", 3)   # from the store's own offset
    while restorer.active:
        for table, store in restorer.step():
            ...                                             # store 3 is complete
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from faust.progress import StatusLine, status_line
from faust.transport.base import ChangelogReader

if TYPE_CHECKING:
    from faust.events import TransportMessage
    from faust.tables.base import Table
    from faust.tables.stores import Store

log = logging.getLogger("faust.recovery")

#: seconds between progress log lines
LOG_EVERY = 5.0
#: seconds without a record below a known end before a partition counts as held by an
#: open transaction (when no EOF says so sooner)
QUIET_BEFORE_BLOCKED = 2.0


@dataclasses.dataclass
class _Target:
    table: Table[Any, Any]
    store: Store
    topic: str
    partition: int
    #: first offset read (None: the beginning)
    start: int | None
    #: when it last made progress (assigned, or records applied)
    progressed: float = 0.0
    #: since when an open transaction holds it below its end (None: it does not)
    blocked_since: float | None = None
    applied: int = 0


class Restorer:
    """Brings stores up to the end of their changelog partitions."""

    def __init__(
        self,
        reader: ChangelogReader,
        *,
        what: str,
        stream: TextIO | None = None,
        clock: Any = time.monotonic,
        transaction_wait: float = 60.0,
    ) -> None:
        self.reader = reader
        self.what = what
        #: seconds to wait for an open transaction that holds a partition below its end
        self.transaction_wait = transaction_wait
        self._targets: dict[tuple[str, int], _Target] = {}
        self._clock = clock
        self._line: StatusLine = status_line(stream if stream is not None else sys.stderr)
        self._bar = self._line.enabled
        #: the bar's total in this round: never smaller than what it showed before
        self._total = 0
        self._round_started = 0.0
        self._round_records = 0
        self._round_partitions = 0
        self._last_log = 0.0
        #: changelog records applied since the restorer was made (for metrics)
        self.records = 0

    @property
    def active(self) -> bool:
        return bool(self._targets)

    def add(self, table: Table[Any, Any], store: Store, topic: str, partition: int) -> None:
        """Restore ``store`` from ``topic[partition]``, after the offset it has applied."""
        if not self._targets:
            self._round_started = self._last_log = self._clock()
            self._round_records = self._round_partitions = self._total = 0
        applied = store.offsets.get(partition)
        start = applied + 1 if applied is not None else None
        self._targets[(topic, partition)] = _Target(
            table, store, topic, partition, start, progressed=self._clock()
        )
        self._round_partitions += 1
        self.reader.assign(
            [TopicPartition(topic, partition, start if start is not None else OFFSET_BEGINNING)]
        )

    def remove(self, partitions: set[int]) -> None:
        """Stop restoring ``partitions`` (revoked before they finished)."""
        gone = [key for key in self._targets if key[1] in partitions]
        if gone:
            self.reader.unassign([TopicPartition(topic, p) for topic, p in gone])
            for key in gone:
                del self._targets[key]

    def step(self, max_records: int = 10_000, timeout: float = 0.1) -> list[_Target]:
        """Read and apply what arrives within ``timeout``; return the targets completed."""
        batch = self.reader.read(max_records, timeout)
        targets = self._targets
        by_partition: dict[tuple[str, int], list[TransportMessage]] = {}
        if batch.records:
            for record in batch.records:
                key = (record.topic() or "", record.partition() or 0)
                by_partition.setdefault(key, []).append(record)
            for key, records in by_partition.items():
                target = targets.get(key)
                if target is None:
                    continue  # revoked while a fetch was in flight
                target.store.apply_changelog(records)
                target.applied += len(records)
                self.records += len(records)
                self._round_records += len(records)
        for key in batch.out_of_range:
            target = targets.get(key)
            if target is None:
                continue
            log.warning(
                "table %s: changelog %s[%d] has no offset %s (the topic lost records, or "
                "was recreated); discarding the local state and restoring from the start",
                target.table.name,
                target.topic,
                target.partition,
                target.start,
            )
            target.store.wipe()
            target.start = None
            self.reader.unassign([TopicPartition(*key)])
            self.reader.assign([TopicPartition(*key, OFFSET_BEGINNING)])
        now = self._clock()
        if batch.records:
            for key in by_partition:
                target = targets.get(key)
                if target is not None:
                    target.progressed, target.blocked_since = now, None
        done: list[_Target] = []
        for topic, partition, end in batch.eof:
            target = targets.get((topic, partition))
            if target is None:
                continue
            high = self.reader.high_watermark(topic, partition)
            if high is not None and end < high:
                self._blocked(target, end, high, now)  # an open transaction holds it
                continue
            done.append(self._finish(target, end))
        for target in list(targets.values()):
            if target.blocked_since is None and now - target.progressed >= QUIET_BEFORE_BLOCKED:
                high = self.reader.high_watermark(target.topic, target.partition)
                position = self._position(target)
                if high is not None and position < high:
                    self._blocked(target, position, high, target.progressed)
            if (
                target.blocked_since is not None
                and now - target.blocked_since >= self.transaction_wait
            ):
                position = self._position(target)
                log.warning(
                    "table %s partition %d: the open transaction on changelog %s[%d] did not "
                    "end within %gs (table_recovery_transaction_wait): restored up to offset "
                    "%d only; the records after it are not applied",
                    target.table.name,
                    target.partition,
                    target.topic,
                    target.partition,
                    self.transaction_wait,
                    position,
                )
                done.append(self._finish(target, position))
        self._report(finished=not targets)
        return done

    def _position(self, target: _Target) -> int:
        """The next offset ``target`` reads."""
        applied = target.store.offsets.get(target.partition)
        if applied is not None:
            return applied + 1
        return target.start if target.start is not None else 0

    def _blocked(self, target: _Target, readable: int, end: int, since: float) -> None:
        """``target`` cannot be read past ``readable``, though its end is ``end``."""
        if target.blocked_since is not None:
            return
        target.blocked_since = since
        log.warning(
            "table %s partition %d: changelog %s[%d] ends at offset %d, but an open "
            "transaction holds its last stable offset at or below %d (a producer that died "
            "inside a transaction: the broker aborts it after that producer's "
            "transaction.timeout.ms, a successor with its transactional id at once); "
            "waiting up to %gs for it to end",
            target.table.name,
            target.partition,
            target.topic,
            target.partition,
            end,
            readable,
            self.transaction_wait,
        )

    def _finish(self, target: _Target, end: int) -> _Target:
        """``target`` is restored (up to ``end``): stop reading it."""
        del self._targets[(target.topic, target.partition)]
        self.reader.unassign([TopicPartition(target.topic, target.partition)])
        log.debug(
            "table %s partition %d: restored %d record(s) up to offset %d",
            target.table.name,
            target.partition,
            target.applied,
            end,
        )
        return target

    def _report(self, *, finished: bool) -> None:
        now = self._clock()
        elapsed = max(now - self._round_started, 1e-6)
        rate = self._round_records / elapsed
        if finished:
            if self._bar:
                self._line.clear()
            if self._round_partitions:
                log.info(
                    "recovered %d %s: %d changelog record(s) in %.1fs (%.0f records/s)",
                    self._round_partitions,
                    self.what,
                    self._round_records,
                    elapsed,
                    rate,
                )
            self._round_partitions = 0
            return
        remaining = self._remaining()
        if self._bar:
            self._line.show(self._bar_text(remaining, rate))
        if now - self._last_log >= LOG_EVERY:
            self._last_log = now
            log.info(
                "recovering %d of %d %s: %d record(s) applied, about %s to go (%.0f records/s)",
                len(self._targets),
                self._round_partitions,
                self.what,
                self._round_records,
                remaining if remaining is not None else "?",
                rate,
            )

    def remaining(self) -> int | None:
        """Records still to read (an estimate; None when an end is not known yet)."""
        return self._remaining() if self._targets else 0

    def _remaining(self) -> int | None:
        """Records still to read, from the fetched high watermarks (estimate only)."""
        total = 0
        for target in self._targets.values():
            end = self.reader.high_watermark(target.topic, target.partition)
            if end is None:
                return None
            position = target.store.offsets.get(target.partition, -1) + 1
            total += max(0, end - position)
        return total

    def _bar_text(self, remaining: int | None, rate: float) -> str:
        """``recovering table partitions [#####     ] 500/1000 records, 2000/s``."""
        self._total = total = max(self._total, self._round_records + (remaining or 0))
        share = min(self._round_records / total, 1.0) if total else 0.0
        filled = int(share * 30)
        return (
            f"recovering {self.what} [{'#' * filled}{' ' * (30 - filled)}] "
            f"{self._round_records}/{total} records, {rate:.0f}/s"
        )

    def close(self) -> None:
        self.reader.close()
