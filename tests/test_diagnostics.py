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
WARNED = re.compile(r"#\s*W:\s*(FC\d{3})\s*(.*)$")


def expected_errors(path: Path, marker: re.Pattern[str] = EXPECTED) -> list[tuple[int, str, str]]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = marker.search(line)
        if match:
            found.append((number, match.group(1), match.group(2).strip()))
    return found


@pytest.fixture(scope="session")
def mypy_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build directory (and mypy cache) for every type-checked case."""
    return tmp_path_factory.mktemp("diagnostics-build")


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_case(case: Path, tmp_path: Path, mypy_build_dir: Path) -> None:
    """Cases named ``typecheck_*`` also run mypy (strict: its findings are errors); the
    others test the compiler's own rules. ``# W:`` marks a warning: a case with warnings
    only builds."""
    expected = expected_errors(case)
    warned = expected_errors(case, WARNED)
    assert expected or warned, f"{case.name} marks no expected error or warning"
    typecheck = case.stem.startswith("typecheck_")
    directory = mypy_build_dir if typecheck else tmp_path
    source = SourceFile.load(case)
    if expected:
        with pytest.raises(CompileError) as caught:
            compile_source(source, directory, typecheck=typecheck, strict=typecheck)
        diagnostics = caught.value.diagnostics
    else:
        diagnostics = compile_source(source, directory, typecheck=typecheck).warnings
    for severity, marked in (("error", expected), ("warning", warned)):
        got = [(d.span.line, d.code, d.message) for d in diagnostics if d.severity == severity]
        assert [(line, code) for line, code, _ in got] == [
            (line, code) for line, code, _ in marked
        ], severity
        for (_, _, message), (_, _, fragment) in zip(got, marked, strict=True):
            assert fragment in message
    for diagnostic in diagnostics:
        assert diagnostic.code in CODES


def run_faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=REPO
    )


def test_cli_prints_every_error_with_caret_and_exits_1(tmp_path: Path) -> None:
    case = "tests/diagnostics/unsupported_operation.py"
    result = run_faustc("build", case, "-o", str(tmp_path), "--no-typecheck")
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

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(faustc.cli, "build_worker", broken)
    monkeypatch.setattr(sys, "argv", ["faustc", "build", "examples/wordcount.py"])
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as exit_info:
        faustc.cli.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "this is a faustc bug" in err and "RuntimeError: boom" in err


def test_check_shows_mypy_findings_with_carets(tmp_path: Path) -> None:
    case = "tests/diagnostics/typecheck_errors.py"
    result = run_faustc("check", case, "-o", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    head = next(i for i, line in enumerate(lines) if "amont" in line)
    assert lines[head].startswith(f"{case}:16:")
    assert lines[head].endswith("(mypy attr-defined) [FC200]")
    caret = lines[head + 2]
    assert lines[head + 1][caret.index("^") :].startswith("o.amont")
    assert lines[-1] == f"Found 4 errors in {case}"
    assert (tmp_path / ".mypy_cache").is_dir()  # the cache lives in the build directory


def test_build_reports_mypy_findings_as_warnings_and_writes_the_worker(tmp_path: Path) -> None:
    """A user's own type problems do not stop `faustc build`: they are warnings (with
    their carets), the worker is written, exit 0."""
    case = "tests/diagnostics/typecheck_errors.py"
    result = run_faustc("build", case, "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 4
    assert warnings[0].startswith(f"{case}:16:")
    assert warnings[0].endswith("(mypy attr-defined) [FC200]")
    assert ": error: " not in result.stderr
    assert result.stdout.strip().endswith("(2 agents fused, 4 warnings)")
    assert (tmp_path / "typecheck_errors_worker.py").is_file()


def test_build_strict_stops_on_mypy_findings(tmp_path: Path) -> None:
    case = "tests/diagnostics/typecheck_errors.py"
    result = run_faustc("build", case, "-o", str(tmp_path), "--strict")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"Found 4 errors in {case}"
    assert not (tmp_path / "typecheck_errors_worker.py").exists()


def test_strict_from_the_projects_pyproject(tmp_path: Path) -> None:
    """``[tool.faustc] strict = true`` in the nearest pyproject.toml is --strict; an unknown
    setting there is one line and exit 1."""
    project = tmp_path / "project"
    project.mkdir()
    app = project / "app.py"
    app.write_text((REPO / "tests/diagnostics/typecheck_errors.py").read_text())
    (project / "pyproject.toml").write_text("[tool.faustc]\nstrict = true\n")
    out = str(tmp_path / "build")
    result = run_faustc("build", str(app), "-o", out)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == f"Found 4 errors in {app}"
    (project / "pyproject.toml").write_text("[tool.faustc]\nstrikt = true\n")
    result = run_faustc("build", str(app), "-o", out)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"faustc: error: {project / 'pyproject.toml'}: unknown [tool.faustc] setting(s): "
        "strikt (known: strict)"
    )


def test_check_passes_a_good_app(tmp_path: Path) -> None:
    result = run_faustc("check", "examples/big_orders.py", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "examples/big_orders.py: no errors (1 agent)"


def test_build_dump_ir(tmp_path: Path) -> None:
    result = run_faustc(
        "build", "tests/apps/stages.py", "-o", str(tmp_path), "--dump-ir", "--no-typecheck"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "agent stages.per_account on payments" in out
    assert "group_by Payment.account name='Payment.account' partitions=2" in out
    assert "terminal take(max_=4, within=3600)" in out
    assert "task stages.small_payments on payments" in out
    assert (tmp_path / "stages_worker.py").is_file()
