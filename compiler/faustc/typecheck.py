"""Type checking: mypy over the user's module, its findings as faustc diagnostics.

mypy runs in a child process (``python -m mypy -O json``, stopped after ``MYPY_TIMEOUT``:
a diagnostic says so) against the runtime's own
annotations: ``faust`` ships ``py.typed``, ``Stream[T]`` and ``Topic[K, V]`` are generic and
``Record`` is a ``dataclass_transform``, so ``stream.filter(lambda o: o.amont > 50)`` on a
``Stream[Order]`` is an error, as is ``Order(amount="x")``. The mypy cache lives in the
build directory. Example::

    diagnostics = typecheck(SourceFile.load(Path("app.py")), Path("build/.mypy_cache"))
    diagnostics[0].message
    # '"Order" has no attribute "amont"; maybe "amount"? (mypy attr-defined)'

Findings in the ``faust`` package itself are not the user's: they raise
:class:`TypecheckFailure` (an internal error, exit 2), as does mypy failing to run. mypy
stopping at a blocking error in the user's module (status 2: ``'yield' inside list
comprehension``) reports that error like any other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import faust
from faustc.diagnostics import Diagnostic
from faustc.front.ir import Span
from faustc.front.limits import deepest_nested_call
from faustc.source import SourceFile

RUNTIME_DIR = Path(faust.__file__).resolve().parent


class TypecheckFailure(RuntimeError):
    """mypy could not check the module (a faustc or environment problem, not the user's)."""


def mypy_arguments(source: SourceFile, cache_dir: Path) -> list[str]:
    return [
        str(source.path),
        "--output",
        "json",
        "--cache-dir",
        str(cache_dir),
        "--show-column-numbers",
        "--show-error-end",
        "--no-error-summary",
        "--no-pretty",
        "--hide-error-context",
        "--no-color-output",
    ]


#: seconds mypy may take on one module (the largest module faustc reads takes about 30 s
#: of CPU; mypy's time grows exponentially with nested calls of overloaded functions)
MYPY_TIMEOUT = 120.0


def typecheck(
    source: SourceFile, cache_dir: Path, timeout: float = MYPY_TIMEOUT
) -> list[Diagnostic]:
    """Run mypy on ``source`` (in a child process, for at most ``timeout`` seconds); its
    errors and notes as FC200 diagnostics, or FC201 when it did not finish in time."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mypy", *mypy_arguments(source, cache_dir)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        at, column = deepest_nested_call(source.text)
        span = Span(str(source.path), at, column, at, column + 1)
        message = (
            f"mypy did not finish checking the module in {timeout:.0f} s, so it is not "
            "type-checked (mypy's time grows exponentially with calls of overloaded "
            "functions nested in each other's arguments, like `x[x[x[...]]]`: the deepest "
            "such nesting is here)"
        )
        return [Diagnostic("FC201", message, span)]
    stdout, stderr, status = done.stdout, done.stderr, done.returncode
    failed = TypecheckFailure(f"mypy failed (status {status}): {stderr.strip() or stdout}")
    if status not in (0, 1, 2):
        raise failed
    diagnostics: list[Diagnostic] = []
    for output in stdout.splitlines():
        if not output.strip():
            continue
        try:
            finding = json.loads(output)
        except json.JSONDecodeError:
            if status == 2:
                raise failed from None
            raise TypecheckFailure(f"unexpected mypy output: {output}") from None
        diagnostics.append(_diagnostic(source, finding))
    # status 2: mypy stopped at a blocking error; one in the user's module is theirs to fix
    if status == 2 and not any(d.severity == "error" for d in diagnostics):
        raise failed
    return diagnostics


def _diagnostic(source: SourceFile, finding: dict[str, object]) -> Diagnostic:
    file = str(finding.get("file") or source.path)
    if Path(file).resolve().is_relative_to(RUNTIME_DIR):
        raise TypecheckFailure(f"mypy reports an error in the faust runtime: {finding}")
    if Path(file).resolve() == source.path.resolve():
        file = str(source.path)
    line = _int(finding.get("line"), 1)
    column = _int(finding.get("column"), 0) + 1
    end_line = _int(finding.get("end_line"), line)
    end_column = _int(finding.get("end_column"), column) + 1
    if end_line < line or (end_line == line and end_column <= column):
        end_line, end_column = line, column + 1
    message = str(finding.get("message", ""))
    code = finding.get("code")
    hint = finding.get("hint")
    if hint:
        message += f" ({hint})"
    if code:
        message += f" (mypy {code})"
    severity = "note" if finding.get("severity") == "note" else "error"
    return Diagnostic("FC200", message, Span(file, line, column, end_line, end_column), severity)


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and value >= 0 else default
