"""Plan a worker: decide, for each agent, the exact code of its fused loop.

The plan is what the templates render, with every decision already made: which names the
generated code uses (never one the user's function uses), which keys are decoded, how each
operation is inlined, where the stages of a ``group_by``/``through`` split, which sends
become direct produces. Example: for ``stream.filter(lambda o: o.amount > 1000)`` the plan
holds the operation code ``if not (value.amount > 1000):  # app.py:12`` /
``    continue``.

An agent with a ``group_by`` or ``through`` has several stages; its fused function gets the
batches of every stage's topic (one topic per batch) and runs the stage they belong to.
Stage 1 ends by producing to the repartition topic; the last stage runs the loop body.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import libcst as cst
from libcst.metadata import (
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    ScopeProvider,
)

from faust.contract import changes_value, repartition_topic_name
from faustc import __version__
from faustc.codecs.common import snake_case
from faustc.codecs.json import json_out_ok
from faustc.codecs.model import CodecsPlan
from faustc.codecs.plan import plan_codecs
from faustc.front.ir import (
    BOUNDARIES,
    AgentDef,
    AppModule,
    Code,
    Echo,
    FieldRef,
    Filter,
    Function,
    GroupBy,
    Map,
    RateLimit,
    StreamOperation,
    Through,
    TopicRef,
)
from faustc.source import SourceFile
from faustc.types import RecordInfo, topic_codec, wants_headers


@dataclasses.dataclass(frozen=True, slots=True)
class Names:
    """The generated code's own local names in one fused function."""

    batch: str
    message: str
    key: str
    value: str
    event: str
    result: str
    handle_error: str
    exc: str
    holds: str
    buffer: str
    held: str
    deadline: str
    chunk: str
    chunk_messages: str
    index: str
    deliver: str
    pending: str
    new_key: str
    delay: str
    next_batch: str
    ending: str
    handle_chunk_error: str
    take_max: str
    take_within: str
    keys_valid: str


INTERNAL_NAMES = tuple(field.name for field in dataclasses.fields(Names))


@dataclasses.dataclass(frozen=True, slots=True)
class StagePlan:
    """One stage: the topic it consumes and the code run on each of its messages."""

    number: int
    topic_expr: str
    topic_name: str
    comment: str
    load_key: str | None
    load_value: str
    #: the key is decoded only so that one that does not decode meets the error policy:
    #: this hoisted ``Topic.keys_check()`` clears a whole batch at once, and the loop
    #: decodes keys one by one (``load_key``) only in a batch it did not clear
    check_keys: str | None
    make_event: bool
    code: str
    last: bool
    #: pass the message headers to the key/value loader (avro-confluent's header form)
    key_headers: bool = False
    value_headers: bool = False
    #: the stage reads only fields of the decoded Record before a map replaces it, so it
    #: decodes to an object with those attributes, not the Record (``fields_only=True``)
    fields_only: str | None = None
    #: ``Topic.value_decoder()``'s ``failed``: the loop calls the decoder itself (the
    #: generated one, one frame less) and turns what it raises into the loader's error
    value_failed: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class InternalTopic:
    """A topic the worker module declares: a repartition topic, or ``through("name")``."""

    var: str
    code: str
    comment: str


@dataclasses.dataclass(frozen=True, slots=True)
class AgentPlan:
    kind: str
    function_name: str
    qualified_name: str
    agent_var: str
    param: str
    names: Names
    stages: tuple[StagePlan, ...]
    set_current_event: bool
    #: tables write to the partition of the message in hand (faust.events.current_message)
    set_current_message: bool
    noack: bool
    terminal: str
    enumerate_start: str
    take_max: str | None
    take_within: str | None
    hoisted: tuple[str, ...]
    prelude: Code | None
    target: str
    target_value: str
    body: Code
    postlude: Code | None
    line: int
    loop_line: int
    #: the Record the last map builds as its JSON struct (``_plan_json_out``), if any
    sent_as_json: str | None = None
    #: the agent's code calls ``table.in_place(k, _operator.<op>, v)``
    uses_in_place: bool = False


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
    needs_rate_limit: bool
    needs_take: bool
    needs_operator: bool
    internal_topics: tuple[InternalTopic, ...]
    streams_imports: tuple[str, ...]
    agents: tuple[AgentPlan, ...]
    #: generated Record codecs (faustc.records), rendered by templates/codecs.py.j2
    codecs: CodecsPlan | None = None
    #: Records some agent builds as their JSON struct (their ``out`` codecs are rendered)
    sent_as_json: tuple[str, ...] = ()


