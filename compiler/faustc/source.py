"""The user's source file: its text, how it is named, and how a worker imports it.

Example::

    source = SourceFile.load(Path("examples/wordcount.py"))
    source.module        # 'wordcount'       (dotted, found by walking up __init__.py files)
    source.display_name  # 'wordcount.py'    (what generated code cites: '# wordcount.py:14')
    source.import_root   # Path('examples')  (the sys.path entry that makes `module` importable)

The text is decoded as Python decodes a module (PEP 263: UTF-8 unless a ``# -*- coding:
latin-1 -*-`` line or a BOM says otherwise); a file that is not text in its encoding is a
diagnostic (FC003) at the first byte that is not.

A file whose name is no module name (``log-relay.py``) is named by its stem, as Python
names a script it runs (``canonical_module_name``): the worker loads it from its path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import tokenize
from pathlib import Path

from faust.contract import importable
from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.ir import Span


@dataclasses.dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    """The path as the user gave it (diagnostics print it, so editors can jump to it)."""
    text: str
    module: str
    display_name: str
    import_root: Path
    encoding: str = "utf-8"
    """The file's encoding (its PEP 263 declaration, else UTF-8)."""

    @classmethod
    def load(cls, path: Path) -> SourceFile:
        """Read and decode ``path``; CompileError (FC003) when it is not text."""
        text, encoding = decode_source(path, path.read_bytes())
        return cls.from_text(path, text, encoding)

    @classmethod
    def from_text(cls, path: Path, text: str, encoding: str = "utf-8") -> SourceFile:
        absolute = path.resolve()
        parts = [absolute.stem]
        root = absolute.parent
        while absolute.stem.isidentifier() and (root / "__init__.py").exists():
            parts.insert(0, root.name)
            root = root.parent
        display = "/".join([*parts[:-1], absolute.name])
        return cls(path, text, ".".join(parts), display, root, encoding)

    @property
    def importable(self) -> bool:
        """Whether ``import <module>`` reaches it (``log-relay`` is loaded by its path)."""
        return importable(self.module)

    @property
    def lines(self) -> list[str]:
        """The lines as Python counts them (a form feed or a ``\\x1c`` ends none)."""
        return split_lines(self.text)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode(self.encoding, "replace")).hexdigest()

    @property
    def stem(self) -> str:
        return self.path.stem


_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]")


def decode_source(path: Path, data: bytes) -> tuple[str, str]:
    """``data`` as Python reads a module: its text (newlines made ``\\n``) and encoding;
    CompileError (FC003) with the line and column of what cannot be decoded."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown encoding, or a BOM that contradicts it
        lines = data.splitlines()[:2]
        line = next((n for n, text in enumerate(lines, 1) if _CODING.match(text)), 1)
        raise _not_text(path, line, 1, f"{exc.msg}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode(encoding, "replace")) + 1
        byte = data[exc.start]
        raise _not_text(
            path,
            line,
            column,
            f"not {encoding} text: byte 0x{byte:02x} ({exc.reason}); save the file as UTF-8 "
            "or declare its encoding on its first line (`# -*- coding: latin-1 -*-`)",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _not_text(path: Path, line: int, column: int, message: str) -> CompileError:
    span = Span(str(path), line, column, line, column + 1)
    return CompileError([Diagnostic("FC003", message, span)])


def source_lines(path: Path) -> list[str]:
    """The lines of ``path`` for showing a diagnostic's caret (undecodable bytes replaced,
    an unreadable file has none)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    try:
        text, _ = decode_source(path, data)
    except CompileError:
        text = data.decode("utf-8", "replace")
    return split_lines(text)


def split_lines(text: str) -> list[str]:
    """``text``'s lines as Python numbers them: only ``\\n`` ends one (``str.splitlines``
    also splits at form feeds and other separators, and would shift every later line)."""
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
