"""Build the plan of a worker from the front IR: agents split into stages of typed steps.

This is the plain plan: every send goes through the topic's own ``send_soon``, every key
that is decoded is decoded message by message, every value is decoded into its Record.
The passes (``faustc.plan.passes``) then make it fast, each decision a field they set.
Example::

    plan = build_plan(module, records, codecs, source, Path("build"))
    plan.agents[0].stages[0].steps      # (Filter(line=15, apply=Inline("value.amount >= BIG")),
                                        #  Map(line=15, apply=CallFunction("to_big_order", ...)))

An agent with a ``group_by`` or ``through`` has several stages; its fused function gets the
batches of every stage's topic (one topic per batch) and runs the stage they belong to.
Stage 1 ends by sending to the repartition topic; the last stage runs the loop body.
"""

from __future__ import annotations

import os
from pathlib import Path

import libcst as cst

from faust import compiled
from faust.contract import changes_value, repartition_topic_name
from faustc import __version__
from faustc.codecs.model import CodecsPlan
from faustc.front.ir import (
    BOUNDARIES,
    AgentDef,
    AppModule,
    FieldRef,
    Function,
    StreamOperation,
    TopicRef,
)
from faustc.front.ir import Echo as EchoOp
from faustc.front.ir import Filter as FilterOp
from faustc.front.ir import GroupBy as GroupByOp
from faustc.front.ir import Map as MapOp
from faustc.front.ir import Processor as ProcessorOp
from faustc.front.ir import RateLimit as RateLimitOp
from faustc.front.ir import Through as ThroughOp
from faustc.front.syntax import SyntaxTree
from faustc.plan.analysis import (
    inline_call,
    inline_lambda,
    lambda_use,
    module_state_renames,
    names_bound,
    record_built,
    target_use,
)
from faustc.plan.model import (
    LOCAL_NAMES,
    AgentPlan,
    AgentTopic,
    Apply,
    CallBound,
    CallFunction,
    Decode,
    DerivedTopic,
    Echo,
    Filter,
    Inline,
    InternalTopic,
    KeyDecode,
    LocalName,
    Locals,
    Map,
    MessageHeaders,
    MessageValue,
    NoAck,
    RateLimit,
    Repartition,
    RepartitionTopic,
    Send,
    Stage,
    Step,
    Terminal,
    Through,
    ValueUse,
    WorkerPlan,
)
from faustc.plan.names import fresh, identifier
from faustc.plan.observers import lambda_reads
from faustc.plan.rewrite import UserCodeRewriter
from faustc.source import SourceFile
from faustc.types import RecordInfo, topic_codec, wants_headers

#: module-level names the worker module defines or imports itself (the internal topics'
#: variables are never one of them)
WORKER_GLOBALS = frozenset(compiled.__all__) | {
    "sys",
    "Path",
    "Any",
    "Callable",
    "isawaitable",
    "sleep",
    "monotonic",
    "msgspec",
    "app_module",
    "SOURCE_SHA256",
    "SOURCE_LINES",
    "COMPILED_AGENTS",
}


def build_plan(
    module: AppModule,
    records: dict[str, RecordInfo],
    codecs: CodecsPlan | None,
    source: SourceFile,
    out_dir: Path,
) -> WorkerPlan:
    """The plain plan of ``module``'s worker, to be written into ``out_dir``."""
    taken_globals = set(module.module_names) | WORKER_GLOBALS
    consumed = {agent.topic_var for agent in module.agents}
    # the agents' own topics first: a repartition topic may be named after one
    internal: list[InternalTopic] = [
        AgentTopic(topic.var, topic.agent, topic.names[0])
        for topic in module.topics
        if topic.agent is not None and topic.var in consumed
    ]
    agents = tuple(
        _AgentBuilder(module, records, agent, internal, taken_globals).build()
        for agent in module.agents
    )
    user_imports = {module.app.var}
    user_imports.update(topic.agent for topic in internal if isinstance(topic, AgentTopic))
    for agent in module.agents:
        user_imports.add(agent.topic_var)
        value_type = stream_value_type(module, agent)
        if value_type is not None:
            user_imports.add(value_type)
        user_imports.update(agent.globals_used)
        if agent.yields:
            user_imports.add(agent.name)
        for operation in agent.loop.operations:
            if isinstance(operation, GroupByOp) and isinstance(operation.key, FieldRef):
                user_imports.add(operation.key.record)
    import_root = Path(os.path.relpath(source.import_root.resolve(), out_dir.resolve())).as_posix()
    return WorkerPlan(
        version=__version__,
        display_name=module.display_name,
        module=module.module,
        import_root=import_root,
        sha256=source.sha256,
        app_var=module.app.var,
        app_id=module.app.app_id,
        user_imports=tuple(sorted(user_imports & set(module.module_names))),
        internal_topics=tuple(internal),
        agents=agents,
        codecs=codecs,
    )


