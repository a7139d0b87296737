"""Where faustc stands on the compatibility corpus: build every app with the default
``faustc build`` (mypy included), run it compiled, uncompiled and on faust-streaming, each
on a broker of its own with the app's input, and check the outputs its spec expects.

Usage (from the repository root, inside .venv)::

    python tests/compat/status.py                       # everything; writes tests/compat/STATUS.md
    python tests/compat/status.py wordcount rpc         # some apps; prints, writes nothing
    python tests/compat/status.py --runners compiled --jobs 2 --out /tmp/status.md

A build is ``builds``, ``FCnnn``/``mypy`` (the first diagnostic) or ``crash``. A run is
``pass``, ``wrong`` (the worker ran; the outputs differ from the spec: the diff says how)
or ``error`` (the worker stopped: its last word). ``-`` means not run (it did not build).
The faust-streaming column checks the spec itself against the real Faust.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from compat.corpus import CorpusApp, load_corpus
from compat.faust_streaming import faust_streaming_python, installed_version
from compat.harness import (
    BuildOutcome,
    RunOutcome,
    build,
    compiled,
    faust_streaming,
    run_app,
    uncompiled,
)

HERE = Path(__file__).resolve().parent
RUNNERS = ("compiled", "uncompiled", "faust-streaming")


@dataclass
class AppStatus:
    app: CorpusApp
    build: BuildOutcome | None = None
    #: ``--no-typecheck``, when the default build fails: the compiled run uses it then
    unchecked: BuildOutcome | None = None
    runs: dict[str, RunOutcome] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def check_app(app: CorpusApp, runners: list[str], work: Path) -> AppStatus:
    status = AppStatus(app)
    status.build = build(app, work / "build")
    if status.build.status != "builds":
        status.unchecked = build(app, work / "build-no-typecheck", typecheck=False)
    worker = next(
        (b.worker for b in (status.build, status.unchecked) if b and b.status == "builds"), None
    )
    for name in runners:
        if name == "compiled":
            if worker is None:
                continue
            runner = compiled(worker)
            expected = None
        elif name == "uncompiled":
            runner = uncompiled()
            expected = None
        else:
            if app.faust_skip:
                status.skipped[name] = app.faust_skip
                continue
            runner = faust_streaming(faust_streaming_python())
            expected = app.faust_expected
        status.runs[name] = run_app(app, runner, work / name, expected)
    return status


def build_cell(outcome: BuildOutcome | None) -> str:
    if outcome is None:
        return "-"
    if outcome.status == "builds":
        return "builds"
    if outcome.status == "crash":
        return "**crash**"
    return f"{outcome.code or 'error'}"


def run_cell(status: AppStatus, runner: str) -> str:
    if runner in status.skipped:
        return "skip"
    outcome = status.runs.get(runner)
    if outcome is None:
        return "-"
    mark = {"pass": "pass", "wrong": "**wrong**", "error": "**error**"}[outcome.status]
    if runner == "compiled" and status.build and status.build.status != "builds":
        mark += " (unchecked)"
    return mark + (" (-A)" if "-A module" in outcome.note and outcome.status == "pass" else "")


def details(status: AppStatus) -> list[str]:
    """The exact causes behind every cell that is not a pass."""
    lines: list[str] = []
    built = status.build
    if built is not None and built.status == "diagnostic":
        more = f" (+{built.errors - 1} more)" if built.errors > 1 else ""
        lines.append(f"- build: compiler rejection `{built.message}` [{built.code}]{more}")
    elif built is not None and built.status == "crash":
        lines.append(f"- build: compiler crash: `{built.message}`")
    if built is not None and built.status == "builds":
        lines.append(f"- build: {_fused(built)}")
    unchecked = status.unchecked
    if unchecked is not None:
        if unchecked.status == "builds":
            lines.append(
                f"- build --no-typecheck: builds, {_fused(unchecked)} "
                "(the compiled run uses this worker)"
            )
        elif unchecked.status == "diagnostic":
            more = f" (+{unchecked.errors - 1} more)" if unchecked.errors > 1 else ""
            lines.append(
                f"- build --no-typecheck: compiler rejection `{unchecked.message}` "
                f"[{unchecked.code}]{more}"
            )
        else:
            lines.append(f"- build --no-typecheck: compiler crash: `{unchecked.message}`")
    for runner, outcome in status.runs.items():
        if outcome.ok:
            if outcome.note:
                lines.append(f"- {runner}: passes; {outcome.note}")
            continue
        if outcome.status == "error":
            lines.append(
                f"- {runner}: worker stopped ({classify(outcome.cause)}): `{outcome.cause}`"
            )
        else:
            cause = f"; {outcome.cause}" if outcome.cause else ""
            lines.append(f"- {runner}: wrong output{cause}")
        lines.extend(
            f"  - {line}" for line in outcome.diff[: 2 if outcome.status == "error" else 6]
        )
        if outcome.note:
            lines.append(f"  - note: {outcome.note}")
    for runner, why in status.skipped.items():
        lines.append(f"- {runner}: not run: {why}")
    if status.app.faust_why and "faust-streaming" in status.runs:
        lines.append(f"- faust-streaming differs on purpose: {status.app.faust_why}")
    return lines


def _fused(outcome: BuildOutcome) -> str:
    if outcome.fused is None:
        return "agents fused: ?"
    said = f"{outcome.fused} agent{'' if outcome.fused == 1 else 's'} fused"
    if outcome.fused == 0 and "[FC115]" in outcome.output:
        said += " (its agents run uncompiled: FC115 warning)"
    return said


def classify(cause: str) -> str:
    surface = (
        "AttributeError",
        "ImportError",
        "ModuleNotFoundError",
        "unknown App setting",
        "unexpected keyword",
        "has no attribute",
        "cannot import",
        "not supported",
    )
    if any(word in cause for word in surface):
        return "missing runtime surface"
    return "run error"


def render(statuses: list[AppStatus], runners: list[str], seconds: float) -> str:
    faust = ""
    if "faust-streaming" in runners:
        try:
            faust = f"faust-streaming {installed_version()}; "
        except OSError:
            faust = ""
    head = ["app", "constructs", "faustc build", "--no-typecheck", *runners]
    rows = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for s in statuses:
        constructs = "; ".join(s.app.constructs[:4]) + (" ..." if len(s.app.constructs) > 4 else "")
        cells = [f"`{s.app.name}`", constructs, build_cell(s.build), build_cell(s.unchecked)]
        cells += [run_cell(s, r) for r in runners]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    builds = sum(1 for s in statuses if s.build and s.build.status == "builds")
    unchecked = builds + sum(1 for s in statuses if s.unchecked and s.unchecked.status == "builds")
    counts = []
    for runner in runners:
        passed = sum(1 for s in statuses if runner in s.runs and s.runs[runner].ok)
        counts.append(f"{runner} pass {passed}/{len(statuses)}")
    timings = [_timing("faustc build", [s.build.seconds for s in statuses if s.build])]
    for runner in runners:
        runs = [s.runs[runner] for s in statuses if runner in s.runs]
        timings.append(_timing(f"{runner} passing runs", [r.seconds for r in runs if r.ok]))
    out = [
        "# faustc on the compatibility corpus",
        "",
        f"Generated by `python tests/compat/status.py` ({faust}{len(statuses)} apps, "
        f"{seconds / 60:.1f} min). Builds: {builds}/{len(statuses)} "
        f"({unchecked}/{len(statuses)} with --no-typecheck); " + "; ".join(counts) + ".",
        "",
        "A build cell is `builds` or the code of the first diagnostic of `faustc build` "
        "(mypy findings are FC200); `--no-typecheck` is shown when the default build fails, "
        "and the compiled run then uses that worker (marked unchecked). A run is `pass`, "
        "`wrong` (the worker ran, its outputs differ from the spec) or `error` (the worker "
        "stopped); `-A`: the app has no `app.main()` and ran as "
        "`python -m faust -A module worker`; `-`: not run. The faust-streaming column "
        "checks each spec against the real Faust.",
        "",
        "Seconds per app (median / max): " + "; ".join(timings) + ".",
        "",
        *rows,
        "",
        "## Why each cell is not a pass",
        "",
    ]
    for s in statuses:
        lines = details(s)
        if lines:
            out += [f"### `{s.app.name}`: {s.app.summary}", "", *lines, ""]
    return "\n".join(out) + "\n"


def _timing(what: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{what} -"
    return f"{what} {statistics.median(seconds):.0f} / {max(seconds):.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="*", help="corpus app names (default: all)")
    parser.add_argument("--runners", default=",".join(RUNNERS))
    parser.add_argument("--jobs", type=int, default=1, help="apps checked at the same time")
    parser.add_argument("--out", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    runners = [r for r in args.runners.split(",") if r]
    unknown = set(runners) - set(RUNNERS)
    if unknown:
        parser.error(f"unknown runner {', '.join(unknown)}")
    apps = load_corpus(args.apps or None)
    if "faust-streaming" in runners:
        faust_streaming_python()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="compat-") as tmp:

        def one(app: CorpusApp) -> AppStatus:
            status = check_app(app, runners, Path(tmp) / app.name)
            cells = [build_cell(status.build), build_cell(status.unchecked)]
            cells += [run_cell(status, r) for r in runners]
            took = ", ".join(f"{r} {o.seconds:.0f}s" for r, o in status.runs.items())
            print(f"{app.name}: " + " | ".join(cells) + f"   ({took})", flush=True)
            for line in details(status):
                print("    " + line, flush=True)
            return status

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            statuses = list(pool.map(one, apps))
    report = render(statuses, runners, time.monotonic() - started)
    out = args.out or (HERE / "STATUS.md" if not args.apps else None)
    if out is not None:
        out.write_text(report)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
