"""The plan printer: what the compiler decided, as text (``faustc build --dump-plan``).

One line per binding, decoder and step, indented under its agent and stage; every
decision a pass made is on the line it concerns. Pure: ``format_plan(plan) -> str``.
Example (``examples/big_orders.py``, abridged)::

    worker big_orders (big_orders.py), app "big-orders"
    agent big_orders.find_big_orders -> fused_find_big_orders(orders)      big_orders.py:25
      bind send = app.sender()
      stage 1 orders_topic "orders" (last; Order json)
        decode key load_key (unused: by batch check_keys); value load_value, decoder called straight
        filter value.amount >= BIG                                           big_orders.py:26
        map call to_big_order                                                big_orders.py:26
      body `big` = value                                                     big_orders.py:27
        hole 0 send big_orders_topic via produce key=big.account_id value=big
"""

from __future__ import annotations

from faustc.front.ir import FieldRef
from faustc.plan.model import (
    AgentPlan,
    AgentTopic,
    Apply,
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
    CallFunction,
    Deliver,
    DerivedTopic,
    Echo,
    Filter,
    Hole,
    Inline,
    LocalName,
    Map,
    MessageHeaders,
    MessageValue,
    NoAck,
    RateLimit,
    Repartition,
    Send,
    Stage,
    Step,
    TableSet,
    TableUpdate,
    Through,
    UserCode,
    UserExpr,
    WorkerPlan,
)

WIDTH = 72


def format_plan(plan: WorkerPlan) -> str:
    lines: list[str] = [f'worker {plan.module} ({plan.display_name}), app "{plan.app_id}"']

    def add(indent: int, text: str, line: int | None = None) -> None:
        left = "  " * indent + text
        if line is not None:
            where = f"{plan.display_name}:{line}"
            left = f"{left:<{WIDTH}} {where}" if len(left) < WIDTH else f"{left}  {where}"
        lines.append(left.rstrip())

    for topic in plan.internal_topics:
        if isinstance(topic, AgentTopic):
            add(0, f'topic {topic.var} "{topic.name}" (the own topic of agent {topic.agent})')
            continue
        if isinstance(topic, DerivedTopic):
            add(0, f'topic {topic.var} "{topic.name}" (through; the types of {topic.source})')
            continue
        key = f"{topic.key.record}.{topic.key.field}" if topic.key is not None else "-"
        value = "same value type" if topic.same_value_type else "values as JSON"
        add(
            0,
            f'topic {topic.var} "{topic.name}" (group_by of {topic.source}; key {key}; '
            f"{value}; partitions {topic.partitions or '-'})",
            topic.line,
        )
    for agent in plan.agents:
        _agent(agent, add)
    if plan.codecs is not None:
        for record in plan.codecs.records:
            formats = ["json"]
            if record.view:
                formats.append("json view")
            if record.avro:
                formats.append("avro datum")
            if record.avro_writer is not None:
                formats.append("avro straight")
                if record.avro_writer.view:
                    formats.append("avro view")
            if record.name in plan.sent_as_json:
                formats.append("json struct for sends")
            add(0, f"codecs {record.name}: {', '.join(formats)}")
    return "\n".join(lines) + "\n"


def _agent(agent: AgentPlan, add: object) -> None:
    assert callable(add)
    flags = [agent.terminal.kind]
    if agent.set_current_event:
        flags.append("sets current event")
    if agent.set_current_message:
        flags.append("sets current message")
    if agent.message_at_fallbacks:
        flags.append("sets current message at fallbacks")
    if agent.noack:
        flags.append("noack")
    if agent.yields:
        flags.append("yields (sync sinks)" if agent.sync_sinks else "yields")
    if agent.sent_as_json:
        flags.append(f"builds {agent.sent_as_json} as its JSON struct")
    add(
        0,
        f"{agent.kind} {agent.qualified_name} -> {agent.function_name}({agent.param}) "
        f"[{', '.join(flags)}]",
        agent.line,
    )
    for binding in agent.bindings:
        add(1, f"bind {_binding(binding)}")
    if agent.prelude is not None:
        _code(agent, "prelude", agent.prelude, add)
    for stage in agent.stages:
        _stage(agent, stage, add)
    _code(agent, f"body `{agent.target}`", agent.body, add)
    if agent.postlude is not None:
        _code(agent, "postlude", agent.postlude, add)


def _binding(binding: Binding) -> str:
    if isinstance(binding, BindDeliverer):
        return f"{binding.local} = deliverer of {binding.agent}"
    if isinstance(binding, BindCallable):
        return f"{binding.local} = `{_flat(binding.expression)}`"
    if isinstance(binding, BindRateLimiter):
        return f"{binding.local} = rate limiter {binding.rate} per {binding.per}"
    if isinstance(binding, BindSender):
        return f"{binding.local} = the app's sender"
    if isinstance(binding, BindDirectSender):
        return f"{binding.produce}, {binding.retry}, {binding.cell} = the client's produce"
    if isinstance(binding, BindSendCount):
        return f"{binding.local} = count of records produced to {binding.topic}"
    if isinstance(binding, BindEncoder):
        return f"{binding.local} = {binding.part} encoder of {binding.topic}"
    if isinstance(binding, BindKeyText):
        return f"{binding.local} = {binding.topic} writes str keys as UTF-8"
    if isinstance(binding, BindTopicName):
        return f"{binding.local} = name of {binding.topic}"
    assert isinstance(binding, BindSendSoon)
    return f"{binding.local} = send_soon of {binding.topic}"