def plan_worker(
    module: AppModule, records: dict[str, RecordInfo], source: SourceFile, out_dir: Path
) -> WorkerPlan:
    """Everything the worker template needs to render ``module``'s worker into ``out_dir``."""
    taken_globals = set(module.module_names) | {
        "sys",
        "Path",
        "Any",
        "Stream",
        "Event",
        "Message",
        "set_current_event",
        "isawaitable",
        "sleep",
        "monotonic",
        "RateLimiter",
        "repartition_topic",
        "derived_topic",
        "run_worker_cli",
        "app_module",
        "SOURCE_SHA256",
        "COMPILED_AGENTS",
    }
    internal: list[InternalTopic] = []
    codecs = plan_codecs(module, records)
    views: set[tuple[str, str]] = set()
    for record in codecs.records if codecs else ():
        if record.view:
            views.add((record.name, "json"))
        if record.avro_writer is not None and record.avro_writer.view:
            views.add((record.name, "avro"))
    coded = {record.name for record in codecs.records} if codecs else set()
    agents = tuple(
        plan_agent(module, records, agent, internal, taken_globals, views, coded)
        for agent in module.agents
    )
    user_imports = {module.app.var}
    for agent in module.agents:
        user_imports.add(agent.topic_var)
        user_imports.update(agent.globals_used)
        if agent.yields:
            user_imports.add(agent.name)
        for operation in agent.loop.operations:
            if isinstance(operation, GroupBy) and isinstance(operation.key, FieldRef):
                user_imports.add(operation.key.record)
    import_root = Path(os.path.relpath(source.import_root.resolve(), out_dir.resolve())).as_posix()
    operations = [op for agent in module.agents for op in agent.loop.operations]
    return WorkerPlan(
        version=__version__,
        display_name=module.display_name,
        module=module.module,
        import_root=import_root,
        sha256=source.sha256,
        app_var=module.app.var,
        app_id=module.app.app_id,
        user_imports=tuple(sorted(user_imports & set(module.module_names))),
        needs_events=any(stage.make_event for agent in agents for stage in agent.stages),
        needs_current_message=any(agent.set_current_message for agent in agents),
        needs_isawaitable=any(
            "isawaitable(" in line for agent in agents for line in _agent_code(agent)
        ),
        needs_rate_limit=any(isinstance(op, RateLimit) for op in operations),
        needs_take=any(agent.loop.terminal.kind == "take" for agent in module.agents),
        needs_operator=any(agent.uses_in_place for agent in agents),
        internal_topics=tuple(internal),
        streams_imports=tuple(
            name
            for name, used in (
                ("RateLimiter", any(isinstance(op, RateLimit) for op in operations)),
                ("derived_topic", any("derived_topic(" in t.code for t in internal)),
                ("repartition_topic", any("repartition_topic(" in t.code for t in internal)),
            )
            if used
        ),
        agents=agents,
        codecs=codecs,
        sent_as_json=tuple(sorted({a.sent_as_json for a in agents if a.sent_as_json})),
    )


def _agent_code(agent: AgentPlan) -> list[str]:
    return [stage.code for stage in agent.stages] + list(agent.hoisted)


