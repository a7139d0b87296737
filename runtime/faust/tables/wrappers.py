"""Windowed tables: the WindowWrapper agents use and the WindowSet a key reads as.

``table.tumbling(...)`` (or ``hopping``/``using_window``) returns a WindowWrapper. Reading
a key gives a WindowSet, which picks a window only when asked::

    views = app.Table("views", default=int).tumbling(60, expires=3600)

    @app.agent(page_views)
    async def count(stream):
        async for view in stream:
            views[view.page] += 1              # every window the event's time falls in
            views[view.page].current()         # the window of this event's timestamp
            views[view.page].now()             # the window of the wall clock
            views[view.page].delta(60)         # the window one minute before this event
            views[view.page].value()           # the window of the wrapper's time relativity

Time relativity, as in Faust: by default (and with ``relative_to_stream()``) a write lands
in the windows of the message's timestamp; ``relative_to_now()`` uses the wall clock,
``relative_to_field(Record.field)`` a field of the value, ``relative_to(ts)`` a fixed time.
"""

from __future__ import annotations

import contextlib
import datetime
import operator
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from faust.events import Event, Message, current_event, current_message
from faust.exceptions import ImproperlyConfigured
from faust.models.fields import FieldDescriptor
from faust.tables.base import message_timestamp
from faust.tables.windowed import RelativeTo
from faust.windows import Seconds

if TYPE_CHECKING:
    from faust.tables.windowed import WindowedTable

RelativeHandler = Callable[[Any], float]


class WindowSet:
    """The windows of one key; choose one with ``now()``, ``current()``, ``value()`` or
    ``delta()``, or update all of the current event's windows in place (``+=`` ...)."""

    __slots__ = ("event", "key", "table", "wrapper")

    def __init__(
        self, key: Any, table: WindowedTable[Any], wrapper: WindowWrapper, event: Any = None
    ) -> None:
        self.key = key
        self.table = table
        self.wrapper = wrapper
        self.event = event

    def apply(self, op: Callable[[Any, Any], Any], value: Any, event: Any = None) -> WindowSet:
        """``op`` every window the event's time falls into (``op(old, value)``)."""
        self.wrapper._apply(op, self.key, value, event or self.event)
        return self

    def value(self, event: Any = None) -> Any:
        """The value in the window chosen by the wrapper's time relativity."""
        return self.table.value_at(self.key, self.wrapper.get_timestamp(event or self.event))

    def now(self) -> Any:
        """The value in the (earliest) window of the current wall-clock time."""
        return self.table.value_now(self.key)

    def current(self, event: Any = None) -> Any:
        """The value in the (latest) window of the current event's timestamp."""
        table = self.table
        return table.value_at(self.key, table.relative_event(event or self.event))

    def delta(self, d: Seconds, event: Any = None) -> Any:
        """The value in the window ``d`` seconds before the current event."""
        return self.table.value_delta(self.key, d, event or self.event)

    def __getitem__(self, w: Any) -> Any:
        if isinstance(w, Event):
            return WindowSet(self.key, self.table, self.wrapper, w)
        return self.table[(self.key, w)]

    def __setitem__(self, w: Any, value: Any) -> None:
        if isinstance(w, Event):
            raise NotImplementedError("Cannot set WindowSet key, when key is an event")
        self.table[(self.key, w)] = value

    def __delitem__(self, w: Any) -> None:
        if isinstance(w, Event):
            raise NotImplementedError("Cannot delete WindowSet key, when key is an event")
        del self.table[(self.key, w)]

    # in-place operators update every window of the current event's time

    def __iadd__(self, other: Any) -> WindowSet:
        return self.apply(operator.add, other)

    def __isub__(self, other: Any) -> WindowSet:
        return self.apply(operator.sub, other)

    def __imul__(self, other: Any) -> WindowSet:
        return self.apply(operator.mul, other)

    def __itruediv__(self, other: Any) -> WindowSet:
        return self.apply(operator.truediv, other)

    def __ifloordiv__(self, other: Any) -> WindowSet:
        return self.apply(operator.floordiv, other)

    def __imod__(self, other: Any) -> WindowSet:
        return self.apply(operator.mod, other)

    def __ipow__(self, other: Any) -> WindowSet:
        return self.apply(operator.pow, other)

    def __ilshift__(self, other: Any) -> WindowSet:
        return self.apply(operator.lshift, other)

    def __irshift__(self, other: Any) -> WindowSet:
        return self.apply(operator.rshift, other)

    def __iand__(self, other: Any) -> WindowSet:
        return self.apply(operator.and_, other)

    def __ixor__(self, other: Any) -> WindowSet:
        return self.apply(operator.xor, other)

    def __ior__(self, other: Any) -> WindowSet:
        return self.apply(operator.or_, other)

    def keys(self) -> Any:
        raise NotImplementedError("a WindowSet has no keys: use the table (or its wrapper)")

    items = values = keys

    def __repr__(self) -> str:
        return f"<WindowSet: key={self.key!r} table={self.table.name}>"


