"""The compiler's layout shows its phases: no import cycles, no private names across modules.

Every module of ``faustc`` is read with ``ast``; an import of another ``faustc`` module is an
edge. The graph must be acyclic (a phase never needs a later one), nothing may import a
name starting with ``_`` from another module, and the runtime (``faust``) never imports the
compiler; a built worker imports no optional dependency its app does not use.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from conftest import REPO

COMPILER = REPO / "compiler" / "faustc"
RUNTIME = REPO / "runtime" / "faust"


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import in ``path`` (names empty for ``import x``)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p, COMPILER, "faustc"): p for p in COMPILER.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported, names in _imports(path):
            targets = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in modules]
            targets = targets or ([imported] if imported in modules else [])
            graph[name].update(t for t in targets if t != name)
    return graph


def test_the_compiler_modules_import_each_other_without_a_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise AssertionError(f"import cycle: {cycle}")
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_module_imports_a_private_name_of_another() -> None:
    offenders = [
        f"{path.relative_to(REPO)}: from {module} import {name}"
        for root in (COMPILER, RUNTIME)
        for path in root.rglob("*.py")
        for module, names in _imports(path)
        if module.split(".")[0] in ("faust", "faustc")
        for name in names
        if name.startswith("_") and name != "__version__"
    ]
    assert offenders == []


def test_the_runtime_never_imports_the_compiler() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in RUNTIME.rglob("*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] == "faustc"
    ]
    assert offenders == []


#: what a built worker must not import unless the app uses it (each costs the worker's
#: memory: bench/README.md, "What the windowed worker holds"): Avro's fastavro, a crontab's
#: croniter, the web server's aiohttp and prometheus-client (with the web server off), and
#: the compiler's own dependencies
WORKER_NEVER_IMPORTS = (
    "fastavro",
    "croniter",
    "dateutil",
    "aiohttp",
    "prometheus_client",
    "faustc",
    "libcst",
    "mypy",
    "jinja2",
)


def printed_by(script: str) -> list[str]:
    """The words ``script`` prints, run in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()


def test_a_json_worker_without_web_server_imports_only_what_it_uses() -> None:
    # what a built worker of a JSON app imports (the generated module's own imports, the
    # worker and its command line), in a fresh interpreter
    script = (
        "import sys\n"
        "import faust, faust.compiled, faust.worker.cli, faust.worker.worker, faust.cli.main\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    loaded = printed_by(script)
    assert [name for name in WORKER_NEVER_IMPORTS if name in loaded] == []
    assert "faust" in loaded and "confluent_kafka" in loaded  # (the check itself works)


def test_avro_and_crontab_still_import_what_they_need_on_first_use() -> None:
    script = (
        "import sys\n"
        "from faust.cron import CronSchedule\n"
        "from faust.serializers import avro\n"
        "before = {m.split('.')[0] for m in sys.modules}\n"
        "CronSchedule.parse('*/5 * * * *')\n"
        "assert avro.avro_type(int).schema_text == '\"long\"', avro.avro_type(int).schema_text\n"
        "after = {m.split('.')[0] for m in sys.modules}\n"
        "print(' '.join(sorted(after - before)))\n"
    )
    loaded = printed_by(script)
    assert {"croniter", "fastavro"} <= set(loaded)
