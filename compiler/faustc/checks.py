"""Checks over the IR: semantic rules (user errors) and the IR validator (compiler bugs).

``check_module(module)`` returns diagnostics for Faust programs that read fine but cannot
work; ``validate_ir(module)`` asserts the invariants every later pass relies on, and is run
on every IR the tests build. Example::

    diagnostics = check_module(module)     # [] for a good module
    validate_ir(module)                    # raises IRError if the reader built nonsense
"""

from __future__ import annotations

from faustc.diagnostics import Diagnostic
from faustc.ir import AppModule


class IRError(AssertionError):
    """The IR breaks an invariant: a bug in faustc, not in the user's program."""


def check_module(module: AppModule) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    return diagnostics


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
        if not agent.qualified_name.endswith(f".{agent.name}"):
            raise IRError(f"agent {agent.name} has qualified name {agent.qualified_name}")
        if agent.loop.mode not in ("values", "items", "events"):
            raise IRError(f"agent {agent.name} has loop mode {agent.loop.mode}")
        if not set(agent.globals_used) <= module.module_names:
            raise IRError(f"agent {agent.name} imports names the module does not define")
        for operation in agent.loop.operations:
            if operation.kind not in ("filter", "map"):
                raise IRError(f"agent {agent.name} has operation {operation.kind}")
            function = operation.function
            if (function.kind == "lambda") != (function.param is not None):
                raise IRError(f"agent {agent.name}: lambda without parameter or vice versa")
        spans = [agent.span, agent.loop.span, *(op.span for op in agent.loop.operations)]
        for span in spans:
            if span.line < 1 or span.end_line < span.line or span.column < 1:
                raise IRError(f"agent {agent.name} has an invalid span {span}")
    for topic in module.topics:
        if not topic.names:
            raise IRError(f"topic {topic.var} has no name")


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise IRError(f"duplicate {what} {name!r} in the IR")
        seen.add(name)
