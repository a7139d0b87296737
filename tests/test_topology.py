"""``faustc topology``: the dataflow as text, Mermaid, DOT (and SVG with Graphviz)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from faustc.front.reader import read_module
from faustc.front.validate import validate_ir
from faustc.source import SourceFile
from faustc.topology import build_topology, render_dot, render_mermaid, render_text

APPS = Path(__file__).parent / "apps"


def topology_of(path: Path):  # type: ignore[no-untyped-def]
    module = read_module(SourceFile.load(path))
    validate_ir(module)
    return build_topology(module)


def test_stages_tables_sinks_and_changelogs_are_edges() -> None:
    graph = topology_of(APPS / "stages.py")
    labels = {node.id: node.label for node in graph.nodes}
    edges = {(labels[e.source], e.label, labels[e.target]) for e in graph.edges}
    repartition = "stages.per_account-payments-Payment.account-repartition"
    assert ("payments", "consumes", "agent stages.per_account") in edges
    assert ("agent stages.per_account", "stage 1: group_by", repartition) in edges
    assert (repartition, "stage 2", "agent stages.per_account") in edges
    assert ("agent stages.mirrored", "stage 1: through", "payments-mirror") in edges
    assert ("agent stages.batched", "echo", "echoed") in edges
    assert ("agent stages.batched", "sink", "audit") in edges
    assert ("agent stages.batched", "sink", "async audit_sink") in edges
    assert ("agent stages.per_account", "table", "table account-totals") in edges
    assert ("table account-totals", "changelog", "stages-account-totals-changelog") in edges
    assert ("payments", "consumes", "task stages.small_payments") in edges
    kinds = {node.label: node.kind for node in graph.nodes}
    assert kinds[repartition] == "internal"


def test_timers_and_crontabs_are_shown() -> None:
    text = render_text(topology_of(EXAMPLES / "order_batches.py"))
    assert "timer report_progress (every 5.0s)" in text
    assert "timer hourly_report (cron 0 * * * *)" in text
    assert "--sink--> batch-totals" in text


def test_mermaid_and_dot_are_well_formed() -> None:
    graph = topology_of(EXAMPLES / "withdrawals.py")
    mermaid = render_mermaid(graph)
    assert mermaid.startswith("flowchart LR\n")
    assert 'topic_withdrawals[/"withdrawals"/]' in mermaid
    assert "-- stage 1: group_by -->" in mermaid
    dot = render_dot(graph)
    assert dot.startswith('digraph "withdrawals" {') and dot.rstrip().endswith("}")
    assert dot.count("->") == len(graph.edges)
    if shutil.which("dot"):
        checked = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
        assert checked.returncode == 0 and "<svg" in checked.stdout


def run_faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=REPO
    )


def test_cli_topology(tmp_path: Path) -> None:
    result = run_faustc("topology", "examples/withdrawals.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("app withdrawals\n")
    out = tmp_path / "graph.dot"
    result = run_faustc("topology", "examples/withdrawals.py", "-f", "dot", "-o", str(out))
    assert result.returncode == 0 and out.read_text().startswith("digraph")
    result = run_faustc("topology", "examples/withdrawals.py", "-f", "svg")
    if shutil.which("dot") is None:
        assert result.returncode == 1
        assert "Graphviz" in result.stderr and "Traceback" not in result.stderr
    else:
        assert result.returncode == 0 and "<svg" in result.stdout
    result = run_faustc("topology", "examples/withdrawals.py", "-f", "png")
    assert result.returncode == 1 and "unknown format" in result.stderr


@pytest.mark.parametrize("case", ["unknown_topic.py", "syntax_error.py"])
def test_cli_topology_of_a_broken_app_is_diagnostics(case: str) -> None:
    result = run_faustc("topology", f"tests/diagnostics/{case}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "error:" in result.stderr
