"""GlobalTable: a table every worker holds completely and keeps in sync.

Example::

    rates = app.GlobalTable("exchange-rates", value_type=float)

    @app.agent(orders)
    async def convert(stream):
        async for order in stream:
            euros = order.amount * rates.get(order.currency, 1.0)   # any key, any worker

Every worker reads every partition of the changelog: all of it before it processes its
first message, then whatever arrives while it runs. A write (from an agent, as for any
table) goes to the changelog partition of the message being processed and reaches every
worker, the writer included, through the changelog. Until then the writer sees its own
value: a key written here and not yet committed is not overwritten by the changelog.
"""

from __future__ import annotations

from typing import Any, TypeVar

from faust.events import current_message
from faust.tables.base import Table
from faust.tables.stores import ABSENT, Store

KT = TypeVar("KT")
VT = TypeVar("VT")

#: the key of a global table's single store in ``Table._stores``
GLOBAL = -1


class GlobalTable(Table[KT, VT]):
    """``app.GlobalTable(name, ...)``: see the module docstring."""

    is_global = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: dirty key -> the changelog partition its record goes to
        self._dirty_partitions: dict[Any, int] = {}

    @property
    def store(self) -> Store:
        store = self._stores.get(GLOBAL)
        if store is None:
            store = self._stores[GLOBAL] = self._new_store(None)
        return store

    def _open_global(self) -> Store:
        return self.store

    def _write_partition(self) -> int:
        message = current_message()
        if message is not None:
            return message.partition() or 0
        if self._managed:
            raise RuntimeError(
                f"cannot modify global table {self.name!r} outside of an agent's stream: a "
                "write goes to the changelog partition of the message being processed"
            )
        return 0

    def _lookup(self, key: Any) -> Any:
        return self.store.data.get(key, ABSENT)

    def get(self, key: KT, default: Any = None) -> Any:
        self._told_get(key)
        value = self.store.data.get(key, ABSENT)
        return default if value is ABSENT else value

    def __getitem__(self, key: KT) -> VT:
        self._told_get(key)
        value = self.store.data.get(key, ABSENT)
        if value is ABSENT:
            return self.__missing__(key)
        result: VT = value
        return result

    def __setitem__(self, key: KT, value: VT) -> None:
        self._told_set(key, value)
        partition = self._write_partition()
        store = self.store
        store.data[key] = value
        store.dirty.add(key)
        self._dirty_partitions[key] = partition

    def _write_store(self) -> Store:
        return self.store

    def __delitem__(self, key: KT) -> None:
        if self.store.data.get(key, ABSENT) is ABSENT:
            raise KeyError(key)
        self._delete(key)

    def _delete(self, key: Any) -> None:
        partition = self._write_partition()
        self._told_del(key)
        self.store.delete(key)
        self._dirty_partitions[key] = partition

    def pop(self, key: KT, *default: Any) -> Any:
        self._told_get(key)
        value = self.store.data.get(key, ABSENT)
        if value is ABSENT:
            if default:
                return default[0]
            raise KeyError(key)
        self._delete(key)
        return value

    def clear(self) -> None:
        for key in list(self.store.data):
            self._delete(key)