def plan_agent(
    module: AppModule,
    records: dict[str, RecordInfo],
    agent: AgentDef,
    internal: list[InternalTopic],
    taken_globals: set[str],
    views: set[tuple[str, str]] | None = None,
    coded: set[str] | None = None,
) -> AgentPlan:
    taken = set(agent.names_used) | set(module.module_names)
    names = Names(*(_fresh(base, taken) for base in INTERNAL_NAMES))
    loop = agent.loop
    display = module.display_name
    hoisted: list[str] = []
    sender = _Senders(module, hoisted, taken)

    def topic_expr(ref: TopicRef, source_expr: str) -> str:
        if ref.var is not None:
            return ref.var
        assert ref.name is not None
        existing = next((t for t in internal if t.comment.endswith(f"{ref.name!r}")), None)
        if existing is not None:
            return existing.var
        var = _fresh(f"topic_{_identifier(ref.name)}", taken_globals)
        internal.append(
            InternalTopic(
                var,
                f"derived_topic({module.app.var}, {source_expr}, {_literal(ref.name)})",
                f"# the topic {ref.name!r}",
            )
        )
        return var

    noack = any(op.kind == "noack" for op in loop.operations)
    uses_event = agent.uses_current_event
    terminal = loop.terminal.kind

    #: the last map builds a Record that the body only sends and reads fields of: it is
    #: built as its JSON struct (``_<Record>Out``) instead
    sent_as_json = None
    if coded and terminal == "values" and not (noack or uses_event or agent.yields):
        sent_as_json = _record_only_sent(module, agent, records, coded)
    if sent_as_json is not None:
        sender.out_values[loop.target] = f"encode_{snake_case(sent_as_json[0])}_out"

    def make_event_of(last: bool) -> bool:
        return (last and (terminal == "events" or noack)) or uses_event

    # Split the chain into stages at each boundary.
    stage_ops: list[list[StreamOperation]] = [[]]
    for operation in loop.operations:
        stage_ops[-1].append(operation)
        if operation.kind in BOUNDARIES:
            stage_ops.append([])
    stages: list[StagePlan] = []
    current_expr = agent.topic_var
    current_name = module.topic(agent.topic_var).names[0]
    #: (the Record, the codec) of the values the current stage consumes
    stage_value: tuple[str | None, str] = topic_codec(
        module.topic(agent.topic_var), records, is_key=False
    )
    for number, operations in enumerate(stage_ops, start=1):
        last = number == len(stage_ops)
        suffix = f"_{number}" if len(stage_ops) > 1 else ""
        lines: list[str] = []
        needs_key = False
        boundary: StreamOperation | None = operations[-1] if not last else None
        # as faust.streams.Stream.group_by decides: a stage without map or processor sends
        # on its messages' own value bytes (the repartition topic carries the same values)
        value_changed = any(changes_value(op.kind) for op in operations)
        forward_value = isinstance(boundary, GroupBy) and not value_changed
        for index, operation in enumerate(operations if last else operations[:-1], start=1):
            built_as = None
            if sent_as_json is not None and operation is loop.operations[-1]:
                built_as = sent_as_json
            lines.append(
                _operation_code(
                    display,
                    operation,
                    names,
                    hoisted,
                    taken,
                    sender,
                    topic_expr,
                    current_expr,
                    f"{number}_{index}",
                    built_as,
                )
            )
        next_expr = next_name = ""
        if isinstance(boundary, GroupBy):
            next_expr = _fresh(f"{agent.name}_repartition", taken_globals)
            prefix = agent.qualified_name
            next_name = repartition_topic_name(prefix, current_name, boundary.name)
            key_type = (
                f"{boundary.key.record}.{boundary.key.field}.type"
                if isinstance(boundary.key, FieldRef)
                else "None"
            )
            internal.append(
                InternalTopic(
                    next_expr,
                    f"repartition_topic(\n    {module.app.var},\n    {_literal(prefix)},\n"
                    f"    {current_expr},\n    {_literal(boundary.name)},\n"
                    f"    partitions={boundary.partitions!r},\n    key_type={key_type},\n"
                    f"    same_value_type={not value_changed!r},\n)",
                    f"# {display}:{boundary.span.line}  the repartition topic {next_name!r}",
                )
            )
            lines.append(
                _group_by_code(
                    display, boundary, names, hoisted, taken, sender, next_expr, forward_value
                )
            )
        elif isinstance(boundary, Through):
            needs_key = True
            next_expr = topic_expr(boundary.topic, current_expr)
            next_name = boundary.topic.name or module.topic(next_expr).names[0]
            send = sender.call(
                next_expr,
                {
                    "key": names.key,
                    "value": names.value,
                    "headers": f"{names.message}.headers() or None",
                },
            )
            lines.append(
                f"# {display}:{boundary.span.line}  .through({next_name!r}): "
                f"on to the next stage\n{send}\ncontinue\n"
            )
        if last:
            replies = agent.yields and terminal != "take"  # a reply carries the request's key
            needs_key = needs_key or terminal in ("items", "events") or replies
        topic = module.topic_named(current_name)
        fields_only = None
        if not make_event_of(last):
            record, codec = stage_value
            body_ops = operations if last else operations[:-1]
            if record is not None and (record, codec) in (views or ()):
                fields_only = _fields_read_before_map(body_ops, records[record])
                if fields_only is None and last and terminal == "values" and not agent.yields:
                    fields_only = _fields_read_by_body(agent, body_ops, records[record])
                if fields_only is None and forward_value:
                    assert isinstance(boundary, GroupBy)
                    fields_only = _fields_read_before_group_by(body_ops, boundary, records[record])
        key_can_fail = topic is not None and topic.key_type not in (None, "bytes")
        make_event = make_event_of(last)
        key_used = (
            needs_key or make_event or (boundary is not None and not isinstance(boundary, GroupBy))
        )
        decode_key = key_used or key_can_fail
        stage_comment = f"# stage {number}: the messages of {current_name!r}"
        if boundary is not None:
            stage_comment += f", then .{boundary.kind}() to stage {number + 1}"
        value_headers = topic is not None and wants_headers(records, topic, is_key=False)
        stages.append(
            StagePlan(
                number=number,
                topic_expr=current_expr,
                topic_name=current_name,
                comment=stage_comment,
                load_key=_fresh(f"load_key{suffix}", taken) if decode_key else None,
                load_value=_fresh(f"load_value{suffix}", taken),
                check_keys=_fresh(f"check_keys{suffix}", taken)
                if not key_used and decode_key
                else None,
                make_event=make_event,
                code="".join(lines),
                last=last,
                fields_only=fields_only,
                key_headers=topic is not None and wants_headers(records, topic, is_key=True),
                value_headers=value_headers,
                value_failed=None if value_headers else _fresh(f"value_failed{suffix}", taken),
            )
        )
        if not last:
            current_expr, current_name = next_expr, next_name
            if isinstance(boundary, GroupBy) and not forward_value:
                stage_value = (None, "json")  # faust.streams.repartition_topic
            elif isinstance(boundary, Through):
                declared = module.topic_named(next_name)
                if declared is not None:  # else a derived topic: the source's types
                    stage_value = topic_codec(declared, records, is_key=False)
    target_value = {
        "values": names.value,
        "items": f"{names.key}, {names.value}",
        "events": names.event,
        "enumerate": f"{names.index}, {names.value}",
        "take": names.chunk,
    }[terminal]
    if agent.yields:
        hoisted.insert(0, f"{names.deliver} = {agent.name}.deliverer()")
    sync_sinks = all(sink.kind in ("topic", "agent", "sync") for sink in agent.sinks)
    rewrite = _BodyRewriter(module, agent, names, sender, sync_sinks, in_take=terminal == "take")
    prelude = rewrite.code(agent.prelude, in_loop=False)
    body = rewrite.code(loop.body, in_loop=True) or loop.body
    postlude = rewrite.code(agent.postlude, in_loop=False)
    return AgentPlan(
        sent_as_json=sent_as_json[0] if sent_as_json is not None else None,
        uses_in_place=rewrite.uses_in_place,
        kind=agent.kind,
        function_name=_fresh(f"fused_{agent.name}", set(module.module_names)),
        qualified_name=agent.qualified_name,
        agent_var=agent.name,
        param=agent.param or _fresh("stream", taken),
        names=names,
        stages=tuple(stages),
        set_current_event=uses_event,
        # Any code the agent calls may reach a table, so every agent of an app that
        # declares one marks its message (one cheap call per message).
        set_current_message=bool(module.tables),
        noack=noack,
        terminal=terminal,
        enumerate_start=loop.terminal.start,
        take_max=loop.terminal.max_,
        take_within=loop.terminal.within,
        hoisted=tuple(hoisted),
        prelude=prelude,
        target=loop.target,
        target_value=target_value,
        body=body,
        postlude=postlude,
        line=agent.span.line,
        loop_line=loop.span.line,
    )