#: the in-place operator of a ``views[k] <op>= v`` statement -> what the WindowSet applies
#: to each window's value (its ``__iadd__`` applies ``operator.add``, and so on)
_WINDOW_OPERATORS: dict[Callable[[Any, Any], Any], Callable[[Any, Any], Any]] = {
    operator.iadd: operator.add,
    operator.isub: operator.sub,
    operator.imul: operator.mul,
    operator.itruediv: operator.truediv,
    operator.ifloordiv: operator.floordiv,
    operator.imod: operator.mod,
    operator.ipow: operator.pow,
    operator.ilshift: operator.lshift,
    operator.irshift: operator.rshift,
    operator.iand: operator.and_,
    operator.ixor: operator.xor,
    operator.ior: operator.or_,
}


class WindowWrapper:
    """A windowed table as agents use it (see the module docstring)."""

    ValueType = WindowSet

    def __init__(
        self, table: WindowedTable[Any], *, relative_to: Any = None, key_index: bool = False
    ) -> None:
        self.table = table
        self.key_index = key_index
        self._get_relative_timestamp = self._relative_handler(relative_to)

    def clone(self, relative_to: Any) -> WindowWrapper:
        return type(self)(
            self.table,
            relative_to=relative_to or self._get_relative_timestamp,
            key_index=self.key_index,
        )

    @property
    def name(self) -> str:
        return self.table.name

    def as_ansitable(self, title: str = "{table.name}", **kwargs: Any) -> str:
        """The windowed table as a text table: each key and its value in the window of
        this wrapper's time (``items()``), as Faust's ``WindowWrapper.as_ansitable``."""
        from faust.terminal import dict_as_ansitable

        return dict_as_ansitable(self, title=title.format(table=self.table), **kwargs)

    # -- time relativity --------------------------------------------------------------------

    def relative_to(self, ts: Any) -> WindowWrapper:
        """Windows relative to a fixed time, a field, or ``callable(event) -> time``."""
        return self.clone(relative_to=ts)

    def relative_to_now(self) -> WindowWrapper:
        """Windows relative to the wall clock."""
        return self.clone(relative_to=self.table.relative_now)

    def relative_to_field(self, field: object) -> WindowWrapper:
        """Windows relative to a field of the event's value: ``Record.field`` (a
        ``FieldDescriptor``, which mypy sees as the field's value, hence ``object``)."""
        if not isinstance(field, FieldDescriptor):
            raise TypeError(
                f"relative_to_field() takes a Record field (e.g. Trade.date), not {field!r}"
            )
        return self.clone(relative_to=self.table.relative_field(field))

    def relative_to_stream(self) -> WindowWrapper:
        """Windows relative to the message's timestamp (the default)."""
        return self.clone(relative_to=self.table.relative_event)

    def _relative_handler(self, relative_to: Any) -> RelativeHandler | None:
        table = self.table
        if relative_to is None:
            return None
        if isinstance(relative_to, datetime.datetime):
            return table.relative_timestamp(relative_to.timestamp())
        if isinstance(relative_to, float | int):
            return table.relative_timestamp(float(relative_to))
        if isinstance(relative_to, FieldDescriptor):
            return table.relative_field(relative_to)
        if isinstance(relative_to, RelativeTo) or relative_to in (
            table.relative_now,
            table.relative_event,
        ):
            handler: RelativeHandler = relative_to
            return handler
        if callable(relative_to):
            user: Callable[[Any], float] = relative_to

            def user_timestamp(event: Any = None) -> float:
                return user(event if event is not None else self._event_now())

            return user_timestamp
        raise ImproperlyConfigured(f"Relative cannot be type {type(relative_to)}")

    def _event_now(self) -> Event[Any, Any] | None:
        """The current event; built from the current message in compiled agents."""
        event = current_event()
        if event is not None:
            return event
        message = current_message()
        if message is None:
            return None
        return Event(
            self.table.app,
            None,
            self.table.current_value(),
            list(message.headers() or ()),
            Message.from_transport(message),
        )

    @property
    def get_relative_timestamp(self) -> RelativeHandler | None:
        return self._get_relative_timestamp

    def get_timestamp(self, event: Any = None) -> float:
        """The time the wrapper's relativity gives for ``event`` (default: the current one)."""
        handler = self._get_relative_timestamp
        if handler is None:
            return self.table.relative_event(event)
        timestamp = handler(event)
        if isinstance(timestamp, datetime.datetime):
            return timestamp.timestamp()
        return float(timestamp)

    def on_recover(self, fun: Any) -> Any:
        return self.table.on_recover(fun)

    # -- mapping ----------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> WindowSet:
        return self.ValueType(key, self.table, self, current_event())

    def in_place(self, key: Any, op: Callable[[Any, Any], Any], value: Any) -> None:
        """``views[key] <op>= value`` in one call (``op`` the in-place operator:
        ``operator.iadd`` for ``+=``): what a compiled agent runs for that statement. The
        WindowSet's operator, applied to every window of the event's time, without the
        WindowSet (see :meth:`WindowSet.apply`)."""
        binary = _WINDOW_OPERATORS.get(op)
        if binary is None or self.ValueType is not WindowSet:
            self[key] = op(self[key], value)
        else:
            self._apply(binary, key, value, current_event())

    def _apply(self, op: Callable[[Any, Any], Any], key: Any, value: Any, event: Any) -> None:
        """``op(old, value)`` in every window of ``key`` that ``event``'s time (the current
        message's, in the common case) falls into."""
        message = current_message()
        if event is None and message is not None and self._get_relative_timestamp is None:
            # the common case, without the detours (message_timestamp, inline)
            kind, milliseconds = message.timestamp()
            if kind == 0 or milliseconds < 0:
                timestamp = message_timestamp(message)
            else:
                timestamp = milliseconds / 1000.0
        else:
            timestamp = self.get_timestamp(event)
        self.table.apply(op, key, value, timestamp)

    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(value, WindowSet):  # ``views[k] += 1`` stores its WindowSet: no-op
            self.table.set_at(key, value, self.get_timestamp())

    def __delitem__(self, key: Any) -> None:
        self.table.delete_at(key, self.get_timestamp())

    def __contains__(self, key: Any) -> bool:
        return self.table.contains_at(key, self.get_timestamp())

    def _keys(self) -> Iterator[Any]:
        seen = set()
        for windowed_key in self.table:
            key = windowed_key[0]
            if key not in seen:
                seen.add(key)
                yield key

    def __iter__(self) -> Iterator[Any]:
        return self._keys()

    def __len__(self) -> int:
        return sum(1 for _ in self._keys())

    def keys(self) -> WindowedKeysView:
        return WindowedKeysView(self)

    def items(self, event: Any = None) -> WindowedItemsView:
        return WindowedItemsView(self, event or current_event())

    def values(self, event: Any = None) -> WindowedValuesView:
        return WindowedValuesView(self, event or current_event())

    def _items(self, event: Any = None) -> Iterator[tuple[Any, Any]]:
        timestamp = self.get_timestamp(event)
        for key in list(self._keys()):
            with contextlib.suppress(KeyError):
                yield key, self.table.value_at(key, timestamp)

    def _items_now(self) -> Iterator[tuple[Any, Any]]:
        for key in list(self._keys()):
            with contextlib.suppress(KeyError):
                yield key, self.table.value_now(key)

    def _items_current(self, event: Any = None) -> Iterator[tuple[Any, Any]]:
        timestamp = self.table.relative_event(event)
        for key in list(self._keys()):
            with contextlib.suppress(KeyError):
                yield key, self.table.value_at(key, timestamp)

    def _items_delta(self, d: Seconds, event: Any = None) -> Iterator[tuple[Any, Any]]:
        for key in list(self._keys()):
            with contextlib.suppress(KeyError):
                yield key, self.table.value_delta(key, d, event)

    def __repr__(self) -> str:
        return f"<WindowWrapper: {self.table!r}>"


