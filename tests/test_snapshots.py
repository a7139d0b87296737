"""Golden tests: the generated worker of every example, stored as a real ``.py`` file.

When the generator changes on purpose, update the stored files with
``pytest tests/test_snapshots.py --snapshot-update`` and review the diff.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from conftest import EXAMPLES, REPO
from faustc.build import compile_source
from faustc.front.validate import validate_ir
from faustc.source import SourceFile


class PythonSnapshot(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "py"


EXAMPLE_FILES = sorted(path.name for path in EXAMPLES.glob("*.py"))
SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots"


@pytest.fixture
def snapshot_py(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(PythonSnapshot)


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_generated_worker(example: str, snapshot_py: SnapshotAssertion) -> None:
    result = compile_source(SourceFile.load(EXAMPLES / example), REPO / "build")
    validate_ir(result.module)
    compile(result.text, f"build/{example[:-3]}_worker.py", "exec")
    assert result.text == snapshot_py


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_generation_is_deterministic(example: str) -> None:
    first = compile_source(SourceFile.load(EXAMPLES / example), REPO / "build").text
    second = compile_source(SourceFile.load(EXAMPLES / example), REPO / "build").text
    assert first == second


def _snapshot_workers(tmp_path: Path) -> list[Path]:
    """Every stored snapshot, copied as ``<example>_worker.py`` (a module name mypy takes)."""
    copies = []
    for example in EXAMPLE_FILES:
        stored = SNAPSHOTS / f"test_generated_worker[{example}].py"
        copy = tmp_path / f"{example[:-3]}_worker.py"
        copy.write_text(stored.read_text(encoding="utf-8"), encoding="utf-8")
        copies.append(copy)
    return copies


def test_every_snapshot_passes_mypy_strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A generated worker is typed: its functions, codecs and structs carry real types, and
    mypy --strict finds nothing in it (nor in the example it imports)."""
    import mypy.api

    copies = _snapshot_workers(tmp_path)
    monkeypatch.setenv("MYPYPATH", str(EXAMPLES))
    out, err, status = mypy.api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy_cache")]
        + [str(copy) for copy in copies]
    )
    assert status == 0, out + err


def test_every_snapshot_is_formatted_and_its_imports_sorted(tmp_path: Path) -> None:
    """Formatted like the rest of the repository: ruff format leaves a worker as it is, and
    ruff's isort finds its imports in order."""
    copies = [str(copy) for copy in _snapshot_workers(tmp_path)]
    options = ["--isolated", "--line-length", "100", "--target-version", "py311"]
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", *options, "--check", "--diff", *copies],
        capture_output=True,
        text=True,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    imports = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", "check", *options, "--select", "I"),
            *("--config", "lint.isort.known-first-party = ['faust']", *copies),
        ],
        capture_output=True,
        text=True,
    )
    assert imports.returncode == 0, imports.stdout + imports.stderr
