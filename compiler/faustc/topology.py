"""The dataflow of an app: sources, stages, repartition topics, tables, sinks, timers.

``build_topology(module)`` turns the IR into a small graph; ``render_text``,
``render_mermaid`` and ``render_dot`` are pure renderers; ``render_svg`` runs Graphviz's
``dot`` when it is installed. Example::

    graph = build_topology(read_module(SourceFile.load(Path("examples/wordcount.py"))))
    print(render_mermaid(graph))
    # flowchart LR
    #   topic_words[/"words"/] --> agent_wordcount_count_words["agent wordcount.count_words"]
    #   ...

Internal topic names follow the rules of ``faust.contract``: a ``group_by`` repartition topic is
``<agent name>-<topic>-<name>-repartition``, a table's changelog ``<app id>-<table>-changelog``.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

from faust.contract import repartition_topic_name
from faustc.front.ir import AppModule, Echo, GroupBy, Through, TopicRef


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str  # topic | internal | agent | task | table | changelog | timer | sink
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str


@dataclasses.dataclass(frozen=True, slots=True)
class Topology:
    app_id: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _id(kind: str, name: str) -> str:
    return f"{kind}_" + "".join(c if c.isalnum() else "_" for c in name)


def build_topology(module: AppModule) -> Topology:
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    def node(kind: str, name: str, label: str | None = None) -> str:
        identifier = _id(kind, name)
        nodes.setdefault(identifier, Node(identifier, kind, label or name))
        return identifier

    def edge(source: str, target: str, label: str = "") -> None:
        if Edge(source, target, label) not in edges:
            edges.append(Edge(source, target, label))

    topic_names = {topic.var: topic.names[0] for topic in module.topics}
    internal_names: set[str] = set()

    def topic_node(ref_name: str) -> str:
        kind = "internal" if ref_name in internal_names else "topic"
        return node(kind, ref_name)

    table_names = {table.var: table.name for table in module.tables}
    for agent in module.agents:
        this = node(agent.kind, agent.qualified_name, f"{agent.kind} {agent.qualified_name}")
        current = topic_names[agent.topic_var]
        edge(topic_node(current), this, "consumes")
        stage = 1
        for operation in agent.loop.operations:
            if isinstance(operation, Echo):
                for ref in operation.topics:
                    edge(this, topic_node(_name(ref, topic_names)), "echo")
            if isinstance(operation, GroupBy | Through):
                if isinstance(operation, GroupBy):
                    current = repartition_topic_name(agent.qualified_name, current, operation.name)
                    internal_names.add(current)
                    label = f"stage {stage}: group_by"
                else:
                    current = _name(operation.topic, topic_names)
                    label = f"stage {stage}: through"
                target = topic_node(current)
                edge(this, target, label)
                edge(target, this, f"stage {stage + 1}")
                stage += 1
        sent = set(agent.topics_named) - {agent.topic_var}
        for var in sorted(sent):
            edge(this, topic_node(topic_names[var]), "sends")
        for sink in agent.sinks:
            if sink.kind == "topic":
                edge(this, topic_node(topic_names[sink.text]), "sink")
            else:
                edge(this, node("sink", sink.text, f"{sink.kind} {sink.text}"), "sink")
        for var in agent.tables_named:
            edge(this, node("table", table_names[var], f"table {table_names[var]}"), "table")
    for task in module.tasks:
        this = node("task", task.name, f"task {task.name}")
        for var in task.topics_named:
            edge(this, topic_node(topic_names[var]), "sends")
        for var in task.tables_named:
            edge(this, node("table", table_names[var], f"table {table_names[var]}"), "table")
    for table in module.tables:
        this = node("table", table.name, f"table {table.name}")
        changelog = table.changelog(module.app.app_id)
        edge(this, node("changelog", changelog), "changelog")
    for timer in module.timers:
        when = f"every {timer.interval}s" if timer.cron is None else f"cron {timer.cron}"
        node("timer", timer.name, f"timer {timer.name} ({when})")
    return Topology(module.app.app_id, tuple(nodes.values()), tuple(edges))


def _name(ref: TopicRef, topic_names: dict[str, str]) -> str:
    if ref.var is not None:
        return topic_names[ref.var]
    assert ref.name is not None
    return ref.name


def render_text(graph: Topology) -> str:
    labels = {node.id: node.label for node in graph.nodes}
    lines = [f"app {graph.app_id}"]
    sections = [
        ("topics", ("topic",)),
        ("agents and tasks", ("agent", "task")),
        ("internal topics", ("internal",)),
        ("tables", ("table",)),
        ("changelogs", ("changelog",)),
        ("sinks", ("sink",)),
        ("timers", ("timer",)),
    ]
    for title, wanted in sections:
        members = [node for node in graph.nodes if node.kind in wanted]
        if not members:
            continue
        lines.append(f"{title}:")
        for member in members:
            lines.append(f"  {member.label}")
            for edge in graph.edges:
                if edge.source == member.id:
                    arrow = f" --{edge.label}--> " if edge.label else " --> "
                    lines.append(f"    {arrow.strip()} {labels[edge.target]}")
    return "\n".join(lines) + "\n"


_MERMAID_SHAPES = {
    "topic": ('[/"', '"/]'),
    "internal": ('[/"', '"/]'),
    "changelog": ('[/"', '"/]'),
    "agent": ('["', '"]'),
    "task": ('["', '"]'),
    "table": ('[("', '")]'),
    "timer": ('(["', '"])'),
    "sink": ('>"', '"]'),
}


def render_mermaid(graph: Topology) -> str:
    lines = ["flowchart LR"]
    for node in graph.nodes:
        left, right = _MERMAID_SHAPES[node.kind]
        label = node.label.replace('"', "'")
        lines.append(f"  {node.id}{left}{label}{right}")
    for edge in graph.edges:
        arrow = f"-- {edge.label} -->" if edge.label else "-->"
        lines.append(f"  {edge.source} {arrow} {edge.target}")
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {
    "topic": "parallelogram",
    "internal": "parallelogram",
    "changelog": "parallelogram",
    "agent": "box",
    "task": "box",
    "table": "cylinder",
    "timer": "ellipse",
    "sink": "cds",
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(graph: Topology) -> str:
    lines = [f"digraph {_quote(graph.app_id)} {{", "  rankdir=LR;"]
    for node in graph.nodes:
        style = ', style="dashed"' if node.kind in ("internal", "changelog") else ""
        lines.append(
            f"  {node.id} [label={_quote(node.label)}, shape={_DOT_SHAPES[node.kind]}{style}];"
        )
    for edge in graph.edges:
        label = f" [label={_quote(edge.label)}]" if edge.label else ""
        lines.append(f"  {edge.source} -> {edge.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


class GraphvizMissing(RuntimeError):
    """``dot`` is not installed: SVG output is not available."""


def render_svg(graph: Topology) -> str:
    """The DOT graph laid out by Graphviz (``dot -Tsvg``)."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(
            "SVG needs Graphviz's `dot` (e.g. `apt-get install graphviz`); "
            "use --format dot or --format mermaid instead"
        )
    result = subprocess.run(
        [dot, "-Tsvg"], input=render_dot(graph), capture_output=True, text=True, check=True
    )
    return result.stdout
