"""Plan a worker: decide, for each agent, the exact code of its fused loop.

The plan is what the templates render, with every decision already made: which names the
generated code uses (never one the user's function uses), whether keys are decoded, which
lambdas are inlined and how. Example: for ``stream.filter(lambda o: o.amount > 1000)`` the
plan holds the operation code ``if not (value.amount > 1000):\\n    continue``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, ScopeProvider

from faustc import __version__
from faustc.ir import AgentDef, AppModule, Code, Operation
from faustc.source import SourceFile


@dataclasses.dataclass(frozen=True, slots=True)
class Names:
    """The generated code's own local names in one agent function."""

    batch: str
    message: str
    key: str
    value: str
    event: str
    result: str
    load_key: str
    load_value: str
    handle_error: str
    exc: str


@dataclasses.dataclass(frozen=True, slots=True)
class OperationPlan:
    comment: str
    code: str


@dataclasses.dataclass(frozen=True, slots=True)
class AgentPlan:
    function_name: str
    qualified_name: str
    param: str
    topic_var: str
    names: Names
    decode_key: bool
    make_event: bool
    set_current_event: bool
    #: tables write to the partition of the message in hand (faust.events.current_message)
    set_current_message: bool
    hoisted: tuple[str, ...]
    prelude: Code | None
    operations: tuple[OperationPlan, ...]
    target: str
    target_value: str
    body: Code
    postlude: Code | None
    line: int
    loop_line: int


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerPlan:
    version: str
    display_name: str
    module: str
    import_root: str
    sha256: str
    app_var: str
    app_id: str
    user_imports: tuple[str, ...]
    needs_events: bool
    needs_current_message: bool
    needs_isawaitable: bool
    agents: tuple[AgentPlan, ...]


INTERNAL_NAMES = (
    "batch",
    "message",
    "key",
    "value",
    "event",
    "result",
    "load_key",
    "load_value",
    "handle_error",
    "exc",
)


def plan_worker(module: AppModule, source: SourceFile, out_dir: Path) -> WorkerPlan:
    """Everything the worker template needs to render ``module``'s worker into ``out_dir``."""
    agents = tuple(plan_agent(module, agent) for agent in module.agents)
    user_imports = {module.app.var}
    for agent in module.agents:
        user_imports.add(agent.topic_var)
        user_imports.update(agent.globals_used)
    import_root = Path(os.path.relpath(source.import_root.resolve(), out_dir.resolve())).as_posix()
    return WorkerPlan(
        version=__version__,
        display_name=module.display_name,
        module=module.module,
        import_root=import_root,
        sha256=source.sha256,
        app_var=module.app.var,
        app_id=module.app.app_id,
        user_imports=tuple(sorted(user_imports)),
        needs_events=any(agent.make_event for agent in agents),
        needs_current_message=any(agent.set_current_message for agent in agents),
        needs_isawaitable=any(
            op.function.kind == "callable"
            for agent in module.agents
            for op in agent.loop.operations
        ),
        agents=agents,
    )


def plan_agent(module: AppModule, agent: AgentDef) -> AgentPlan:
    taken = set(agent.names_used) | set(module.module_names)
    names = Names(*(_fresh(base, taken) for base in INTERNAL_NAMES))
    loop = agent.loop
    topic = module.topic(agent.topic_var)
    make_event = loop.mode == "events" or agent.uses_current_event
    # Keys are decoded when used, and whenever decoding could fail (so a bad key meets the
    # error policy exactly as it does in the uncompiled runtime).
    key_cannot_fail = topic.key_type in (None, "bytes")
    decode_key = loop.mode in ("items", "events") or make_event or not key_cannot_fail
    hoisted: list[str] = []
    operations = []
    for index, operation in enumerate(loop.operations, start=1):
        operations.append(_plan_operation(module, operation, index, names, hoisted, taken))
    target_value = {
        "values": names.value,
        "items": f"{names.key}, {names.value}",
        "events": names.event,
    }[loop.mode]
    return AgentPlan(
        function_name=_fresh(f"fused_{agent.name}", set(module.module_names)),
        qualified_name=agent.qualified_name,
        param=agent.param,
        topic_var=agent.topic_var,
        names=names,
        decode_key=decode_key,
        make_event=make_event,
        set_current_event=agent.uses_current_event,
        # Any code the agent calls may reach a table, so every agent of an app that
        # declares one marks its message (one cheap call per message).
        set_current_message=bool(module.tables),
        hoisted=tuple(hoisted),
        prelude=agent.prelude,
        operations=tuple(operations),
        target=loop.target,
        target_value=target_value,
        body=loop.body,
        postlude=agent.postlude,
        line=agent.span.line,
        loop_line=loop.span.line,
    )


def _plan_operation(
    module: AppModule,
    operation: Operation,
    index: int,
    names: Names,
    hoisted: list[str],
    taken: set[str],
) -> OperationPlan:
    function = operation.function
    value = names.value
    comment = f"# {module.display_name}:{operation.span.line}  .{operation.kind}({function.text})"
    if function.kind == "lambda":
        assert function.param is not None and function.body is not None
        expression = inline_lambda(function.param, function.body, value)
        call = expression
    elif function.kind == "sync":
        call = f"{function.text}({value})"
    elif function.kind == "async":
        call = f"await {function.text}({value})"
    else:
        hoisted_name = _fresh(f"{operation.kind}_{index}", taken)
        hoisted.append(f"{hoisted_name} = {function.text}")
        result = names.result if operation.kind == "filter" else value
        code = (
            f"{result} = {hoisted_name}({value})\n"
            f"if isawaitable({result}):\n"
            f"    {result} = await {result}\n"
        )
        if operation.kind == "filter":
            code += f"if not {result}:\n    continue\n"
        return OperationPlan(comment, code)
    if operation.kind == "filter":
        return OperationPlan(comment, f"if not ({call}):\n    continue\n")
    return OperationPlan(comment, f"{value} = {call}\n")


def _fresh(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken (and mark it taken)."""
    name, counter = base, 1
    while name in taken:
        counter += 1
        name = f"{base}_{counter}"
    taken.add(name)
    return name


class _Rename(cst.CSTTransformer):
    def __init__(self, nodes: set[cst.Name], new_name: str) -> None:
        self.nodes = nodes
        self.new_name = new_name

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if original_node in self.nodes:
            return updated_node.with_changes(value=self.new_name)
        return updated_node


def inline_lambda(param: str, body: str, replacement: str) -> str:
    """``body`` of ``lambda param: body`` with every reference to ``param`` (scope-aware: a
    nested lambda or comprehension that rebinds the name keeps its own) replaced."""
    module = cst.parse_module(f"(lambda {param}: {body})\n")
    wrapper = MetadataWrapper(module)
    scopes = wrapper.resolve(ScopeProvider)
    statement = wrapper.module.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    expression = statement.body[0]
    assert isinstance(expression, cst.Expr) and isinstance(expression.value, cst.Lambda)
    lambda_node = expression.value
    scope = scopes[lambda_node.body]
    assert scope is not None
    references: set[cst.Name] = set()
    for assignment in scope.assignments[param]:
        for access in assignment.references:
            if isinstance(access.node, cst.Name):
                references.add(access.node)
    renamed = lambda_node.body.visit(_Rename(references, replacement))
    assert isinstance(renamed, cst.BaseExpression)
    return wrapper.module.code_for_node(renamed)