class _Senders:
    """The sends of one fused function, each a direct produce.

    ``topic.send(key=k, value=v)`` (and ``send_soon``, and the sends of echo, group_by
    and through) become ``send("topic-name", encode_key_topic(k), encode_value_topic(v))``:
    ``send`` is the app's producer (``App.sender()``) and the two encoders are the topic's
    own (``Topic.key_dumper()``/``value_dumper()``), bound once when the agent starts, so a
    record costs two encoder calls and the producer's, not the chain through
    ``Topic.send_soon`` and ``App.send_raw``. The bytes are the same: the encoders are the
    ones ``send_soon`` uses. A topic declared with several names keeps ``send_soon`` (each
    send raises there, as Faust's does).

    A send of a key, a value and headers calls the client's own produce
    (``App.direct_sender()``), one Python frame less per record, and falls back to
    ``send`` with the same bytes when that raises (a full queue, a failed producer)::

        send_key = encode_key_out(k)
        send_value = encode_value_out(v)
        try:
            produce("out", send_value, send_key)
        except produce_retry:
            send("out", send_key, send_value)
    """

    def __init__(self, module: AppModule, hoisted: list[str], taken: set[str]) -> None:
        self.module = module
        self.hoisted = hoisted
        self.taken = taken
        self.send: str | None = None
        #: ``App.direct_sender()``'s two halves and the locals holding an encoded record
        self.direct: tuple[str, str, str, str, str] | None = None
        #: a variable holding a Record built as its JSON struct -> that struct's encoder
        self.out_values: dict[str, str] = {}
        #: topic expression -> its name (a literal when the compiler knows it)
        self.topic_names: dict[str, str] = {}
        #: (topic expression, "key"/"value") -> the hoisted encoder
        self.encoders: dict[tuple[str, str], str] = {}
        #: topic expression -> hoisted ``send_soon`` (topics with several names)
        self.soon: dict[str, str] = {}

    def _known_names(self, topic_expr: str) -> tuple[str, ...] | None:
        for topic in self.module.topics:
            if topic.var == topic_expr:
                return topic.names
        return None  # a topic the worker module declares (repartition, through("name"))

    def _hoist(self, name: str, expression: str) -> str:
        local = _fresh(name, self.taken)
        self.hoisted.append(f"{local} = {expression}")
        return local

    def _encoded(self, topic_expr: str, part: str, text: str | None) -> str:
        """``text`` encoded by the topic's key or value encoder (None stays None: every
        encoder returns None for None)."""
        if text is None or text == "None":
            return "None"
        encoder = self.encoders.get((topic_expr, part))
        if encoder is None:
            encoder = self._hoist(
                f"encode_{part}_{_identifier(topic_expr)}", f"{topic_expr}.{part}_dumper()"
            )
            self.encoders[topic_expr, part] = encoder
        out_encoder = self.out_values.get(text) if part == "value" else None
        if out_encoder is not None:
            return f"{out_encoder}({text}, {encoder})"
        return f"{encoder}({text})"

    def call(
        self,
        topic_expr: str,
        arguments: dict[str, str],
        marker: str = "",
        *,
        raw_value: bool = False,
    ) -> str:
        """The statements for ``topic_expr.send_soon(**arguments)`` (keyword arguments as
        source text: ``key``, ``value``, ``partition``, ``timestamp``, ``headers``);
        ``marker`` (a ``# app.py:N`` comment) ends the lines that run the user's code."""
        names = self._known_names(topic_expr)
        if names is not None and len(names) != 1:
            local = self.soon.get(topic_expr)
            if local is None:
                local = self._hoist(f"send_{_identifier(topic_expr)}", f"{topic_expr}.send_soon")
                self.soon[topic_expr] = local
            listed = ", ".join(f"{keyword}={text}" for keyword, text in arguments.items())
            return f"{local}({listed}){marker}"
        if self.send is None:
            self.send = self._hoist("send", f"{self.module.app.var}.sender()")
        name = self.topic_names.get(topic_expr)
        if name is None:
            if names is not None:
                name = _literal(names[0])
            else:
                name = self._hoist(
                    f"{_identifier(topic_expr)}_name", f"{topic_expr}.get_topic_name()"
                )
            self.topic_names[topic_expr] = name
        key = self._encoded(topic_expr, "key", arguments.get("key"))
        if raw_value:  # already bytes (a consumed message's value)
            value = arguments["value"]
        else:
            value = self._encoded(topic_expr, "value", arguments.get("value"))
        if set(arguments) <= {"key", "value", "headers"}:
            if self.direct is None:
                produce, retry, key_var, value_var, headers_var = (
                    _fresh(base, self.taken)
                    for base in (
                        "produce",
                        "produce_retry",
                        "send_key",
                        "send_value",
                        "send_headers",
                    )
                )
                self.hoisted.append(f"{produce}, {retry} = {self.module.app.var}.direct_sender()")
                self.direct = (produce, retry, key_var, value_var, headers_var)
            produce, retry, key_var, value_var, headers_var = self.direct
            code = f"{key_var} = {key}{marker}\n{value_var} = {value}{marker}\n"
            headers = ""
            if "headers" in arguments:
                code += f"{headers_var} = {arguments['headers']}{marker}\n"
                headers = f", headers={headers_var}"
            return code + (
                "try:\n"
                f"    {produce}({name}, {value_var}, {key_var}{headers})\n"
                f"except {retry}:  # a full queue or a failed producer: send() deals with it\n"
                f"    {self.send}({name}, {key_var}, {value_var}{headers})"
            )
        parts = [name, key, value]
        parts += [
            f"{keyword}={arguments[keyword]}"
            for keyword in ("partition", "timestamp", "headers")
            if keyword in arguments
        ]
        return f"{self.send}({', '.join(parts)}){marker}"


