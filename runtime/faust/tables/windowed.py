"""Windowed tables: one value per key and window, kept in a table whose keys are
``(key, (start, end))``.

``app.Table(...).tumbling(size, expires=)`` (or ``.hopping()``, ``.using_window()``, or
``app.Table(..., window=)``) makes the declared table a :class:`WindowedTable` and returns
the :class:`~faust.tables.wrappers.WindowWrapper` agents read and write through::

    views = app.Table("views", default=int).tumbling(60, expires=3600)
    views[page] += 1           # every window the message's time falls into
    views.table                # the WindowedTable: keys ("home", (120.0, 179.9))

What this class adds to a table (``faust.tables.base``), and nothing else does:

- **the windows of a time**: :meth:`WindowedTable.apply` runs ``op(old, value)`` in each
  window of a key that a timestamp falls into; reads pick one window
  (:meth:`~WindowedTable.value_at`, :meth:`~WindowedTable.value_now`,
  :meth:`~WindowedTable.value_delta`);
- **expiry**: a window whose end is older than ``expires`` (by the table's ``clock``, the
  wall clock unless a test replaces it; Faust's arithmetic) is deleted by
  :meth:`~WindowedTable.close_expired`, which the worker's ``TableManager`` calls every
  ``table_cleanup_interval`` per partition and which returns the closed windows for
  ``on_window_close``; each store keeps an index of window ends for it
  (:meth:`~WindowedTable.track`, rebuilt after recovery by :meth:`~WindowedTable.index`);
- **late writes**: a write for a window that already expired is dropped and counted
  (``late_writes``), so a closed window stays closed;
- **time relativity**: the handlers a wrapper's ``relative_to_*()`` chooses between (the
  message's timestamp, the wall clock, a field of the value, a fixed time).

The object the app registered becomes windowed in place, as in Faust (whose
``Table.using_window`` windows the table itself): the table the user may hold and the one
the worker manages stay one object.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from faust.events import current_event, current_message
from faust.exceptions import ImproperlyConfigured
from faust.tables.base import Table, message_timestamp
from faust.tables.stores import ABSENT, Store
from faust.windows import Seconds, Window, WindowRange

if TYPE_CHECKING:
    from faust.events import TransportMessage

VT = TypeVar("VT")

log = logging.getLogger("faust.tables")

#: a windowed table's key: the user's key and the window ``(start, end)``
WindowedKey = tuple[Any, WindowRange]


class RelativeTo:
    """A time relativity: ``handler(event)`` gives the time a windowed write or read uses
    (``event`` None: the message being processed)."""

    def __init__(self, fun: Callable[[Any], float]) -> None:
        self.fun = fun

    def __call__(self, event: Any = None) -> float:
        return self.fun(event)


class WindowedTable(Table[Any, VT]):
    """A table of ``(key, (start, end))`` keys (see the module docstring). Made from a
    declared table by :meth:`windowing`, never constructed on its own."""

    window: Window
    #: time source for window expiry and ``relative_to_now`` (tests replace it)
    clock: Callable[[], float]
    #: writes into windows that had already expired (dropped, see :meth:`late_write`)
    late_writes: int
    _value_loaders: dict[str, Callable[[bytes | None], Any]]
    _decoded: tuple[TransportMessage | None, Any]

    @classmethod
    def windowing(cls, table: Table[Any, Any], window: Window) -> WindowedTable[Any]:
        """``table``, made windowed in place (module docstring)."""
        if type(table) is not Table:
            raise ImproperlyConfigured(
                f"table {table.name!r} ({type(table).__name__}) cannot be windowed"
            )
        table.__class__ = cls
        assert isinstance(table, WindowedTable)
        table.window = window
        table._codec = None  # windowed keys are written as [key, [start, end]]
        table._plain = False
        table.clock = time.time
        table.late_writes = 0
        table._value_loaders = {}
        table._decoded = (None, None)
        return table

    def reset_state(self) -> None:
        super().reset_state()
        self.clock = time.time  # a worker that took the table over set its own
        self.late_writes = 0
        self._decoded = (None, None)

    # -- writing ----------------------------------------------------------------------------

    def __setitem__(self, key: Any, value: VT) -> None:
        self._told_set(key, value)
        message = current_message()
        store = self._seen_store if message is self._seen_message else None
        if store is None or message is None:
            store = self._write_store()
        data = store.data
        if self._spans_partitions and key not in data:
            self._take(key, store)
        data[key] = value
        store.dirty.add(key)
        if self.window.expires is not None:
            self.track(store, key)

    def in_place(self, key: Any, op: Callable[[Any, Any], Any], value: Any) -> None:
        """``table[key] <op>= value`` on a windowed key (the wrapper's ``in_place`` applies
        the operator to the windows of a time, :meth:`apply`)."""
        self[key] = op(self[key], value)

    def _loop_stores(self) -> dict[int, Store] | None:
        return None  # a windowed key's read or write goes through the wrapper

    def _new_store(self, partition: int | None) -> Store:
        store = super()._new_store(partition)
        store.keeps_recent = True  # old windows go cold (Store.keeps_recent)
        return store

    def apply(self, op: Callable[[Any, Any], Any], key: Any, value: Any, timestamp: float) -> None:
        """``op(old, value)`` in every live window of ``key`` that ``timestamp`` falls into
        (what ``views[k] += 1`` does)."""
        # the hot path: windows that never expire need no live check, and the store of the
        # message in hand is usually the one seen last
        window = self.window
        ranges = window.ranges(timestamp) if window.expires is None else self.live_ranges(timestamp)
        message = current_message()
        store = self._seen_store if message is self._seen_message else None
        if store is None or message is None:
            store = self._write_store()  # reads and writes alike: the message's partition
        data, dirty = store.data, store.dirty
        track = window.expires is not None
        hooks = self.app.sensors.table_hooks
        for window_range in ranges:
            windowed_key = (key, window_range)
            if hooks is not None:
                self._told_get(windowed_key)
            current = data.get(windowed_key, ABSENT)
            if current is ABSENT:
                current = self._missing_in(store, windowed_key)
            current = op(current, value)
            if hooks is not None:
                self._told_set(windowed_key, current)
            data[windowed_key] = current
            dirty.add(windowed_key)
            if track:
                self.track(store, windowed_key)

    def set_at(self, key: Any, value: Any, timestamp: float) -> None:
        """``value`` in every live window of ``key`` at ``timestamp``."""
        for window_range in self.live_ranges(timestamp):
            self[(key, window_range)] = value

    def delete_at(self, key: Any, timestamp: float) -> None:
        """Delete ``key`` from every window ``timestamp`` falls into."""
        for window_range in self.window.ranges(timestamp):
            self.pop((key, window_range), None)

    # -- reading ----------------------------------------------------------------------------

    def value_at(self, key: Any, timestamp: float) -> Any:
        """The value of ``key`` in the (latest) window of ``timestamp``."""
        return self[(key, self.window.current(timestamp))]

    def value_now(self, key: Any) -> Any:
        """The value of ``key`` in the (earliest) window of the clock's time."""
        return self[(key, self.window.earliest(self.clock()))]

    def value_delta(self, key: Any, d: Seconds, event: Any = None) -> Any:
        """The value of ``key`` in the window ``d`` seconds before the event's time."""
        return self[(key, self.window.delta(self.relative_event(event), d))]

    def contains_at(self, key: Any, timestamp: float) -> bool:
        return (key, self.window.current(timestamp)) in self

    # -- windows that expire ----------------------------------------------------------------

    def track(self, store: Store, key: Any) -> None:
        """Remember which window ``key`` belongs to, so it can expire."""
        if self.window.expires is None:
            return
        try:
            end = key[1][1]
        except (TypeError, IndexError):
            raise TypeError(
                f"windowed table {self.name!r} takes (key, (start, end)) keys, not {key!r}"
            ) from None
        keys = store.window_ends.get(end)
        if keys is None:
            store.window_ends[end] = {key}
            heapq.heappush(store.window_heap, end)
        else:
            keys.add(key)

    def live_ranges(self, timestamp: float) -> list[WindowRange]:
        """The windows ``timestamp`` falls into that have not expired."""
        window = self.window
        ranges = window.ranges(timestamp)
        if window.expires is not None:
            stale_before = window.stale_before(self.clock())
            live = [r for r in ranges if r[1] > stale_before]
            if len(live) != len(ranges):
                self.late_write(timestamp, len(ranges) - len(live))
            return live
        return ranges

    def late_write(self, timestamp: float, count: int) -> None:
        """A write for windows that already expired (and may have been reported closed):
        dropped, so a closed window stays closed, as Kafka Streams drops late records."""
        self.late_writes += count
        if self.late_writes == count or self.late_writes % 1000 < count:
            log.warning(
                "table %s: dropped a write for %d expired window(s) at timestamp %.3f "
                "(%d so far); the window's expires= is shorter than this record's lateness",
                self.name,
                count,
                timestamp,
                self.late_writes,
            )

    def close_expired(self, store: Store, now: float) -> list[tuple[Any, Any]]:
        """Delete the windows of ``store`` that expired at ``now``; return them with their
        values (for ``on_window_close``)."""
        window = self.window
        if window.expires is None or not store.window_heap:
            return []
        stale_before = window.stale_before(now)
        heap, ends = store.window_heap, store.window_ends
        closed: list[tuple[Any, Any]] = []
        while heap and heap[0] <= stale_before:
            end = heapq.heappop(heap)
            for key in sorted(ends.pop(end, ()), key=repr):
                value = store.data.get(key, ABSENT)
                if value is ABSENT and not store.complete:
                    value = store.load(key)
                if value is not ABSENT:
                    store.delete(key)
                    closed.append((key, value))
        return closed

    def index(self, store: Store) -> None:
        """Rebuild ``store``'s window index from its contents (after recovery)."""
        store.window_ends.clear()
        store.window_heap.clear()
        if self.window.expires is None:
            return
        for key, _ in store.items():
            self.track(store, key)

    async def on_window_close(self, key: Any, value: Any) -> None:
        """Call the table's ``on_window_close(key, value)`` (sync or async), if any."""
        if self._on_window_close is not None:
            result = self._on_window_close(key, value)
            if result is not None:
                await result

    # -- time relativity --------------------------------------------------------------------

    def relative_now(self, event: Any = None) -> float:
        return self.clock()

    def relative_event(self, event: Any = None) -> float:
        """The timestamp of ``event`` or of the message being processed."""
        if event is not None:
            timestamp: float = event.message.timestamp
            return timestamp
        message = current_message()
        if message is None:
            raise RuntimeError("Operation outside of stream iteration")
        return message_timestamp(message)

    def relative_field(self, field: Any) -> RelativeTo:
        name = getattr(field, "field", None) or str(field)

        def timestamp_of(event: Any = None) -> float:
            value = event.value if event is not None else self.current_value()
            stamp = getattr(value, name)
            return float(stamp.timestamp() if hasattr(stamp, "timestamp") else stamp)

        return RelativeTo(timestamp_of)

    def relative_timestamp(self, timestamp: float) -> RelativeTo:
        def fixed(event: Any = None) -> float:
            return timestamp

        return RelativeTo(fixed)

    def current_value(self) -> Any:
        """The decoded value of the message being processed (for ``relative_to_field``)."""
        message = current_message()
        if message is None:
            raise RuntimeError("Operation outside of stream iteration")
        event = current_event()
        if (
            event is not None
            and event.message.offset == message.offset()
            and event.message.topic == message.topic()
        ):
            return event.value
        cached_message, value = self._decoded
        if cached_message is message:
            return value
        topic = message.topic() or ""
        load = self._value_loaders.get(topic)
        if load is None:
            load = self._value_loaders[topic] = self._loader_for(topic)
        value = load(message.value())
        self._decoded = (message, value)
        return value

    def _loader_for(self, topic: str) -> Callable[[bytes | None], Any]:
        for declared in self.app.topics:
            if topic in declared.topics:
                return declared.value_loader()
        raise ImproperlyConfigured(f"table {self.name!r}: no declared topic named {topic!r}")
