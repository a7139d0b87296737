"""The compiler driver: read, check, plan, render, write. Read it as the table of contents.

Example::

    result = build_worker(Path("examples/wordcount.py"), Path("build"))
    result.worker_path        # build/wordcount_worker.py
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from faustc.checks import check_module, validate_ir
from faustc.diagnostics import CompileError
from faustc.generate import render_worker
from faustc.ir import AppModule
from faustc.plan import WorkerPlan, plan_worker
from faustc.reader import read_module
from faustc.records import check_codecs
from faustc.source import SourceFile


@dataclasses.dataclass(frozen=True)
class BuildResult:
    source: SourceFile
    module: AppModule
    plan: WorkerPlan
    text: str
    worker_path: Path


def worker_path_for(source: SourceFile, out_dir: Path) -> Path:
    return out_dir / f"{source.stem}_worker.py"


def compile_source(source: SourceFile, out_dir: Path) -> BuildResult:
    """Compile ``source`` in memory (nothing is written); raises CompileError."""
    module = read_module(source)
    validate_ir(module)
    diagnostics = check_module(module) + check_codecs(module)
    if diagnostics:
        raise CompileError(diagnostics)
    plan = plan_worker(module, source, out_dir)
    text = render_worker(plan)
    worker_path = worker_path_for(source, out_dir)
    # Our own output must be valid Python; a SyntaxError here is a faustc bug (exit 2).
    compile(text, str(worker_path), "exec")
    return BuildResult(source, module, plan, text, worker_path)


def build_worker(path: Path, out_dir: Path) -> BuildResult:
    """Compile ``path`` and write ``<out_dir>/<stem>_worker.py``."""
    result = compile_source(SourceFile.load(path), out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.worker_path.write_text(result.text, encoding="utf-8")
    return result