class _WindowedView:
    def __init__(self, wrapper: WindowWrapper, event: Any = None) -> None:
        self._wrapper = wrapper
        self.event = event

    def __len__(self) -> int:
        return len(self._wrapper)


class WindowedKeysView(_WindowedView):
    """``windowed_table.keys()``."""

    def __iter__(self) -> Iterator[Any]:
        return self._wrapper._keys()

    def now(self) -> Iterator[Any]:
        return (key for key, _ in self._wrapper._items_now())

    def current(self, event: Any = None) -> Iterator[Any]:
        return (key for key, _ in self._wrapper._items_current(event or self.event))

    def delta(self, d: Seconds, event: Any = None) -> Iterator[Any]:
        return (key for key, _ in self._wrapper._items_delta(d, event or self.event))


class WindowedItemsView(_WindowedView):
    """``windowed_table.items()``: ``(key, value)`` in the window the relativity picks."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self._wrapper._items(self.event)

    def now(self) -> Iterator[tuple[Any, Any]]:
        return self._wrapper._items_now()

    def current(self, event: Any = None) -> Iterator[tuple[Any, Any]]:
        return self._wrapper._items_current(event or self.event)

    def delta(self, d: Seconds, event: Any = None) -> Iterator[tuple[Any, Any]]:
        return self._wrapper._items_delta(d, event or self.event)


class WindowedValuesView(_WindowedView):
    """``windowed_table.values()``."""

    def __iter__(self) -> Iterator[Any]:
        return (value for _, value in self._wrapper._items(self.event))

    def now(self) -> Iterator[Any]:
        return (value for _, value in self._wrapper._items_now())

    def current(self, event: Any = None) -> Iterator[Any]:
        return (value for _, value in self._wrapper._items_current(event or self.event))

    def delta(self, d: Seconds, event: Any = None) -> Iterator[Any]:
        return (value for _, value in self._wrapper._items_delta(d, event or self.event))
