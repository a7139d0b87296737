"""Tables: partitioned, changelog-backed state with Faust's mapping API.

- ``Table`` (``base.py``): the mapping, one store per partition;
- ``WindowedTable`` (``windowed.py``): a table of ``(key, (start, end))`` keys, windows
  that expire, late writes, time relativity;
- ``GlobalTable`` (``globaltable.py``): every worker holds every partition;
- ``SetTable``/``SetGlobalTable`` (``sets.py``): a set per key;
- ``WindowWrapper``/``WindowSet`` (``wrappers.py``): what windowed tables read as;
- ``stores.py``: memory and RocksDB storage of one partition;
- ``manager.py`` and ``recovery.py``: the worker's side (assignment, restore, commit, expiry).

Example::

    counts = app.Table("counts", default=int)
    by_minute = app.Table("per-minute", default=int).tumbling(60, expires=3600)
"""

from faust.tables.base import Table
from faust.tables.globaltable import GlobalTable
from faust.tables.sets import ChangeloggedSet, SetGlobalTable, SetTable
from faust.tables.windowed import WindowedTable
from faust.tables.wrappers import WindowSet, WindowWrapper

__all__ = [
    "ChangeloggedSet",
    "GlobalTable",
    "SetGlobalTable",
    "SetTable",
    "Table",
    "WindowSet",
    "WindowWrapper",
    "WindowedTable",
]
