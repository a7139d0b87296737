"""The worker's data directory (``--datadir``): its RocksDB tables, its lock and its id.

One worker process uses a data directory at a time: the directory is locked while the
worker runs (a second worker pointed at it stops with a clear error instead of fighting
over RocksDB's locks). The directory also keeps the worker's id, created on first use, so
a restarted worker is recognisably the same one: under exactly-once its transactional id
is ``<app id>-<worker id>``, and the restart fences the transactions its predecessor left
open (as Kafka Streams keeps its process id in its state directory). Example::

    state = DataDirectory(Path("orders-data"))
    state.lock()                # StateDirectoryLocked if another worker holds it;
                                # StoreFailed if it cannot be created (a path that is a file)
    state.worker_id             # e.g. '5f0c2a9e8d6b4e0f9a1c3b2d4e6f8a0b'
    state.release()
"""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path
from typing import IO

from faust.exceptions import StateDirectoryLocked, StoreFailed, os_reason

LOCK_FILE = "worker.lock"
ID_FILE = "worker-id"


class DataDirectory:
    """See the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: IO[str] | None = None

    def lock(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = (self.path / LOCK_FILE).open("a+")
        except OSError as exc:
            raise StoreFailed(f"cannot use data directory {self.path}: {os_reason(exc)}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StateDirectoryLocked(
                f"data directory {self.path} is in use by worker pid {holder}; give each "
                "worker process its own --datadir"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
        except OSError as exc:  # a full disk
            handle.close()
            raise StoreFailed(f"cannot write {self.path / LOCK_FILE}: {os_reason(exc)}") from None
        self._lock = handle

    @property
    def worker_id(self) -> str:
        path = self.path / ID_FILE
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        worker_id = uuid.uuid4().hex
        temporary = path.with_suffix(".tmp")
        try:
            temporary.write_text(worker_id)
            temporary.replace(path)
        except OSError as exc:
            raise StoreFailed(f"cannot write {path}: {os_reason(exc)}") from None
        return worker_id

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
