"""The compiler never crashes (issue 15): every input to ``faustc check`` and ``faustc
build`` gives exit 0, or exit 1 with a ``file:line:col`` diagnostic, in bounded time.

The hand-made pathological shapes and the largest input of each deep shape within the
limits run through both commands; hypothesis mutates the example and corpus apps with a
fixed seed and a small budget. The longer campaign is ``tests/fuzz_compiler.py --minutes
10`` (README, "Testing"). Each input runs in a child process (``fuzz_compiler.Compiler``)
so a crash or a hang fails the case instead of the test run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import fuzz_compiler as fuzz
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faustc.build import WorkerDoesNotCompile, check_worker_compiles, compile_source
from faustc.diagnostics import CompileError
from faustc.source import SourceFile
from faustc.typecheck import typecheck

EXPECTED: dict[str, tuple[int, str | None]] = {
    # name: (exit status of `faustc check`, the first diagnostic's code)
    "parens-1500": (1, "FC001"),
    "lists-200": (1, "FC002"),
    "calls-200": (1, "FC002"),
    "attribute-chain-3000": (1, "FC002"),
    "sum-10000": (1, "FC002"),
    "sum-100000": (1, "FC002"),
    "and-10000": (1, "FC002"),
    "strings-10000": (1, "FC002"),
    "list-100000": (1, "FC002"),
    "statements-30000": (1, "FC002"),
    "yield-in-comprehension": (1, "FC001"),
    "topic-twice": (1, "FC118"),
    "record-twice": (1, "FC118"),
    "table-twice": (1, "FC118"),
    "concurrency-0": (0, None),
    "concurrency-minus-1": (1, "FC119"),
    "topic-without-name": (1, "FC119"),
    "topic-by-pattern": (1, "FC119"),
    "form-feed-in-loop": (0, None),
    "global-app-in-loop": (0, None),
    "form-feed-before-a-multi-line-string": (0, None),
    "form-feed-lines-in-loop": (0, None),
    "latin-1-declared": (0, None),
    "latin-1-undeclared": (1, "FC003"),
    "unknown-encoding": (1, "FC003"),
    "bom": (0, None),
    "crlf": (0, None),
}


@pytest.fixture(scope="module")
def compiler() -> Iterator[fuzz.Compiler]:
    running = fuzz.Compiler()
    yield running
    running.close()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every input (one mypy cache)."""
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("name", sorted(fuzz.PATHOLOGICAL))
def test_pathological_input_keeps_the_contract(
    name: str, compiler: fuzz.Compiler, scratch: Path
) -> None:
    data = fuzz.PATHOLOGICAL[name]
    outcome, why = fuzz.judge(compiler, data, scratch, ["build", "--no-typecheck"])
    assert why is None, f"{name} (build): {why}"
    if outcome.exit == 0 or name in EXPECTED:  # what gets past the reader, mypy reads too
        outcome, why = fuzz.judge(compiler, data, scratch, ["check"])
        assert why is None, f"{name} (check): {why}"
    if name in EXPECTED:
        status, code = EXPECTED[name]
        assert outcome.exit == status, outcome.stderr[-2000:]
        first = fuzz.FIRST_CODE.search(outcome.stderr)
        assert (first.group(1) if first else None) == code, outcome.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(fuzz.DECLARATIONS))
def test_odd_declaration_keeps_the_contract(
    name: str, compiler: fuzz.Compiler, scratch: Path
) -> None:
    _, why = fuzz.judge(compiler, fuzz.DECLARATIONS[name], scratch, ["build", "--no-typecheck"])
    assert why is None, why


NEAR_LIMITS = fuzz.near_limits()


@pytest.mark.parametrize("name", sorted(NEAR_LIMITS))
def test_the_largest_input_within_the_limits_compiles(
    name: str, compiler: fuzz.Compiler, scratch: Path
) -> None:
    """The limits leave a margin: what they let through, libcst and every pass read
    (a build without mypy; mypy's own time is bounded by its timeout)."""
    outcome, why = fuzz.judge(compiler, NEAR_LIMITS[name], scratch, ["build", "--no-typecheck"])
    assert why is None, why
    assert outcome.exit == 0, outcome.stderr[-2000:]


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed_app=st.sampled_from(fuzz.seed_apps()),
    seed=st.integers(0, 2**32 - 1),
    mutations=st.integers(1, 4),
    typecheck=st.sampled_from([False, False, False, True]),
)
def test_mutated_apps_keep_the_contract(
    seed_app: Path,
    seed: int,
    mutations: int,
    typecheck: bool,
    compiler: fuzz.Compiler,
    scratch: Path,
) -> None:
    data = fuzz.mutate(seed_app.read_text(encoding="utf-8"), random.Random(seed), mutations)
    command = ["check"] if typecheck else ["build", "--no-typecheck"]
    _, why = fuzz.judge(compiler, data, scratch, command)
    assert why is None, f"{seed_app.name} mutated (seed {seed}, {mutations}): {why}"


def test_a_latin_1_module_builds_with_its_text(tmp_path: Path) -> None:
    """PEP 263: the declared encoding decodes the module; the worker carries its text."""
    app = tmp_path / "latin.py"
    app.write_bytes(fuzz.PATHOLOGICAL["latin-1-declared"])
    source = SourceFile.load(app)
    assert source.encoding == "iso-8859-1"
    assert "W\xf6rd count" in source.text
    result = compile_source(source, tmp_path)
    compile(result.text, "worker.py", "exec")


def test_an_undecodable_byte_is_reported_where_it_is(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_bytes(b"import faust\n\napp = faust.App('x')  # caf\xe9\n")
    with pytest.raises(CompileError) as caught:
        SourceFile.load(app)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "FC003"
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 28)
    assert "byte 0xe9" in diagnostic.message


def test_a_worker_that_does_not_compile_is_a_bug_at_the_app_line(tmp_path: Path) -> None:
    source = SourceFile.load(fuzz.REPO / "examples" / "wordcount.py")
    result = compile_source(source, tmp_path)
    lines = result.text.split("\n")
    marker = next(i for i, line in enumerate(lines) if line.strip() == "# wordcount.py:23")
    lines[marker + 1] += " )"  # break the first statement the marker cites
    with pytest.raises(WorkerDoesNotCompile) as caught:
        check_worker_compiles(source, "\n".join(lines), result.worker_path)
    diagnostic = caught.value.diagnostic
    assert diagnostic.code == "FC900"
    assert diagnostic.span.line == 23
    assert "faustc bug" in diagnostic.message


def test_mypy_that_does_not_finish_is_a_diagnostic(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("x = [1]\ny = x[x[x[0]]]\n", encoding="utf-8")
    (diagnostic,) = typecheck(SourceFile.load(app), tmp_path / "cache", timeout=0.001)
    assert diagnostic.code == "FC201"
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 9)
