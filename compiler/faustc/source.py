"""The user's source file: its text, how it is named, and how a worker imports it.

Example::

    source = SourceFile.load(Path("examples/wordcount.py"))
    source.module        # 'wordcount'       (dotted, found by walking up __init__.py files)
    source.display_name  # 'wordcount.py'    (what generated code cites: '# wordcount.py:14')
    source.import_root   # Path('examples')  (the sys.path entry that makes `module` importable)

A file whose name is no module name (``log-relay.py``) is named by its stem, as Python
names a script it runs (``canonical_module_name``): the worker loads it from its path.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from faust.contract import importable


@dataclasses.dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    """The path as the user gave it (diagnostics print it, so editors can jump to it)."""
    text: str
    module: str
    display_name: str
    import_root: Path

    @classmethod
    def load(cls, path: Path) -> SourceFile:
        text = path.read_text(encoding="utf-8")
        return cls.from_text(path, text)

    @classmethod
    def from_text(cls, path: Path, text: str) -> SourceFile:
        absolute = path.resolve()
        parts = [absolute.stem]
        root = absolute.parent
        while absolute.stem.isidentifier() and (root / "__init__.py").exists():
            parts.insert(0, root.name)
            root = root.parent
        display = "/".join([*parts[:-1], absolute.name])
        return cls(path, text, ".".join(parts), display, root)

    @property
    def importable(self) -> bool:
        """Whether ``import <module>`` reaches it (``log-relay`` is loaded by its path)."""
        return importable(self.module)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def stem(self) -> str:
        return self.path.stem
