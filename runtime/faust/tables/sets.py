"""SetTable and SetGlobalTable: a set of values per key.

Example::

    visitors = app.SetTable("page-visitors", value_type=str)

    @app.agent(page_views)
    async def track(stream):
        async for view in stream:
            visitors[view.page].add(view.user)
            if "admin" in visitors[view.page]:
                ...

``table[key]`` is a live view of the key's set: ``add``, ``discard``, ``remove``,
``update``, ``difference_update``, ``intersection_update``, ``clear`` change the table;
``union``, ``intersection``, ``difference``... return plain sets. A key whose set becomes
empty is deleted. The changelog record of a key is its whole set (a JSON array), so the
changelog is compacted like any table's (Faust writes one record per operation instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSet
from typing import Any, TypeVar

from faust.exceptions import ImproperlyConfigured
from faust.serializers.codecs import CodecContext
from faust.serializers.schemas import make_dumper, make_loader, make_payload_converter
from faust.tables.base import Table
from faust.tables.globaltable import GlobalTable
from faust.tables.stores import ABSENT, TableCodec
from faust.windows import Window

KT = TypeVar("KT")
VT = TypeVar("VT")


class ChangeloggedSet(MutableSet[VT]):
    """The set of one key of a SetTable (a view: it reads and writes the table)."""

    def __init__(self, table: SetTable[Any, VT], key: Any) -> None:
        self.table = table
        self.key = key

    def _members(self) -> set[VT]:
        value = self.table._lookup(self.key)
        return set() if value is ABSENT else value

    def _store(self, members: set[VT]) -> None:
        self.table._put(self.key, members)

    # -- reading ----------------------------------------------------------------------------

    def __contains__(self, member: object) -> bool:
        return member in self._members()

    def __iter__(self) -> Iterator[VT]:
        return iter(set(self._members()))

    def __len__(self) -> int:
        return len(self._members())

    def copy(self) -> set[VT]:
        return set(self._members())

    def union(self, *others: Iterable[Any]) -> set[Any]:
        return self._members().union(*others)

    def intersection(self, *others: Iterable[Any]) -> set[VT]:
        return self._members().intersection(*others)

    def difference(self, *others: Iterable[Any]) -> set[VT]:
        return self._members().difference(*others)

    def symmetric_difference(self, other: Iterable[Any]) -> set[Any]:
        return self._members().symmetric_difference(other)

    def issubset(self, other: Iterable[Any]) -> bool:
        return self._members().issubset(other)

    def issuperset(self, other: Iterable[Any]) -> bool:
        return self._members().issuperset(other)

    # -- changing ---------------------------------------------------------------------------

    def _change(self, change: Callable[[set[VT]], Any]) -> None:
        members = self._members()
        change(members)
        self._store(members)

    def add(self, member: VT) -> None:
        if member not in self._members():
            self._change(lambda members: members.add(member))

    def discard(self, member: VT) -> None:
        if member in self._members():
            self._change(lambda members: members.discard(member))

    def update(self, *others: Iterable[VT]) -> None:
        self._change(lambda members: members.update(*others))

    def difference_update(self, *others: Iterable[Any]) -> None:
        self._change(lambda members: members.difference_update(*others))

    def intersection_update(self, *others: Iterable[Any]) -> None:
        self._change(lambda members: members.intersection_update(*others))

    def symmetric_difference_update(self, other: Iterable[VT]) -> None:
        self._change(lambda members: members.symmetric_difference_update(other))

    def clear(self) -> None:
        if self._members():
            self._store(set())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChangeloggedSet):
            return self._members() == other._members()
        if isinstance(other, set | frozenset):
            return self._members() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<ChangeloggedSet {self.table.name}[{self.key!r}]: {self._members()!r}>"


class SetTable(Table[KT, set[VT]]):
    """``app.SetTable(name, value_type=...)``: see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", set)
        super().__init__(*args, **kwargs)

    def _make_codec(self) -> TableCodec:
        registry = self.app.codecs
        codec = TableCodec(
            self.key_type,
            None,
            self.key_serializer,
            "json",
            windowed=self.window is not None,
            registry=registry,
        )
        context = CodecContext(registry=registry)
        load_list = make_loader(None, "json", context=context)
        dump_list = make_dumper(None, "json", context=context)
        convert = make_payload_converter(self.value_type)

        def dump_members(members: Any) -> bytes | None:
            if members is None:
                return None
            return dump_list(sorted(members, key=repr))

        def load_members(data: bytes | None, headers: Any = None, /) -> Any:
            loaded = load_list(data)
            return None if loaded is None else {convert(member) for member in loaded}

        codec.dump_value = dump_members
        codec.load_value = load_members
        return codec

    def using_window(self, window: Window, *, key_index: bool = False) -> Any:
        raise ImproperlyConfigured(f"set table {self.name!r} cannot be windowed")

    def __getitem__(self, key: KT) -> ChangeloggedSet[VT]:  # type: ignore[override]
        return ChangeloggedSet(self, key)

    def __setitem__(self, key: KT, members: Iterable[VT]) -> None:
        self._put(key, set(members))

    def _put(self, key: Any, members: set[VT]) -> None:
        if members:
            super().__setitem__(key, members)
        elif self._lookup(key) is not ABSENT:
            super().__delitem__(key)

    def get(self, key: KT, default: Any = None) -> Any:
        return ChangeloggedSet(self, key) if key in self else default


class SetGlobalTable(SetTable[KT, VT], GlobalTable[KT, set[VT]]):  # type: ignore[misc]
    """``app.SetGlobalTable(name, ...)``: a SetTable every worker holds completely."""
