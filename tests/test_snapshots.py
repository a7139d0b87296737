"""Golden tests: the generated worker of every example, stored as a real ``.py`` file.

When the generator changes on purpose, update the stored files with
``pytest tests/test_snapshots.py --snapshot-update`` and review the diff.
"""

from __future__ import annotations

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
