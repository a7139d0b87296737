"""The passes: small functions from plan to plan, each making one thing fast.

``build_plan`` makes the plain plan (every send through ``send_soon``, every decoded key
decoded message by message, every value decoded into its Record); :data:`PASSES` run in
this order, each reading what the plan holds and setting the fields of its decision, and
``bind_locals`` ends the list: it names what each fused function binds before its loop.
Every pass keeps the plan's meaning; the plain plan and the optimised one produce the same
records (``tests/test_hot_path.py`` checks the fused loop against the reference runtime).
Example::

    plan = run_passes(build_plan(module, records, codecs, source, out_dir), context)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from faustc.codecs.common import snake_case
from faustc.codecs.json import json_out_checks, json_out_ok
from faustc.codecs.model import CodecsPlan
from faustc.front.ir import AppModule, FieldRef
from faustc.plan.model import (
    AgentPlan,
    Argument,
    BindCallable,
    BindDeliverer,
    BindDirectSender,
    BindEncoder,
    Binding,
    BindKeyText,
    BindRateLimiter,
    BindSendCount,
    BindSender,
    BindSendSoon,
    BindTopicName,
    CallBound,
    Echo,
    Filter,
    Hole,
    Inline,
    LocalName,
    Map,
    Repartition,
    Send,
    SendLocals,
    Stage,
    Step,
    TableUpdate,
    Through,
    UserCode,
    UserExpr,
    WorkerPlan,
)
from faustc.plan.model import RateLimit as RateLimitStep
from faustc.plan.names import fresh, identifier
from faustc.plan.observers import observed_per_message
from faustc.types import RecordInfo, topic_codec


@dataclasses.dataclass(frozen=True, slots=True)
class PassContext:
    """What the passes know besides the plan: the module, its Records, their codecs."""

    module: AppModule
    records: dict[str, RecordInfo]
    codecs: CodecsPlan | None

    @property
    def views(self) -> frozenset[tuple[str, str]]:
        """``(Record, codec)`` pairs with a generated view (a struct of the fields)."""
        found: set[tuple[str, str]] = set()
        for record in self.codecs.records if self.codecs else ():
            if record.view:
                found.add((record.name, "json"))
            if record.avro_writer is not None and record.avro_writer.view:
                found.add((record.name, "avro"))
        return frozenset(found)

    @property
    def coded(self) -> frozenset[str]:
        """Records with generated codecs."""
        return (
            frozenset(record.name for record in self.codecs.records)
            if self.codecs
            else (frozenset())
        )


AgentPass = Callable[[AgentPlan, PassContext], AgentPlan]


def _name(agent: AgentPlan, base: str) -> tuple[str, AgentPlan]:
    """A fresh local for ``agent``'s function, and the agent holding it as taken."""
    taken = set(agent.taken)
    name = fresh(base, taken)
    return name, dataclasses.replace(agent, taken=frozenset(taken))


def _suffix(agent: AgentPlan, stage: Stage) -> str:
    return f"_{stage.number}" if len(agent.stages) > 1 else ""


def _replace_stage(agent: AgentPlan, stage: Stage) -> AgentPlan:
    stages = tuple(stage if s.number == stage.number else s for s in agent.stages)
    return dataclasses.replace(agent, stages=stages)


# -- decoding -------------------------------------------------------------------------------


