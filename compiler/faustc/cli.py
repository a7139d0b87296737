"""The ``faustc`` command line.

Commands::

    faustc build app.py [-o build/] [--dump-ir] [--dump-plan] [--no-typecheck] [--strict]
                        [--pyz]                compile into build/app_worker.py
                                               (--pyz: also build/app_worker.pyz, one file)
    faustc check app.py                        read, check and type-check (mypy's findings
                                               are errors here); write nothing
    faustc topology app.py [--format text|mermaid|dot|svg] [-o FILE]
                                               the dataflow: sources, stages, tables, sinks
    faustc run app.py [worker options]         build, then run the worker (-b URL, -l INFO,
                                               --datadir, --logfile, --json ...)
    faustc broker [--port 9092]                run the embedded Kafka-compatible broker
    faustc schema app.py [-o schemas/]         export the Records' Avro schemas (+ manifest)
    faustc schema app.py --check schemas/      report changes that break BACKWARD compat

User errors print mypy-style diagnostics and exit 1; anything else is a faustc bug and
exits 2 with the traceback. mypy's findings are warnings in ``build`` and ``run`` (the
worker is written) unless ``--strict`` or ``strict = true`` under ``[tool.faustc]`` in the
project's ``pyproject.toml``; ``check`` reports them as errors.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from faustc import __version__
from faustc.broker import BrokerError, EmbeddedBroker
from faustc.build import BuildResult, WorkerDoesNotCompile, build_worker, check_source
from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.printer import format_ir
from faustc.front.reader import read_module
from faustc.plan.printer import format_plan
from faustc.project import ProjectSettingsError, project_settings
from faustc.source import SourceFile, source_lines
from faustc.topology import (
    GraphvizMissing,
    build_topology,
    render_dot,
    render_mermaid,
    render_svg,
    render_text,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="faustc: compile Faust stream processors into fused Kafka workers.",
    pretty_exceptions_enable=False,
)

SourceArg = Annotated[
    Path, typer.Argument(help="the Faust app module", exists=False, dir_okay=False)
]
OutOption = Annotated[Path, typer.Option("-o", "--out", help="output directory")]
NoTypecheck = Annotated[
    bool, typer.Option("--no-typecheck", help="skip mypy (semantic checks still run)")
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="mypy's findings stop the build (default: warnings; also [tool.faustc] strict)",
    ),
]


def _fail_user(message: str) -> NoReturn:
    typer.echo(f"faustc: error: {message}", err=True)
    raise typer.Exit(1)


def _require_file(source: Path) -> None:
    if not source.is_file():
        _fail_user(f"{source}: no such file")
    try:
        source.read_bytes()
    except OSError as exc:
        _fail_user(f"{source}: cannot read it ({exc.strerror})")


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    """Print each diagnostic like mypy does (on stderr), with its line and a caret."""
    sources: dict[str, list[str]] = {}
    for diagnostic in diagnostics:
        file = diagnostic.span.file
        if file not in sources:
            sources[file] = source_lines(Path(file))
        typer.echo(diagnostic.render(sources[file]), err=True)


def _report(diagnostics: list[Diagnostic], source: Path) -> NoReturn:
    """Print every diagnostic like mypy does, then exit 1."""
    _print_diagnostics(diagnostics)
    errors = sum(d.severity == "error" for d in diagnostics)
    files = len({d.span.file for d in diagnostics if d.severity == "error"})
    where = f"in {source}" if files <= 1 else f"in {files} files"
    typer.echo(f"Found {errors} error{'s' if errors != 1 else ''} {where}", err=True)
    raise typer.Exit(1)


def _strict(source: Path, flag: bool) -> bool:
    """``--strict``, or ``strict = true`` in the project's ``[tool.faustc]``."""
    try:
        return flag or project_settings(source).strict
    except ProjectSettingsError as exc:
        _fail_user(str(exc))


def _build(
    source: Path,
    out: Path,
    *,
    typecheck: bool,
    strict: bool = False,
    dump_ir: bool = False,
    dump_plan: bool = False,
) -> BuildResult:
    _require_file(source)
    strict = _strict(source, strict)
    try:
        result = build_worker(source, out, typecheck=typecheck, strict=strict)
    except CompileError as exc:
        _report(exc.diagnostics, source)
    except WorkerDoesNotCompile as exc:
        _print_diagnostics([exc.diagnostic])
        typer.echo("faustc: internal error: this is a faustc bug (nothing was written)", err=True)
        raise typer.Exit(2) from None
    _print_diagnostics(result.warnings)
    if dump_ir:
        typer.echo(format_ir(result.module), nl=False)
    if dump_plan:
        typer.echo(format_plan(result.plan), nl=False)
    return result


