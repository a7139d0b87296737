"""The front IR validator: the invariants every later pass relies on.

A broken invariant is a bug in faustc, not in the user's program, so it raises
:class:`IRError` (an internal error, exit 2). The build runs it on every IR it reads, so
every test that builds a worker validates one. Example::

    validate_ir(read_module(SourceFile.load(Path("examples/wordcount.py"))))   # None
"""

from __future__ import annotations

from faustc.front.ir import BOUNDARIES, AppModule, FieldRef, GroupBy


class IRError(AssertionError):
    """The IR breaks an invariant: a bug in faustc, not in the user's program."""


def validate_ir(module: AppModule) -> None:
    """Raise IRError when ``module`` breaks an invariant of the IR."""
    topic_vars = [topic.var for topic in module.topics]
    _unique("topic variable", topic_vars)
    _unique("table name", [table.name for table in module.tables])
    _unique("agent", [agent.qualified_name for agent in module.agents])
    _unique("record", [record.name for record in module.records])
    for agent in module.agents:
        if agent.topic_var not in topic_vars:
            raise IRError(f"agent {agent.name} consumes unknown topic variable {agent.topic_var}")
        if agent.kind not in ("agent", "task"):
            raise IRError(f"agent {agent.name} has kind {agent.kind}")
        if agent.kind == "task" and agent.param:
            raise IRError(f"task {agent.name} has a stream parameter")
        if agent.loop.terminal.kind not in ("values", "items", "events", "enumerate", "take"):
            raise IRError(f"agent {agent.name} has loop mode {agent.loop.terminal.kind}")
        if (agent.loop.terminal.kind == "take") != (agent.loop.terminal.max_ is not None):
            raise IRError(f"agent {agent.name}: take without max_ or max_ without take")
        if not set(agent.globals_used) <= module.module_names:
            raise IRError(f"agent {agent.name} imports names the module does not define")
        if agent.concurrency < 1:
            raise IRError(f"agent {agent.name} has concurrency {agent.concurrency}")
        kinds = [operation.kind for operation in agent.loop.operations]
        if agent.concurrency > 1 and any(kind in BOUNDARIES for kind in kinds):
            raise IRError(f"agent {agent.name}: a stage boundary with concurrency > 1")
        for operation in agent.loop.operations:
            function = getattr(operation, "function", None)
            if isinstance(operation, GroupBy) and not isinstance(operation.key, FieldRef):
                function = operation.key
            if function is not None and (function.kind == "lambda") != (function.param is not None):
                raise IRError(f"agent {agent.name}: lambda without parameter or vice versa")
        spans = [agent.span, agent.loop.span, *(op.span for op in agent.loop.operations)]
        for span in spans:
            if span.line < 1 or span.end_line < span.line or span.column < 1:
                raise IRError(f"agent {agent.name} has an invalid span {span}")
    for topic in module.topics:
        if not topic.names:
            raise IRError(f"topic {topic.var} has no name")
    for timer in module.timers:
        if (timer.interval is None) == (timer.cron is None):
            raise IRError(f"timer {timer.name} needs exactly one of interval and cron")


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IRError(f"duplicate {what} {name!r} in the IR")
        seen.add(name)