#: types a stream's values may have that need no import
BUILTIN_TYPES = frozenset({"str", "bytes", "int", "float", "bool"})


def stream_value_type(module: AppModule, agent: AgentDef) -> str | None:
    """The value type of the topic the agent consumes, when it is a builtin or a name the
    app module defines or imports (the worker imports it too); else None."""
    value_type = module.topic(agent.topic_var).value_type
    if value_type is None:
        return None
    name = value_type.strip()
    if name in BUILTIN_TYPES or (name.isidentifier() and name in module.module_names):
        return name
    return None


class _AgentBuilder:
    """Builds one agent's plan (see the module docstring)."""

    def __init__(
        self,
        module: AppModule,
        records: dict[str, RecordInfo],
        agent: AgentDef,
        internal: list[InternalTopic],
        taken_globals: set[str],
    ) -> None:
        assert module.syntax is not None, "the plan needs the syntax tree the reader kept"
        self.module = module
        self.syntax: SyntaxTree = module.syntax
        self.records = records
        self.agent = agent
        self.internal = internal
        self.taken_globals = taken_globals
        self.taken = set(agent.names_used) | set(module.module_names)
        self.locals = Locals(*(fresh(base, self.taken) for base in LOCAL_NAMES))
        #: the module state the agent uses, and its references: reached on the app module
        self.module_state = tuple(sorted(module.module_state & agent.names_used))
        self.state = module_state_renames(self.syntax, frozenset(self.module_state))

    # -- the agent ---------------------------------------------------------------------------

    def build(self) -> AgentPlan:
        module, agent, names = self.module, self.agent, self.locals
        loop = agent.loop
        terminal = loop.terminal.kind
        noack = any(op.kind == "noack" for op in loop.operations)
        stages = self._stages(noack)
        rebound = names_bound(agent)
        sync_sinks = all(sink.kind in ("topic", "agent", "sync") for sink in agent.sinks)
        rewriter = UserCodeRewriter(
            self.syntax,
            topics={topic.var for topic in module.topics},
            tables={table.var for table in module.tables},
            rebound=rebound,
            yields=agent.yields,
            sync_sinks=sync_sinks,
            in_take=terminal == "take",
            state=self.state,
            taken=self.taken,
        )
        prelude = rewriter.rewrite(agent.prelude, in_loop=False)
        body = rewriter.rewrite(loop.body, in_loop=True)
        assert body is not None
        postlude = rewriter.rewrite(agent.postlude, in_loop=False)
        function_name = fresh(f"fused_{agent.name}", set(module.module_names))
        param = agent.param or fresh("stream", self.taken)
        topics = {topic.var for topic in module.topics}
        return AgentPlan(
            kind=agent.kind,
            function_name=function_name,
            qualified_name=agent.qualified_name,
            agent_var=agent.name,
            param=param,
            locals=names,
            stages=stages,
            terminal=Terminal(
                terminal, loop.terminal.start, loop.terminal.max_, loop.terminal.within
            ),
            target=loop.target,
            prelude=prelude,
            body=body,
            postlude=postlude,
            line=agent.span.line,
            loop_line=loop.span.line,
            value_type=stream_value_type(module, agent),
            set_current_event=agent.uses_current_event,
            # Any code the agent calls may reach a table, so every agent of an app that
            # declares one marks its message (one cheap call per message).
            set_current_message=bool(module.tables),
            noack=noack,
            yields=agent.yields,
            sync_sinks=sync_sinks,
            taken=frozenset(self.taken),
            rebound=rebound,
            target_use=target_use(self.syntax, agent, topics - rebound),
            module_state=self.module_state,
        )

    # -- stages ------------------------------------------------------------------------------

    def _stages(self, noack: bool) -> tuple[Stage, ...]:
        module, agent = self.module, self.agent
        loop = agent.loop
        terminal = loop.terminal.kind
        # Split the chain into stages at each boundary.
        stage_ops: list[list[StreamOperation]] = [[]]
        for operation in loop.operations:
            stage_ops[-1].append(operation)
            if operation.kind in BOUNDARIES:
                stage_ops.append([])
        stages: list[Stage] = []
        current_expr = agent.topic_var
        current_name = module.topic(agent.topic_var).names[0]
        #: whether the current stage's topic has the same name in every environment
        current_fixed = module.topic(agent.topic_var).fixed
        #: (the Record, the codec) of the values the current stage consumes
        stage_value = topic_codec(module.topic(agent.topic_var), self.records, is_key=False)
        for number, operations in enumerate(stage_ops, start=1):
            last = number == len(stage_ops)
            suffix = f"_{number}" if len(stage_ops) > 1 else ""
            boundary = operations[-1] if not last else None
            steps: list[Step] = []
            for index, operation in enumerate(operations if last else operations[:-1], start=1):
                steps.append(self._step(operation, current_expr, f"{number}_{index}"))
            # as faust.streams.Stream.group_by decides: a stage without map or processor
            # sends on its messages' own value bytes (the repartition topic carries the
            # same values)
            value_changed = any(changes_value(op.kind) for op in operations)
            needs_key = False
            next_expr = next_name = ""
            next_fixed = current_fixed  # a repartition topic is named after its source
            if isinstance(boundary, GroupByOp):
                next_expr = fresh(f"{agent.name}_repartition", self.taken_globals)
                next_name = repartition_topic_name(
                    agent.qualified_name, current_name, boundary.name
                )
                self.internal.append(
                    RepartitionTopic(
                        var=next_expr,
                        name=next_name,
                        agent=agent.qualified_name,
                        source=current_expr,
                        suffix=boundary.name,
                        partitions=boundary.partitions,
                        key=boundary.key if isinstance(boundary.key, FieldRef) else None,
                        same_value_type=not value_changed,
                        line=boundary.span.line,
                    )
                )
                steps.append(self._repartition(boundary, next_expr, not value_changed))
            elif isinstance(boundary, ThroughOp):
                needs_key = True
                next_expr = self._topic_expr(boundary.topic, current_expr)
                next_name = boundary.topic.name or module.topic(next_expr).names[0]
                next_fixed = boundary.topic.name is not None or module.topic(next_expr).fixed
                names = self.locals
                send = Send(
                    next_expr,
                    key=LocalName(names.key),
                    value=LocalName(names.value),
                    headers=MessageHeaders(),
                )
                steps.append(Through(boundary.span.line, next_name, send))
            if last:
                replies = agent.yields and terminal != "take"  # a reply carries the key
                needs_key = needs_key or terminal in ("items", "events") or replies
            topic = module.topic_named(current_name)
            key_can_fail = topic is not None and topic.key_type not in (None, "bytes")
            make_event = (last and (terminal == "events" or noack)) or agent.uses_current_event
            key_used = (
                needs_key
                or make_event
                or (boundary is not None and not isinstance(boundary, GroupByOp))
            )
            key = None
            if key_used or key_can_fail:
                key = KeyDecode(
                    load=fresh(f"load_key{suffix}", self.taken),
                    used=key_used,
                    headers=topic is not None and wants_headers(self.records, topic, is_key=True),
                )
            value_local = fresh(f"load_value{suffix}", self.taken)
            decode = Decode(
                key=key,
                value_local=value_local,
                value_headers=topic is not None
                and wants_headers(self.records, topic, is_key=False),
                make_event=make_event,
            )
            record, codec = stage_value
            stages.append(
                Stage(
                    number=number,
                    topic=current_expr,
                    topic_name=current_name,
                    decode=decode,
                    steps=tuple(steps),
                    last=last,
                    record=record,
                    codec=codec,
                    name_fixed=current_fixed,
                )
            )
            if not last:
                current_expr, current_name, current_fixed = next_expr, next_name, next_fixed
                if isinstance(boundary, GroupByOp) and value_changed:
                    stage_value = (None, "json")  # faust.streams.repartition_topic
                elif isinstance(boundary, ThroughOp):
                    declared = module.topic_named(next_name)
                    if declared is not None:  # else a derived topic: the source's types
                        stage_value = topic_codec(declared, self.records, is_key=False)
        return tuple(stages)

    def _topic_expr(self, ref: TopicRef, source_expr: str) -> str:
        """The variable of a topic a chain names: a module-level one, or one the worker
        declares for ``through("name")`` (once per name)."""
        if ref.var is not None:
            return ref.var
        assert ref.name is not None
        for topic in self.internal:
            if isinstance(topic, DerivedTopic) and topic.name == ref.name:
                return topic.var
        var = fresh(f"topic_{identifier(ref.name)}", self.taken_globals)
        self.internal.append(DerivedTopic(var, ref.name, source_expr))
        return var

    # -- steps -------------------------------------------------------------------------------

    def _apply(self, function: Function, kind: str, suffix: str) -> Apply:
        """How the step applies ``function`` to the value."""
        if function.kind == "lambda":
            assert isinstance(function.node, cst.Lambda)
            found = lambda_reads(
                function.node,
                tables={table.var for table in self.module.tables},
                rebound=names_bound(self.agent),
            )
            return Inline(
                inline_lambda(self.syntax, function.node, self.locals.value, self.state),
                message_read=found.why,
                builtins_called=found.builtins(),
            )
        if function.kind in ("sync", "async"):
            return CallFunction(function.text, awaited=function.kind == "async")
        return CallBound(fresh(f"{kind}_{suffix}", self.taken), function.text)

    def _step(self, operation: StreamOperation, source_expr: str, suffix: str) -> Step:
        line = operation.span.line
        if isinstance(operation, EchoOp):
            sends = tuple(
                Send(topic, value=LocalName(self.locals.value), line=line)
                for topic in (self._topic_expr(ref, source_expr) for ref in operation.topics)
            )
            return Echo(line, sends)
        if isinstance(operation, RateLimitOp):
            limiter = fresh(f"rate_limit_{suffix}", self.taken)
            return RateLimit(line, operation.rate, operation.per, limiter)
        if isinstance(operation, FilterOp):
            function = operation.function
            apply = self._apply(function, "filter", suffix)
            return Filter(line, function.text, apply, self._uses(function))
        if isinstance(operation, MapOp | ProcessorOp):
            function = operation.function
            apply = self._apply(function, operation.kind, suffix)
            builds = None
            call = None
            if isinstance(function.node, cst.Lambda) and function.kind == "lambda":
                fields = {
                    name: [f.name for f in info.fields] for name, info in self.records.items()
                }
                builds = record_built(function.node, fields)
                call = inline_call(self.syntax, function.node, self.locals.value, self.state)
            uses = self._uses(function)
            return Map(line, function.text, apply, operation.kind, uses, builds, call)
        assert operation.kind == "noack"
        return NoAck(line)

    def _uses(self, function: Function) -> ValueUse | None:
        if function.kind == "lambda" and isinstance(function.node, cst.Lambda):
            return lambda_use(self.syntax, function.node)
        return None

    def _repartition(self, operation: GroupByOp, topic: str, forward_value: bool) -> Repartition:
        names = self.locals
        key: FieldRef | Apply
        if isinstance(operation.key, FieldRef):
            key = operation.key
        elif operation.key.kind == "callable":
            key = CallBound(fresh("group_by_key", self.taken), operation.key.text)
        else:
            key = self._apply(operation.key, "group_by", "")
        send = Send(
            topic,
            key=LocalName(names.new_key),
            value=MessageValue() if forward_value else LocalName(names.value),
            headers=MessageHeaders(),
            # the value's own bytes cannot go through send_soon (it would encode them)
            via="send" if forward_value else "send_soon",
        )
        return Repartition(operation.span.line, key, send, forward_value)