def _record_only_sent(
    module: AppModule, agent: AgentDef, records: dict[str, RecordInfo], codecs: set[str]
) -> tuple[str, str] | None:
    """Does the chain end in ``.map(lambda x: R(...))``, building a Record ``R`` from all of
    its fields, which the loop body (and the code after the loop) only sends as the value
    of JSON topics of ``R`` and reads fields of? Then a msgspec struct can stand in for it
    (:func:`faustc.records.json_out_ok`): return ``(R, why)`` (None: the Record is built)."""
    loop = agent.loop
    if not loop.operations or not loop.target.isidentifier():
        return None
    operation = loop.operations[-1]
    if not isinstance(operation, Map):
        return None
    function = operation.function
    if function.kind != "lambda" or function.body is None:
        return None
    call = cst.parse_expression(function.body)
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)):
        return None
    record = records.get(call.func.value)
    if record is None or record.name not in codecs or not json_out_ok(record):
        return None
    fields = [field.name for field in record.fields]
    positional = [arg for arg in call.args if arg.keyword is None]
    keywords = [arg.keyword.value for arg in call.args if arg.keyword is not None]
    if any(arg.star for arg in call.args) or len(positional) > len(fields):
        return None
    if sorted(fields[len(positional) :]) != sorted(keywords):
        return None  # a field left to its default, or not a field
    bound = _names_the_agent_binds(agent)
    if record.name in bound:
        return None
    sendable = {
        topic.var
        for topic in module.topics
        if len(topic.names) == 1
        and topic.var not in bound
        and topic_codec(topic, records, is_key=False) == (record.name, "json")
    }
    after = agent.postlude.text if agent.postlude is not None else ""
    code = f"{loop.body.text}\n{after}"
    if not _block_reads_only_attributes(loop.target, code, set(fields), sent_to=sendable):
        return None
    return (
        record.name,
        f"the {record.name} is only sent and its fields read (line {loop.body.line})",
    )


def _is_sent_value(
    node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode], topics: AbstractSet[str]
) -> bool:
    """Is ``node`` the ``value=`` of a statement-level send on one of ``topics``, in the
    form :class:`_Transformer` rewrites?"""
    arg = parents.get(node)
    if not (isinstance(arg, cst.Arg) and arg.keyword is not None and arg.keyword.value == "value"):
        return False
    call = parents.get(arg)
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.value.value in topics
        and all(a.keyword is not None and not a.star for a in call.args)
        and all(a.keyword.value in _SEND_KEYWORDS for a in call.args if a.keyword)
    ):
        return False
    holder = parents.get(call)
    awaited = isinstance(holder, cst.Await)
    if holder is None or call.func.attr.value != ("send" if awaited else "send_soon"):
        return False
    statement = parents.get(holder) if awaited else holder
    if not isinstance(statement, cst.Expr):
        return False
    line = parents.get(statement)
    return isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1


def _fields_read_before_map(operations: list[StreamOperation], record: RecordInfo) -> str | None:
    """Do the stage's first operations only read fields of the decoded Record, up to a map
    that replaces it? Then it never needs the Record itself: return why, for a comment in
    the generated code (None: it may need the Record)."""
    fields = {field.name for field in record.fields}
    for operation in operations:
        if not isinstance(operation, Filter | Map):
            return None
        function = operation.function
        if function.kind != "lambda" or function.param is None or function.body is None:
            return None
        if not _reads_only_attributes(function.param, function.body, fields):
            return None
        if isinstance(operation, Map):
            return (
                f"up to .map() (line {operation.span.line}) only fields of {record.name} are read"
            )
    return None


def _fields_read_before_group_by(
    operations: list[StreamOperation], boundary: GroupBy, record: RecordInfo
) -> str | None:
    """Does a stage that forwards its value bytes to a ``group_by`` only read fields of the
    decoded Record (lambda filters, a ``Record.field`` key)? Then it decodes a view: return
    why, for a comment (None: it needs the Record)."""
    fields = {field.name for field in record.fields}
    key = boundary.key
    if not (isinstance(key, FieldRef) and key.record == record.name and key.field in fields):
        return None
    if not _filters_read_only_fields(operations, fields):
        return None
    return f"up to .group_by() (line {boundary.span.line}) only fields of {record.name} are read"


def _fields_read_by_body(
    agent: AgentDef, operations: list[StreamOperation], record: RecordInfo
) -> str | None:
    """Do the stage's filters and the agent's code after them (the loop body, and what
    follows the loop) only read fields of the decoded Record? Then the loop variable may be
    the Record's view: return why, for a comment (None: it may need the Record)."""
    fields = {field.name for field in record.fields}
    if not _filters_read_only_fields(operations, fields):
        return None
    loop = agent.loop
    if not loop.target.isidentifier():
        return None  # a tuple target: not one variable
    after = agent.postlude.text if agent.postlude is not None else ""
    code = f"{loop.body.text}\n{after}"
    if not _block_reads_only_attributes(loop.target, code, fields):
        return None
    return f"the loop body (line {loop.body.line}) reads only fields of {record.name}"