def check_unused_keys_by_batch(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """A key nothing reads is decoded only so that one that does not decode meets the
    error policy: check a whole batch at once (``Topic.keys_check()``), and decode keys
    one by one only in a batch that fails the check. Example::

        KeyDecode(load="load_key", used=False)
        -> KeyDecode(load="load_key", used=False, by_batch="check_keys")
    """
    for stage in agent.stages:
        key = stage.decode.key
        if key is None or key.used:
            continue
        local, agent = _name(agent, f"check_keys{_suffix(agent, stage)}")
        decode = dataclasses.replace(stage.decode, key=dataclasses.replace(key, by_batch=local))
        agent = _replace_stage(agent, dataclasses.replace(stage, decode=decode))
    return agent


def call_value_decoders_straight(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """The loop calls the value's decoder itself (the generated one: one frame less per
    message) and turns what it raises into the loader's error, except where decoding
    reads the headers (avro-confluent). Example::

        Decode(value_local="load_value") -> Decode(..., value_failed="value_failed")
    """
    for stage in agent.stages:
        if stage.decode.value_headers:
            continue
        local, agent = _name(agent, f"value_failed{_suffix(agent, stage)}")
        decode = dataclasses.replace(stage.decode, value_failed=local)
        agent = _replace_stage(agent, dataclasses.replace(stage, decode=decode))
    return agent


def decode_fields_only(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """A stage that only reads fields of its Record decodes a view (a struct of the
    fields, ``value_decoder(fields_only=True)``) instead of the Record: up to a ``map``
    that replaces it, up to a ``group_by`` that forwards its bytes, or through the whole
    loop body. Example (``stream.filter(lambda o: o.amount > 1).map(lambda o: o.id)``)::

        Decode(fields_only=None)
        -> Decode(fields_only="up to .map() (line 12) only fields of Order are read")
    """
    for stage in agent.stages:
        if stage.decode.make_event or stage.record is None:
            continue
        if (stage.record, stage.codec) not in context.views:
            continue
        info = context.records[stage.record]
        fields = {field.name for field in info.fields}
        steps = [step for step in stage.steps if step is not stage.boundary]
        why = _fields_read_before_map(steps, info.name, fields)
        if why is None and stage.last and agent.terminal.kind == "values" and not agent.yields:
            use = agent.target_use
            if _filters_read_only(steps, fields) and use is not None and use.reads_only(fields):
                why = f"the loop body (line {agent.body.line}) reads only fields of {info.name}"
        boundary = stage.boundary
        if why is None and isinstance(boundary, Repartition) and boundary.forward_value:
            key = boundary.key
            if (
                isinstance(key, FieldRef)
                and key.record == info.name
                and key.field in fields
                and _filters_read_only(steps, fields)
            ):
                why = (
                    f"up to .group_by() (line {boundary.line}) only fields of {info.name} are read"
                )
        if why is not None:
            decode = dataclasses.replace(stage.decode, fields_only=why)
            agent = _replace_stage(agent, dataclasses.replace(stage, decode=decode))
    return agent


def parse_json_views_inline(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """A stage that decodes its Record's JSON view straight (``value_decoder(fields_only=
    True)``, called by the loop) runs the view's lines itself, without its frame, where
    the runtime chose that view (asked once: ``load is view_<record>_json``); any other
    decoder the runtime chose is called as before. Example::

        Decode(fields_only="...", value_failed="value_failed")
        -> Decode(..., json_view="Order", view_local="view_inline")
    """
    for stage in agent.stages:
        decode = stage.decode
        if (
            decode.fields_only is None
            or decode.value_failed is None
            or decode.field_from_key is not None
            or stage.record is None
            or stage.codec != "json"
            or (stage.record, "json") not in context.views
        ):
            continue
        local, agent = _name(agent, f"view_inline{_suffix(agent, stage)}")
        decode = dataclasses.replace(decode, json_view=stage.record, view_local=local)
        agent = _replace_stage(agent, dataclasses.replace(stage, decode=decode))
    return agent


def read_group_by_field_from_key(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """The last stage of a ``group_by(Record.field)`` that forwards its values, when it
    reads nothing but that field (a str), takes it from each record's key (what the
    group_by wrote there: the field's text) instead of decoding the value: one UTF-8
    decode and a one-field struct instead of a JSON parse. The runtime decides at
    start-up (``Topic.field_decoder``): where the repartition topic's keys are not the
    field's text (another key serializer) the value is decoded. Example
    (``async for o in s.group_by(Order.product_id): counts[o.product_id] += 1``)::

        Decode(fields_only="...") -> Decode(fields_only="...", field_from_key="product_id")
    """
    for before, stage in zip(agent.stages, agent.stages[1:], strict=False):
        boundary = before.boundary
        if not (stage.last and stage.decode.fields_only and stage.record is not None):
            continue
        if not (isinstance(boundary, Repartition) and boundary.forward_value):
            continue
        key = boundary.key
        if not (isinstance(key, FieldRef) and key.record == stage.record == before.record):
            continue
        info = context.records[stage.record]
        field = next((f for f in info.fields if f.name == key.field), None)
        if field is None or field.type.kind != "str" or field.has_default:
            continue  # (a default may be None: no key, where the value has the field None)
        only = {key.field}
        steps = [step for step in stage.steps if step is not stage.boundary]
        use = agent.target_use
        if (
            agent.terminal.kind != "values"
            or agent.yields
            or use is None
            or not use.reads_only(only)
            or not _filters_read_only(steps, only)
        ):
            continue
        decode = dataclasses.replace(stage.decode, field_from_key=key.field)
        agent = _replace_stage(agent, dataclasses.replace(stage, decode=decode))
    return agent


def _fields_read_before_map(steps: list[Step], record: str, fields: set[str]) -> str | None:
    """Do the stage's first steps only read ``fields`` of the value, up to a map that
    replaces it? Then say so (None: the stage may need the Record)."""
    for step in steps:
        if not (isinstance(step, Filter) or (isinstance(step, Map) and step.kind == "map")):
            return None
        if step.uses is None or not step.uses.reads_only(fields):
            return None
        if isinstance(step, Map):
            return f"up to .map() (line {step.line}) only fields of {record} are read"
    return None


def _filters_read_only(steps: list[Step], fields: set[str]) -> bool:
    """Is every step a lambda filter that reads only ``fields`` of the value?"""
    return all(
        isinstance(step, Filter) and step.uses is not None and step.uses.reads_only(fields)
        for step in steps
    )


# -- building and sending -------------------------------------------------------------------


def build_sent_records_as_structs(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """When the chain ends in ``.map(lambda x: R(...))`` building a Record ``R`` from all
    of its fields, and the loop body (and the code after the loop) only reads fields of it
    and sends it as the value of JSON topics of ``R``, the map builds ``_ROut``, a msgspec
    struct that writes ``R``'s JSON itself (``faustc.codecs.json.json_out_ok`` says which
    Records it can stand in for). Example::

        Map(builds="Total", built_as=None) -> Map(builds="Total", built_as="Total", ...)
        Send(topic="out", value=UserExpr("t")) -> Send(..., out_encoder="encode_total_out",
            out_checks=("type(t.account) is str", ...))

    The send site tests the checks itself (no frame in the common case) and calls the
    encoder only when one fails.
    """
    stage = agent.stages[-1]
    step = stage.steps[-1] if stage.steps else None
    if (
        agent.terminal.kind != "values"
        or agent.noack
        or agent.set_current_event
        or agent.yields
        or not isinstance(step, Map)
        or step.kind != "map"
        or step.builds is None
        or step.builds not in context.coded
        or step.builds in agent.rebound
        or not isinstance(step.apply, Inline)
        or agent.target_use is None
    ):
        return agent
    info = context.records[step.builds]
    if not json_out_ok(info):
        return agent
    sendable = {
        topic.var
        for topic in context.module.topics
        if len(topic.names) == 1
        and topic.var not in agent.rebound
        and topic_codec(topic, context.records, is_key=False) == (info.name, "json")
    }
    use = agent.target_use
    fields = {field.name for field in info.fields}
    if use.other or not use.reads <= fields or not use.sent_to <= sendable:
        return agent
    why = f"the {info.name} is only sent and its fields read (line {agent.body.line})"
    built = dataclasses.replace(step, built_as=info.name, built_why=why)
    stage = dataclasses.replace(stage, steps=(*stage.steps[:-1], built))
    agent = _replace_stage(agent, stage)
    encoder = f"encode_{snake_case(info.name)}_out"
    checks = json_out_checks(info, agent.target)

    def encode(hole: Hole) -> Hole:
        if isinstance(hole, Send) and hole.value == UserExpr(agent.target):
            return dataclasses.replace(hole, out_encoder=encoder, out_checks=checks)
        return hole

    return dataclasses.replace(_map_holes(agent, encode), sent_as_json=info.name)


def update_tables_in_place(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """``table[k] <op>= v`` is one call, ``table.in_place(k, operator.i<op>, v)``: the
    table's own read and write inline, a windowed table's windows updated without a
    WindowSet (unless the module has a name ``_operator`` of its own). Example::

        TableUpdate(table="totals", operator="iadd", in_place=False) -> in_place=True
    """
    if "_operator" in context.module.module_names:
        return agent

    def in_place(hole: Hole) -> Hole:
        if isinstance(hole, TableUpdate):
            return dataclasses.replace(hole, in_place=True)
        return hole

    return _map_holes(agent, in_place)


def produce_directly(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """A send on a topic with one name goes to the app's producer with the topic's own
    encoders (``send``, bound once), not through ``Topic.send_soon``; a send of a key, a
    value and headers calls the client's own produce (``produce``), and ``send`` with the
    same bytes only when that raises (a full queue, a failed producer). The bytes are the
    ones ``send_soon`` writes. Example::

        Send(topic="out", key=..., value=..., via="send_soon") -> via="produce"
    """
    names = {topic.var: topic.names for topic in context.module.topics}

    def direct(send: Send) -> Send:
        known = names.get(send.topic)
        if known is not None and len(known) != 1:
            return send  # send_soon raises for such a topic, as Faust's does
        arguments = {name for name, _ in send.arguments()}
        via = "produce" if arguments <= {"key", "value", "headers"} else "send"
        return dataclasses.replace(send, via=via)

    agent = _map_sends(agent, direct)

    def hole(found: Hole) -> Hole:
        return direct(found) if isinstance(found, Send) else found

    return _map_holes(agent, hole)


def encode_text_keys_inline(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """A produce with a key, to a topic whose keys the compiler expects to be text (raw
    codec, not a Record; an internal topic of the worker: the runtime decides), writes a
    ``str`` key as ``key.encode()`` itself where ``topic.key_dumper_is_text()`` (asked
    once) says the dumper does the same, and hands other keys to the dumper. Example::

        Send(topic="out", key=UserExpr("o.account"), via="produce") -> text_key=True
    """
    text = {
        topic.var: topic_codec(topic, context.records, is_key=True) == (None, "raw")
        for topic in context.module.topics
    }

    def inline(send: Send) -> Send:
        if send.via != "produce" or send.key is None or send.key == UserExpr("None"):
            return send
        if not text.get(send.topic, True):
            return send
        return dataclasses.replace(send, text_key=True)

    agent = _map_sends(agent, inline)

    def hole(found: Hole) -> Hole:
        return inline(found) if isinstance(found, Send) else found

    return _map_holes(agent, hole)


def mark_messages_at_fallbacks(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """An agent of an app with tables marks each message current (a context-variable set
    per message) so that a table's methods find its partition; when nothing the loop runs
    per message reads the mark but the paths that run a table's methods or the error
    policy (``faustc.plan.observers``), it marks the message just before those. Example::

        set_current_message=True -> set_current_message=False, message_at_fallbacks=True
    """
    if not agent.set_current_message:
        return agent
    tables = {table.var: table for table in context.module.tables}
    if observed_per_message(agent, tables, context.module.module_names) is not None:
        return agent
    return dataclasses.replace(agent, set_current_message=False, message_at_fallbacks=True)


# -- naming what the fused function binds ---------------------------------------------------


def bind_locals(agent: AgentPlan, context: PassContext) -> AgentPlan:
    """The last pass: name what the fused function binds before its loop (the deliverer,
    callables evaluated once, rate limiters, the producer, the topics' names and encoders),
    in the order the code first uses them. Example::

        Send(topic="out", via="produce") -> bindings (BindSender("send"),
            BindEncoder("encode_value_out", "out", "value"), BindDirectSender(...))
    """
    binder = _Binder(agent, context)
    return binder.bind()


class _Binder:
    def __init__(self, agent: AgentPlan, context: PassContext) -> None:
        self.agent = agent
        self.taken = set(agent.taken)
        self.bindings: list[Binding] = []
        self.sends = SendLocals()
        #: the names of the module's topics that are the same in every environment (a
        #: send to another topic asks it for its name once)
        self.topics = {topic.var: topic.names for topic in context.module.topics if topic.fixed}

    def bind(self) -> AgentPlan:
        agent = self.agent
        if agent.yields:
            self.bindings.append(BindDeliverer(agent.locals.deliver, agent.agent_var))
        stages = []
        for stage in agent.stages:
            if not stage.last and not stage.name_fixed:  # the loop tells it apart by name
                local = self._fresh(f"{identifier(stage.topic)}_name")
                self.bindings.append(BindTopicName(local, stage.topic))
                stage = dataclasses.replace(stage, name_local=local)
            stages.append(stage)
            for step in stage.steps:
                self._step(step)
        agent = dataclasses.replace(agent, stages=tuple(stages))
        for code in (agent.prelude, agent.body, agent.postlude):
            for hole in code.holes if code is not None else ():
                if isinstance(hole, Send):
                    self._send(hole)
        return dataclasses.replace(
            agent, bindings=tuple(self.bindings), sends=self.sends, taken=frozenset(self.taken)
        )

    def _step(self, step: Step) -> None:
        if isinstance(step, Filter | Map) and isinstance(step.apply, CallBound):
            self.bindings.append(BindCallable(step.apply.local, step.apply.expression))
        elif isinstance(step, RateLimitStep):
            self.bindings.append(BindRateLimiter(step.limiter, step.rate, step.per))
        elif isinstance(step, Echo):
            for send in step.sends:
                self._send(send)
        elif isinstance(step, Repartition):
            if isinstance(step.key, CallBound):
                self.bindings.append(BindCallable(step.key.local, step.key.expression))
            self._send(step.send)
        elif isinstance(step, Through):
            self._send(step.send)

    def _fresh(self, base: str) -> str:
        return fresh(base, self.taken)

    def _send(self, send: Send) -> None:
        sends = self.sends
        if send.via == "send_soon":
            if send.topic not in dict(sends.send_soon):
                local = self._fresh(f"send_{identifier(send.topic)}")
                self.bindings.append(BindSendSoon(local, send.topic))
                sends = dataclasses.replace(
                    sends, send_soon=(*sends.send_soon, (send.topic, local))
                )
            self.sends = sends
            return
        if sends.send is None:
            local = self._fresh("send")
            self.bindings.append(BindSender(local))
            sends = dataclasses.replace(sends, send=local)
        if send.topic not in dict(sends.topic_names):
            names = self.topics.get(send.topic)
            if names is not None:
                name = (True, names[0])
            else:  # a topic the worker module declares (repartition, through("name"))
                local = self._fresh(f"{identifier(send.topic)}_name")
                self.bindings.append(BindTopicName(local, send.topic))
                name = (False, local)
            sends = dataclasses.replace(sends, topic_names=(*sends.topic_names, (send.topic, name)))
        encoders = dict(sends.encoders)
        for part, argument in (("key", send.key), ("value", send.value)):
            if argument is None or argument == UserExpr("None"):
                continue  # every encoder returns None for None
            if part == "value" and send.raw_value:
                continue
            if (send.topic, part) not in encoders:
                local = self._fresh(f"encode_{part}_{identifier(send.topic)}")
                self.bindings.append(BindEncoder(local, send.topic, part))
                encoders[send.topic, part] = local
        sends = dataclasses.replace(sends, encoders=tuple(encoders.items()))
        if send.via == "produce" and sends.produce is None:
            produce, retry, cell, key, value, headers = (
                self._fresh(base)
                for base in (
                    "produce",
                    "produce_retry",
                    "send_cell",
                    "send_key",
                    "send_value",
                    "send_headers",
                )
            )
            self.bindings.append(BindDirectSender(produce, retry, cell))
            sends = dataclasses.replace(
                sends,
                produce=produce,
                retry=retry,
                cell=cell,
                key=key,
                value=value,
                headers=headers,
            )
        if send.text_key and sends.given_key is None and not _a_name(send.key):
            sends = dataclasses.replace(sends, given_key=self._fresh("given_key"))
        if send.text_key and send.topic not in dict(sends.text_keys):
            local = self._fresh(f"text_keys_{identifier(send.topic)}")
            self.bindings.append(BindKeyText(local, send.topic))
            sends = dataclasses.replace(sends, text_keys=(*sends.text_keys, (send.topic, local)))
        if send.via == "produce" and send.topic not in dict(sends.counts):
            assert sends.cell is not None
            local = self._fresh(f"sent_{identifier(send.topic)}")
            self.bindings.append(BindSendCount(local, sends.cell, send.topic))
            sends = dataclasses.replace(sends, counts=(*sends.counts, (send.topic, local)))
        self.sends = sends


def _a_name(argument: Argument | None) -> bool:
    """Is the argument a name (read twice at no cost), not an expression to evaluate once?"""
    if isinstance(argument, LocalName):
        return True
    return isinstance(argument, UserExpr) and argument.text.isidentifier()


# -- walking the plan -----------------------------------------------------------------------


def _map_sends(agent: AgentPlan, change: Callable[[Send], Send]) -> AgentPlan:
    """``agent`` with every send of its stages' steps replaced by ``change(send)``."""
    stages = []
    for stage in agent.stages:
        steps: list[Step] = []
        for step in stage.steps:
            if isinstance(step, Echo):
                step = dataclasses.replace(step, sends=tuple(change(s) for s in step.sends))
            elif isinstance(step, Repartition | Through):
                step = dataclasses.replace(step, send=change(step.send))
            steps.append(step)
        stages.append(dataclasses.replace(stage, steps=tuple(steps)))
    return dataclasses.replace(agent, stages=tuple(stages))


def _map_holes(agent: AgentPlan, change: Callable[[Hole], Hole]) -> AgentPlan:
    """``agent`` with every hole of its code replaced by ``change(hole)``."""

    def code(block: UserCode | None) -> UserCode | None:
        if block is None or not block.holes:
            return block
        return dataclasses.replace(block, holes=tuple(change(hole) for hole in block.holes))

    body = code(agent.body)
    assert body is not None
    return dataclasses.replace(
        agent, prelude=code(agent.prelude), body=body, postlude=code(agent.postlude)
    )


def sends_of(agent: AgentPlan) -> Iterator[Send]:
    """Every send of the agent: its stages' steps, then its code's holes."""
    for stage in agent.stages:
        for step in stage.steps:
            if isinstance(step, Echo):
                yield from step.sends
            elif isinstance(step, Repartition | Through):
                yield step.send
    for block in (agent.prelude, agent.body, agent.postlude):
        for hole in block.holes if block is not None else ():
            if isinstance(hole, Send):
                yield hole


#: the passes, in the order they run (``bind_locals`` last: it names what the others chose)
PASSES: tuple[AgentPass, ...] = (
    check_unused_keys_by_batch,
    call_value_decoders_straight,
    decode_fields_only,
    read_group_by_field_from_key,
    parse_json_views_inline,
    build_sent_records_as_structs,
    update_tables_in_place,
    produce_directly,
    encode_text_keys_inline,
    mark_messages_at_fallbacks,
    bind_locals,
)


def run_passes(
    plan: WorkerPlan, context: PassContext, passes: tuple[AgentPass, ...] = PASSES
) -> WorkerPlan:
    """``plan`` after every pass of ``passes``, one after the other, on every agent."""
    agents = plan.agents
    for each in passes:
        agents = tuple(each(agent, context) for agent in agents)
    sent = tuple(sorted({agent.sent_as_json for agent in agents if agent.sent_as_json}))
    return dataclasses.replace(plan, agents=agents, sent_as_json=sent)
