"""Diagnostic cases: each file in tests/diagnostics/ marks its expected errors with
``# E: <code> <part of the message>`` on the line the error points at."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from faustc.build import compile_source
from faustc.diagnostics import CODES, CompileError
from faustc.source import SourceFile

CASES = sorted((Path(__file__).parent / "diagnostics").glob("*.py"))
EXPECTED = re.compile(r"#\s*E:\s*(FC\d{3})\s*(.*)$")


def expected_errors(path: Path) -> list[tuple[int, str, str]]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECTED.search(line)
        if match:
            found.append((number, match.group(1), match.group(2).strip()))
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    expected = expected_errors(case)
    assert expected, f"{case.name} marks no expected error"
    with pytest.raises(CompileError) as caught:
        compile_source(SourceFile.load(case), tmp_path)
    got = [(d.span.line, d.code, d.message) for d in caught.value.diagnostics]
    assert [(line, code) for line, code, _ in got] == [(line, code) for line, code, _ in expected]
    for (_, _, message), (_, _, fragment) in zip(got, expected, strict=True):
        assert fragment in message
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.code in CODES


def run_faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=REPO
    )


def test_cli_prints_every_error_with_caret_and_exits_1(tmp_path: Path) -> None:
    case = "tests/diagnostics/unsupported_operation.py"
    result = run_faustc("build", case, "-o", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if "[FC102]" in line)
    assert lines[head].startswith(f"{case}:10:")
    column = int(lines[head].split(":")[2])
    source_line = lines[head + 1]
    caret_line = lines[head + 2]
    assert source_line.strip().startswith("async for order in stream.filter(bool).tumble(10)")
    # the caret sits under `tumble`, at the reported 1-based column
    assert caret_line.index("^") - 4 == column - 1
    assert source_line[caret_line.index("^") :].startswith("tumble")
    assert "[FC107]" in result.stderr
    assert lines[-1] == f"Found 2 errors in {case}"


def test_cli_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run_faustc("build", str(tmp_path / "nope.py"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"faustc: error: {tmp_path / 'nope.py'}: no such file"


def test_internal_error_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import faustc.cli

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(faustc.cli, "build_worker", broken)
    monkeypatch.setattr(sys, "argv", ["faustc", "build", "examples/wordcount.py"])
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as exit_info:
        faustc.cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "this is a faustc bug" in err and "RuntimeError: boom" in err
