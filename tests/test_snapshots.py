"""Golden tests: the generated worker of every example, stored as a real ``.py`` file.

When the generator changes on purpose, update the stored files with
``pytest tests/test_snapshots.py --snapshot-update`` and review the diff.
"""

from __future__ import annotations

import os
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


#: builds every example and test app and prints a digest of each worker (run in a subprocess)
_BUILD_ALL = """
import hashlib, sys
from pathlib import Path
from faustc.build import compile_source
from faustc.source import SourceFile
for path in sys.argv[2:]:
    text = compile_source(SourceFile.load(Path(path)), Path(sys.argv[1])).text
    print(Path(path).name, hashlib.sha256(text.encode()).hexdigest())
"""


def test_generation_is_deterministic_across_hash_seeds(tmp_path: Path) -> None:
    """The same app builds into the same bytes in processes with different hash seeds (no
    set or dict order, no id, no counter leaks into a worker)."""
    apps = sorted([*EXAMPLES.glob("*.py"), *(REPO / "tests/apps").glob("*.py")])
    digests = set()
    for seed in ("0", "1", "4242"):
        built = subprocess.run(
            [sys.executable, "-c", _BUILD_ALL, str(tmp_path / "build"), *map(str, apps)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert built.stdout.count("\n") == len(apps), built.stderr
        digests.add(built.stdout)
    assert len(digests) == 1


#: comments and docstrings appended to an app: words the compiler reads, none it may act on
_APPENDED = '''

# faust.current_event() and current_event are named here, @app.agent(orders) too;
# stream.group_by(Order.id, name="x").through("elsewhere"), app.topic("never-declared")


def _helper_that_no_agent_calls() -> None:
    """A docstring that reads like code: current_event(); await topic.send(value=1)."""


"""A module-level string: app.Table("not-a-table"), faust.current_event()."""
'''


@pytest.mark.parametrize("example", EXAMPLE_FILES)
def test_appended_comments_and_docstrings_change_nothing_but_the_source_hash(
    example: str, tmp_path: Path
) -> None:
    """Comments, docstrings and a function no agent calls, appended to any example, leave
    its worker byte for byte as it was, but for the SHA-256 of the source it records."""
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    built = {}
    for kind, source in (("original", text), ("appended", text + _APPENDED)):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / example).write_text(source, encoding="utf-8")
        built[kind] = compile_source(SourceFile.load(tmp_path / kind / example), tmp_path / "b")
    original, appended = built["original"], built["appended"]
    assert appended.source.sha256 != original.source.sha256
    same_hash = appended.text.replace(appended.source.sha256, original.source.sha256)
    assert same_hash == original.text.replace("../original", "../appended")


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