@app.command()
def build(
    source: SourceArg,
    out: OutOption = Path("build"),
    dump_ir: Annotated[bool, typer.Option("--dump-ir", help="print the IR")] = False,
    dump_plan: Annotated[
        bool, typer.Option("--dump-plan", help="print the plan (the passes' decisions)")
    ] = False,
    no_typecheck: NoTypecheck = False,
    strict: Strict = False,
    pyz: Annotated[
        bool,
        typer.Option(
            "--pyz", help="also pack the worker and the app's modules into <name>_worker.pyz"
        ),
    ] = False,
) -> None:
    """Compile a Faust app into <out>/<name>_worker.py."""
    result = _build(
        source,
        out,
        typecheck=not no_typecheck,
        strict=strict,
        dump_ir=dump_ir,
        dump_plan=dump_plan,
    )
    agents = len(result.module.agents)
    summary = f"{agents} agent{'s' if agents != 1 else ''} fused"
    warnings = sum(d.severity == "warning" for d in result.warnings)
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    typer.echo(f"built {result.worker_path} ({summary})")
    if pyz:
        from faustc.package import write_zipapp

        typer.echo(f"packed {write_zipapp(result)} (run: ./{result.worker_path.stem}.pyz worker)")


@app.command()
def check(source: SourceArg, out: OutOption = Path("build")) -> None:
    """Read, check and type-check a Faust app; mypy's findings are errors here (the mypy
    cache goes in <out>)."""
    _require_file(source)
    try:
        checked = check_source(SourceFile.load(source), out, typecheck=True, strict=True)
    except CompileError as exc:
        _report(exc.diagnostics, source)
    _print_diagnostics(checked.warnings)
    agents = len(checked.module.agents)
    typer.echo(f"{source}: no errors ({agents} agent{'s' if agents != 1 else ''})")


@app.command()
def topology(
    source: SourceArg,
    format: Annotated[
        str, typer.Option("--format", "-f", help="text, mermaid, dot or svg")
    ] = "text",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write here")] = None,
) -> None:
    """Show the app's dataflow: sources, stages, repartition topics, tables, sinks, timers."""
    _require_file(source)
    renderers = {
        "text": render_text,
        "mermaid": render_mermaid,
        "dot": render_dot,
        "svg": render_svg,
    }
    if format not in renderers:
        _fail_user(f"unknown format {format!r} (text, mermaid, dot, svg)")
    try:
        module = read_module(SourceFile.load(source))
    except CompileError as exc:
        _report(exc.diagnostics, source)
    try:
        text = renderers[format](build_topology(module))
    except GraphvizMissing as exc:
        _fail_user(str(exc))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    source: SourceArg,
    out: OutOption = Path("build"),
    no_typecheck: NoTypecheck = False,
    strict: Strict = False,
) -> None:
    """Build the app, then run its worker in this process.

    Every option after the app file that is not faustc's own goes to the worker
    (`faustc run app.py -b kafka://... -l INFO --datadir d`: see `<worker> worker --help`).
    """
    result = _build(source, out, typecheck=not no_typecheck, strict=strict)
    argv = [sys.executable, str(result.worker_path), "worker", *ctx.args]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


@app.command("broker")
def broker_command(
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 9092,
) -> None:
    """Run the embedded Kafka-compatible broker (Tansu) on loopback until interrupted."""
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    embedded = EmbeddedBroker(port)
    try:
        embedded.start(stdout=subprocess.DEVNULL)
    except BrokerError as exc:
        _fail_user(str(exc))
    typer.echo(f"broker ready: {embedded.url}  (bootstrap.servers={embedded.bootstrap})")
    typer.echo("in-memory storage; stop with Ctrl-C")
    try:
        signal.sigwait(stop_signals)
    finally:
        embedded.stop()


@app.command()
def schema(
    source: SourceArg,
    out: OutOption = Path("schemas"),
    check: Annotated[
        Path | None,
        typer.Option("--check", help="compare with schemas exported earlier (exit 1 on a break)"),
    ] = None,
) -> None:
    """Export one .avsc per Record a topic carries, and manifest.json (subjects)."""
    from faustc.schema import backward_breaks, export_schemas
    from faustc.source import SourceFile

    if not source.is_file():
        _fail_user(f"{source}: no such file")
    try:
        from faustc.front.reader import read_module

        files = export_schemas(read_module(SourceFile.load(source)))
    except CompileError as exc:
        _report(exc.diagnostics, source)
    if check is not None:
        import json

        if not check.is_dir():
            _fail_user(f"{check}: no such directory")
        breaks: list[str] = []
        for name, text in sorted(files.items()):
            old_path = check / name
            if name == "manifest.json" or not old_path.is_file():
                continue
            old = json.loads(old_path.read_text(encoding="utf-8"))
            breaks += [f"{name}: {reason}" for reason in backward_breaks(old, json.loads(text))]
        for reason in breaks:
            typer.echo(f"BACKWARD incompatible: {reason}", err=True)
        if breaks:
            typer.echo(f"{len(breaks)} incompatible change(s) against {check}", err=True)
            raise typer.Exit(1)
        typer.echo(f"schemas are BACKWARD compatible with {check}")
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        (out / name).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(files) - 1} schema(s) and manifest.json to {out}")


@app.command()
def version() -> None:
    """Print the faustc version."""
    typer.echo(f"faustc {__version__}")


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except BaseException:
        typer.echo(
            "faustc: internal error: this is a faustc bug, please report it with the "
            "traceback below",
            err=True,
        )
        traceback.print_exc()
        sys.exit(2)