def _filters_read_only_fields(operations: list[StreamOperation], fields: set[str]) -> bool:
    """Is every operation a lambda filter that reads only ``fields`` of its value?"""
    for operation in operations:
        function = operation.function if isinstance(operation, Filter) else None
        if function is None or function.kind != "lambda" or function.body is None:
            return False
        assert function.param is not None
        if not _reads_only_attributes(function.param, function.body, fields):
            return False
    return True


def _block_reads_only_attributes(
    name: str, code: str, fields: set[str], *, sent_to: AbstractSet[str] = frozenset()
) -> bool:
    """Is every use of ``name`` in the statements ``code`` a read ``name.<one of fields>``
    (or the ``value=`` of a statement ``await topic.send(...)``/``topic.send_soon(...)`` on
    one of the topics ``sent_to``, which the plan turns into a direct produce), and is
    ``name`` never assigned there (nor in a nested scope that reaches it)?"""
    indented = "".join(f"    {line}\n" for line in code.splitlines())
    try:
        module = cst.parse_module(f"async def _scope({name}):\n{indented}    pass\n")
    except cst.ParserSyntaxError:
        return False
    wrapper = MetadataWrapper(module)
    scopes = wrapper.resolve(ScopeProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    contexts = wrapper.resolve(ExpressionContextProvider)
    function = wrapper.module.body[0]
    assert isinstance(function, cst.FunctionDef)
    scope = scopes[function.body.body[0]]
    assert scope is not None
    assignments = list(scope.assignments[name])
    if len(assignments) != 1:
        return False  # the loop variable is assigned in the body (or deleted)
    for access in assignments[0].references:
        node = access.node
        parent = parents.get(node)
        if (
            isinstance(parent, cst.Attribute)
            and parent.value is node
            and parent.attr.value in fields
            and contexts.get(parent) is ExpressionContext.LOAD
        ):
            continue
        if not (sent_to and access.scope is scope and _is_sent_value(node, parents, sent_to)):
            return False
    return True


def _reads_only_attributes(param: str, body: str, fields: set[str]) -> bool:
    """Is every use of ``param`` in ``lambda param: body`` a read ``param.<one of fields>``?"""
    module = cst.parse_module(f"(lambda {param}: {body})\n")
    wrapper = MetadataWrapper(module)
    scopes = wrapper.resolve(ScopeProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    statement = wrapper.module.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    expression = statement.body[0]
    assert isinstance(expression, cst.Expr) and isinstance(expression.value, cst.Lambda)
    scope = scopes[expression.value.body]
    assert scope is not None
    for assignment in scope.assignments[param]:
        for access in assignment.references:
            node = access.node
            parent = parents.get(node)
            if not (
                isinstance(parent, cst.Attribute)
                and parent.value is node
                and parent.attr.value in fields
            ):
                return False
    return True


def _call(function: Function, argument: str, hoisted_name: str | None) -> str:
    """The expression applying ``function`` to ``argument`` (without awaiting a callable)."""
    if function.kind == "lambda":
        assert function.param is not None and function.body is not None
        return inline_lambda(function.param, function.body, argument)
    if function.kind == "sync":
        return f"{function.text}({argument})"
    if function.kind == "async":
        return f"await {function.text}({argument})"
    assert hoisted_name is not None
    return f"{hoisted_name}({argument})"


def _operation_code(
    display: str,
    operation: StreamOperation,
    names: Names,
    hoisted: list[str],
    taken: set[str],
    sender: _Senders,
    topic_expr: Callable[[TopicRef, str], str],
    source_expr: str,
    suffix: str,
    built_as: tuple[str, str] | None = None,
) -> str:
    value = names.value
    line = operation.span.line
    marker = f"  # {display}:{line}"
    if isinstance(operation, Echo):
        lines = [f"# {display}:{line}  .echo(...)\n"]
        for ref in operation.topics:
            send = sender.call(topic_expr(ref, source_expr), {"value": value}, marker)
            lines.append(f"{send}\n")
        return "".join(lines)
    if isinstance(operation, RateLimit):
        limiter = _fresh(f"rate_limit_{suffix}", taken)
        hoisted.append(f"{limiter} = RateLimiter({operation.rate}, per={operation.per})")
        return (
            f"# {display}:{line}  .rate_limit({operation.rate}, per={operation.per})\n"
            f"{names.delay} = {limiter}.delay()\n"
            f"if {names.delay}:\n"
            f"    await sleep({names.delay})\n"
        )
    if operation.kind == "noack":
        return ""
    assert isinstance(operation, Filter) or operation.kind in ("map", "processor")
    function: Function = operation.function  # type: ignore[union-attr]
    comment = f"# {display}:{line}  .{operation.kind}({_one_line(function.text)})\n"
    hoisted_name = None
    if function.kind == "callable":
        hoisted_name = _fresh(f"{operation.kind}_{suffix}", taken)
        hoisted.append(f"{hoisted_name} = {function.text}")
        result = names.result if isinstance(operation, Filter) else value
        code = (
            f"{result} = {hoisted_name}({value}){marker}\n"
            f"if isawaitable({result}):\n"
            f"    {result} = await {result}\n"
        )
        if isinstance(operation, Filter):
            code += f"if not {result}:\n    continue\n"
        return comment + code
    call = _call(function, value, None)
    if isinstance(operation, Filter):
        return comment + f"if not ({call}):{marker}\n    continue\n"
    if built_as is not None:
        record, why = built_as
        comment += f"# {why}: built as _{record}Out, its JSON form\n"
        tree = cst.parse_expression(call)
        assert isinstance(tree, cst.Call)
        call = _module_code(tree.with_changes(func=cst.Name(f"_{record}Out")))
    return comment + f"{value} = {call}{marker}\n"


def _group_by_code(
    display: str,
    operation: GroupBy,
    names: Names,
    hoisted: list[str],
    taken: set[str],
    sender: _Senders,
    next_expr: str,
    forward_value: bool,
) -> str:
    marker = f"  # {display}:{operation.span.line}"
    key = operation.key
    comment = f"# {display}:{operation.span.line}  .group_by(...): on to the next stage\n"
    if isinstance(key, FieldRef):
        code = f"{names.new_key} = {names.value}.{key.field}{marker}\n"
    elif key.kind == "callable":
        hoisted_name = _fresh("group_by_key", taken)
        hoisted.append(f"{hoisted_name} = {key.text}")
        code = (
            f"{names.new_key} = {hoisted_name}({names.value}){marker}\n"
            f"if isawaitable({names.new_key}):\n"
            f"    {names.new_key} = await {names.new_key}\n"
        )
    else:
        code = f"{names.new_key} = {_call(key, names.value, None)}{marker}\n"
    if forward_value:
        comment += "# the value is as it was consumed: its bytes go on unchanged\n"
    send = sender.call(
        next_expr,
        {
            "key": names.new_key,
            "value": f"{names.message}.value()" if forward_value else names.value,
            "headers": f"{names.message}.headers() or None",
        },
        raw_value=forward_value,
    )
    return f"{comment}{code}{send}\ncontinue\n"


def _literal(text: str) -> str:
    """A string literal in double quotes (the style of the rest of the worker)."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."


def _module_code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _identifier(text: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in text).strip("_")
    return cleaned or "topic"


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
    text = wrapper.module.code_for_node(renamed)
    return " ".join(text.split()) if "\n" in text else text


class _BodyRewriter:
    """Rewrite copied user code: ``yield x`` feeds the sinks directly, and
    ``await topic.send(...)`` / ``topic.send_soon(...)`` on a module-level topic becomes a
    direct produce (:class:`_Senders`)."""

    def __init__(
        self,
        module: AppModule,
        agent: AgentDef,
        names: Names,
        sender: _Senders,
        sync_sinks: bool,
        *,
        in_take: bool,
    ) -> None:
        self.module = module
        self.agent = agent
        self.names = names
        self.sender = sender
        self.sync_sinks = sync_sinks
        self.in_take = in_take
        self.topic_vars = {topic.var for topic in module.topics}
        #: tables a ``table[k] += v`` statement may update in one call (``Table.in_place``)
        self.table_vars = (
            {table.var for table in module.tables}
            if "_operator" not in module.module_names
            else set()
        )
        #: a statement was rewritten to ``table.in_place(...)`` (the worker imports operator)
        self.uses_in_place = False
        #: names the agent binds anywhere (a send through one of them is left alone)
        self.rebound = _names_the_agent_binds(agent)

    @staticmethod
    def module_code(node: cst.CSTNode) -> str:
        return cst.Module(body=[]).code_for_node(node)

    def code(self, block: Code | None, *, in_loop: bool) -> Code | None:
        if block is None:
            return None
        try:
            tree = cst.parse_module(block.text)
        except cst.ParserSyntaxError:  # pragma: no cover - the reader parsed it already
            return block
        transformer = _Transformer(self, in_loop=in_loop, rebound=self.rebound)
        rewritten = tree.visit(transformer)
        if not transformer.changed:
            return block
        return Code(rewritten.code, block.line)


def _names_the_agent_binds(agent: AgentDef) -> set[str]:
    """Every name the agent's function binds: its parameter, the loop target, and what its
    code assigns, imports or defines (a module-level name bound there is not the module's)."""
    names = {agent.param, *_names_in_target(agent.loop.target)}
    for block in (agent.prelude, agent.loop.body, agent.postlude):
        if block is not None:
            names |= _bound_names(cst.parse_module(block.text))
    return names


def _names_in_target(text: str) -> set[str]:
    try:
        expression = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return set()
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    expression.visit(Names())
    return names


def _bound_names(tree: cst.Module) -> set[str]:
    """Every name the code binds: assignments, loop and ``with`` targets, walrus,
    ``global``/``nonlocal``, imports, nested definitions, comprehension targets."""
    names: set[str] = set()

    def targets(node: cst.CSTNode) -> None:
        class Names(cst.CSTVisitor):
            def visit_Name(self, inner: cst.Name) -> None:
                names.add(inner.value)

            def visit_Attribute(self, inner: cst.Attribute) -> bool:
                return False

            def visit_Subscript(self, inner: cst.Subscript) -> bool:
                return False

        node.visit(Names())

    class Finder(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            targets(node.target)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            targets(node.target)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            targets(node.target)

        def visit_For(self, node: cst.For) -> None:
            targets(node.target)

        def visit_CompFor(self, node: cst.CompFor) -> None:
            targets(node.target)

        def visit_AsName(self, node: cst.AsName) -> None:
            targets(node.name)

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            targets(node.target)

        def visit_Global(self, node: cst.Global) -> None:
            names.update(item.name.value for item in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            names.update(item.name.value for item in node.names)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            names.add(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            names.add(node.name.value)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            if node.asname is None:
                names.add(cst.Module(body=[]).code_for_node(node.name).split(".")[0])

    tree.visit(Finder())
    return names


class _Transformer(cst.CSTTransformer):
    def __init__(self, rewriter: _BodyRewriter, *, in_loop: bool, rebound: set[str]) -> None:
        self.rewriter = rewriter
        self.in_loop = in_loop
        self.rebound = rebound
        self.changed = False
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return True

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if self.depth or len(updated_node.body) != 1:
            return updated_node
        small = updated_node.body[0]
        rewriter = self.rewriter
        if isinstance(small, cst.AugAssign):
            in_place = _in_place_call(small, rewriter.table_vars - self.rebound)
            if in_place is None:
                return updated_node
            self.changed = rewriter.uses_in_place = True
            return updated_node.with_changes(body=[cst.Expr(in_place)])
        if not isinstance(small, cst.Expr):
            return updated_node
        names = rewriter.names
        value = small.value
        if isinstance(value, cst.Yield) and rewriter.agent.yields:
            yielded = value.value
            argument = rewriter.module_code(yielded) if yielded is not None else "None"
            if self.in_loop and not rewriter.in_take:
                context = f"{names.key}, {names.message}.headers()"
            else:
                context = "None, None"
            call = f"{names.deliver}({argument}, {context})"
            self.changed = True
            if rewriter.sync_sinks:
                return updated_node.with_changes(body=[cst.Expr(cst.parse_expression(call))])
            statements = cst.parse_module(
                f"{names.pending} = {call}\nif {names.pending} is not None:\n"
                f"    await {names.pending}\n"
            ).body
            first = statements[0].with_changes(leading_lines=updated_node.leading_lines)
            return cst.FlattenSentinel([first, *statements[1:]])
        # ``await topic.send(...)`` or ``topic.send_soon(...)`` as a statement
        awaited = isinstance(value, cst.Await)
        send_call = value.expression if isinstance(value, cst.Await) else value
        if (
            isinstance(send_call, cst.Call)
            and isinstance(send_call.func, cst.Attribute)
            and isinstance(send_call.func.value, cst.Name)
            and send_call.func.attr.value == ("send" if awaited else "send_soon")
        ):
            topic = send_call.func.value.value
            arguments: dict[str, str] = {}
            for arg in send_call.args:
                if arg.keyword is None or arg.star or arg.keyword.value not in _SEND_KEYWORDS:
                    return updated_node
                arguments[arg.keyword.value] = rewriter.module_code(arg.value)
            if topic in rewriter.topic_vars and topic not in self.rebound:
                self.changed = True
                statements = cst.parse_module(rewriter.sender.call(topic, arguments) + "\n").body
                first = statements[0].with_changes(leading_lines=updated_node.leading_lines)
                return cst.FlattenSentinel([first, *statements[1:]])
        return updated_node


#: ``x <op>= y`` -> the in-place operator's name in the ``operator`` module
_IN_PLACE_OPERATORS: dict[type[cst.BaseAugOp], str] = {
    cst.AddAssign: "iadd",
    cst.SubtractAssign: "isub",
    cst.MultiplyAssign: "imul",
    cst.DivideAssign: "itruediv",
    cst.FloorDivideAssign: "ifloordiv",
    cst.ModuloAssign: "imod",
    cst.PowerAssign: "ipow",
    cst.LeftShiftAssign: "ilshift",
    cst.RightShiftAssign: "irshift",
    cst.BitAndAssign: "iand",
    cst.BitXorAssign: "ixor",
    cst.BitOrAssign: "ior",
    cst.MatrixMultiplyAssign: "imatmul",
}


def _in_place_call(statement: cst.AugAssign, tables: set[str]) -> cst.Call | None:
    """``table[k] += v`` -> ``table.in_place(k, _operator.iadd, v)`` (one call instead of
    ``__getitem__``, the operator and ``__setitem__``), for a module-level table and a
    ``v`` whose evaluation cannot touch the table (a literal, a name, an attribute of a
    name): the statement reads the key before it evaluates ``v``, the call after."""
    target = statement.target
    if not (
        isinstance(target, cst.Subscript)
        and isinstance(target.value, cst.Name)
        and target.value.value in tables
        and len(target.slice) == 1
        and isinstance(target.slice[0].slice, cst.Index)
        and target.slice[0].slice.star is None
        and _is_plain_operand(statement.value)
    ):
        return None
    operator_name = _IN_PLACE_OPERATORS[type(statement.operator)]
    return cst.Call(
        func=cst.Attribute(target.value, cst.Name("in_place")),
        args=[
            cst.Arg(target.slice[0].slice.value),
            cst.Arg(cst.Attribute(cst.Name("_operator"), cst.Name(operator_name))),
            cst.Arg(statement.value),
        ],
    )


def _is_plain_operand(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer | cst.Float | cst.SimpleString | cst.Name):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer | cst.Float)
    if isinstance(node, cst.Attribute):
        return _is_plain_operand(node.value) and not isinstance(node.value, cst.SimpleString)
    return False


#: the keyword arguments of ``Topic.send``/``send_soon``
_SEND_KEYWORDS = ("key", "value", "partition", "timestamp", "headers")
