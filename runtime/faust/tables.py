"""Tables: key/value state owned by the app, with Faust's mapping API.

Example (the seeds' word count)::

    counts = app.Table("word-counts", default=int)

    @app.agent(words)
    async def count(stream):
        async for word in stream:
            counts[word] += 1          # a missing key reads as default() == 0

This first slice keeps the data in memory. Its changelog topic is named as Faust names it,
``<app id>-<table>-changelog``; RocksDB storage and recovery build on this class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from faust.app import App

KT = TypeVar("KT")
VT = TypeVar("VT")


class Table(MutableMapping[KT, VT], Generic[KT, VT]):
    """A named table (``app.Table(name, default=...)``)."""

    def __init__(
        self,
        app: App,
        *,
        name: str,
        default: Callable[[], VT] | None = None,
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        partitions: int | None = None,
        help: str | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.default = default
        self.key_type = key_type
        self.value_type = value_type
        self.partitions = partitions
        self.help = help
        self.data: dict[KT, VT] = {}

    @property
    def changelog_topic_name(self) -> str:
        return f"{self.app.conf.id}-{self.name}-changelog"

    def __getitem__(self, key: KT) -> VT:
        try:
            return self.data[key]
        except KeyError:
            if self.default is None:
                raise
            return self.default()  # as in Faust, reading a missing key does not store it

    def __setitem__(self, key: KT, value: VT) -> None:
        self.data[key] = value

    def __delitem__(self, key: KT) -> None:
        del self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __iter__(self) -> Iterator[KT]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def copy(self) -> dict[KT, VT]:
        return dict(self.data)

    def __repr__(self) -> str:
        return f"<Table: {self.name} ({len(self.data)} keys)>"