def _stage(agent: AgentPlan, stage: Stage, add: object) -> None:
    assert callable(add)
    carried = f"{stage.record} {stage.codec}" if stage.record else stage.codec
    last = "last; " if stage.last else ""
    name = f'"{stage.topic_name}"'
    if not stage.name_fixed:
        name += f" (by default; {stage.name_local or 'its name'} at run time)"
    add(1, f"stage {stage.number} {stage.topic} {name} ({last}{carried})")
    decode = stage.decode
    key = decode.key
    if key is None:
        key_text = "key not decoded"
    elif key.used:
        key_text = f"key {key.load}"
    elif key.by_batch is not None:
        key_text = f"key {key.load} (unused: by batch {key.by_batch})"
    else:
        key_text = f"key {key.load} (unused)"
    value = f"value {decode.value_local}"
    if decode.value_failed is not None:
        value += ", decoder called straight"
    if decode.value_headers:
        value += ", reads the headers"
    if decode.fields_only:
        value += f", fields only ({decode.fields_only})"
    if decode.field_from_key is not None:
        value += f", .{decode.field_from_key} from the key where the keys are its text"
    event = "; makes the Event" if decode.make_event else ""
    add(2, f"decode {key_text}; {value}{event}")
    for step in stage.steps:
        add(2, _step(step), step.line)


def _step(step: Step) -> str:
    if isinstance(step, Filter):
        return f"filter {_apply(step.apply)}"
    if isinstance(step, Map):
        text = f"{step.kind} {_apply(step.apply)}"
        if step.built_as is not None:
            text += f" (built as _{step.built_as}Out)"
        return text
    if isinstance(step, NoAck):
        return "noack"
    if isinstance(step, Echo):
        return "echo " + "; ".join(_send(send) for send in step.sends)
    if isinstance(step, RateLimit):
        return f"rate_limit {step.rate} per {step.per} ({step.limiter})"
    if isinstance(step, Repartition):
        key = step.key
        key_text = f"{key.record}.{key.field}" if isinstance(key, FieldRef) else _apply(key)
        forward = ", value bytes forwarded" if step.forward_value else ""
        return f"group_by {key_text}{forward}: {_send(step.send)}"
    assert isinstance(step, Through)
    return f'through "{step.topic_name}": {_send(step.send)}'


def _apply(apply: Apply) -> str:
    if isinstance(apply, Inline):
        return _flat(apply.expression)
    if isinstance(apply, CallFunction):
        return f"call {'await ' if apply.awaited else ''}{apply.name}"
    assert isinstance(apply, CallBound)
    return f"call {apply.local} (maybe awaited)"


def _argument(argument: Argument) -> str:
    if isinstance(argument, UserExpr):
        return _flat(argument.text)
    if isinstance(argument, LocalName):
        return argument.name
    if isinstance(argument, MessageValue):
        return "<message value>"
    assert isinstance(argument, MessageHeaders)
    return "<message headers>"


def _send(send: Send) -> str:
    arguments = " ".join(f"{name}={_argument(value)}" for name, value in send.arguments())
    out = f" out={send.out_encoder}" if send.out_encoder else ""
    checks = f" (inline: {len(send.out_checks)} checks)" if send.out_checks else ""
    text = " text key inline" if send.text_key else ""
    return f"send {send.topic} via {send.via} {arguments}{out}{checks}{text}".rstrip()


def _code(agent: AgentPlan, title: str, code: UserCode, add: object) -> None:
    assert callable(add)
    lines = code.text.count("\n") or 1
    add(1, f"{title} ({lines} line{'s' if lines != 1 else ''})", code.line)
    for index, hole in enumerate(code.holes):
        first, _ = code.hole_lines[index] if index < len(code.hole_lines) else (0, 0)
        add(2, f"hole {index} {_hole(hole)}", first or None)


def _hole(hole: Hole) -> str:
    if isinstance(hole, Send):
        return _send(hole)
    if isinstance(hole, Deliver):
        context = " with key and headers" if hole.with_context else ""
        awaited = ", awaited" if hole.awaited else ""
        return f"deliver {_flat(hole.value)}{context}{awaited}"
    if isinstance(hole, TableSet):
        return f"table set {hole.table}[{_flat(hole.key)}] = {_flat(hole.value)} (direct)"
    assert isinstance(hole, TableUpdate)
    how = "direct" if hole.direct else "in place" if hole.in_place else "as written"
    target = f"{hole.table}[{_flat(hole.key)}]"
    return f"table update {target} {hole.operator} {_flat(hole.operand)} ({how})"


def _flat(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."
