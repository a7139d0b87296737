"""The plan validator: the invariants the emitter relies on.

A broken invariant is a bug in faustc (a pass that forgot something), so it raises
:class:`PlanError` (an internal error, exit 2). The build runs it on every plan it makes,
so every test that builds a worker validates one. Example::

    validate_plan(plan)      # None, or PlanError("agent x: send on out via produce ...")
"""

from __future__ import annotations

from faustc.plan.model import (
    SEND_WAYS,
    AgentPlan,
    BindCallable,
    BindDeliverer,
    BindDirectSender,
    BindEncoder,
    BindKeyText,
    BindRateLimiter,
    BindSendCount,
    BindSender,
    BindSendSoon,
    BindTopicName,
    CallBound,
    Filter,
    Map,
    RateLimit,
    Repartition,
    Send,
    Through,
    UserCode,
    UserExpr,
    WorkerPlan,
)
from faustc.plan.passes import sends_of

TERMINALS = ("values", "items", "events", "enumerate", "take")


class PlanError(AssertionError):
    """The plan breaks an invariant: a bug in faustc, not in the user's program."""


def validate_plan(plan: WorkerPlan) -> None:
    """Raise PlanError when ``plan`` breaks an invariant."""
    _unique("agent function", [agent.function_name for agent in plan.agents])
    _unique("internal topic", [topic.var for topic in plan.internal_topics])
    for agent in plan.agents:
        _validate_agent(plan, agent)
    built = {agent.sent_as_json for agent in plan.agents if agent.sent_as_json}
    if built != set(plan.sent_as_json):
        raise PlanError(f"Records built as structs {sorted(built)} != {plan.sent_as_json}")


def _validate_agent(plan: WorkerPlan, agent: AgentPlan) -> None:
    name = agent.qualified_name

    def fail(message: str) -> PlanError:
        return PlanError(f"agent {name}: {message}")

    if agent.terminal.kind not in TERMINALS:
        raise fail(f"terminal {agent.terminal.kind}")
    if (agent.terminal.kind == "take") != (agent.terminal.max_ is not None):
        raise fail("take without max_ or max_ without take")
    if [stage.number for stage in agent.stages] != list(range(1, len(agent.stages) + 1)):
        raise fail("stages are not numbered 1..n")
    for stage in agent.stages:
        if stage.last != (stage is agent.stages[-1]):
            raise fail(f"stage {stage.number} is marked last={stage.last}")
        boundaries = [s for s in stage.steps if isinstance(s, Repartition | Through)]
        if stage.last and boundaries:
            raise fail("the last stage ends at a boundary")
        if not stage.last and (len(boundaries) != 1 or stage.steps[-1] is not boundaries[0]):
            raise fail(f"stage {stage.number} does not end at its one boundary")
        key = stage.decode.key
        if key is not None and key.used and key.by_batch is not None:
            raise fail(f"stage {stage.number} checks by batch a key it reads")
        if stage.decode.value_failed is not None and stage.decode.value_headers:
            raise fail(f"stage {stage.number} calls a decoder that reads the headers straight")
        if stage.decode.fields_only and stage.decode.make_event:
            raise fail(f"stage {stage.number} makes Events of views")
        if stage.decode.field_from_key is not None and (
            not stage.decode.fields_only or stage.decode.value_failed is None
        ):
            raise fail(f"stage {stage.number} reads a field from keys but not as a view")
    _validate_locals(agent, fail)
    _validate_sends(agent, fail)
    for code in (agent.prelude, agent.body, agent.postlude):
        if code is not None:
            _validate_code(code, fail)
    built = [
        step
        for stage in agent.stages
        for step in stage.steps
        if isinstance(step, Map) and step.built_as is not None
    ]
    if built and (built[0] is not agent.stages[-1].steps[-1] or len(built) > 1):
        raise fail("only the chain's last map may build its Record as a struct")
    if bool(built) != (agent.sent_as_json is not None):
        raise fail("sent_as_json does not say what the map builds")


def _validate_locals(agent: AgentPlan, fail: object) -> None:
    """Every local is bound once, none is a name the user's code uses."""
    assert callable(fail)
    bound: list[str] = []
    for binding in agent.bindings:
        if isinstance(binding, BindDirectSender):
            bound += [binding.produce, binding.retry, binding.cell]
        else:
            bound.append(binding.local)
    for stage in agent.stages:
        decode = stage.decode
        bound.append(decode.value_local)
        if decode.value_failed is not None:
            bound.append(decode.value_failed)
        if decode.key is not None:
            bound.append(decode.key.load)
            if decode.key.by_batch is not None:
                bound.append(decode.key.by_batch)
    seen: set[str] = set()
    for local in bound:
        if local in seen:
            raise fail(f"local {local} is bound twice")
        seen.add(local)
    clashes = seen & agent.rebound
    if clashes:
        raise fail(f"locals {sorted(clashes)} are names the agent's code binds")
    if not seen <= agent.taken:
        raise fail(f"locals {sorted(seen - agent.taken)} were not given out")
    callables = {b.local for b in agent.bindings if isinstance(b, BindCallable)}
    limiters = {b.local for b in agent.bindings if isinstance(b, BindRateLimiter)}
    for stage in agent.stages:
        for step in stage.steps:
            apply = step.apply if isinstance(step, Filter | Map) else None
            if isinstance(step, Repartition) and isinstance(step.key, CallBound):
                apply = step.key
            if isinstance(apply, CallBound) and apply.local not in callables:
                raise fail(f"callable {apply.local} is not bound")
            if isinstance(step, RateLimit) and step.limiter not in limiters:
                raise fail(f"rate limiter {step.limiter} is not bound")
    if agent.yields != any(isinstance(b, BindDeliverer) for b in agent.bindings):
        raise fail("a deliverer is bound exactly when the agent yields")
    names = {b.local: b.topic for b in agent.bindings if isinstance(b, BindTopicName)}
    for stage in agent.stages:
        if stage.name_local is not None and names.get(stage.name_local) != stage.topic:
            raise fail(f"stage {stage.number} compares with a name not bound from its topic")
        if stage.name_local is not None and stage.name_fixed:
            raise fail(f"stage {stage.number} asks for a name it knows")


def _validate_sends(agent: AgentPlan, fail: object) -> None:
    """Every send's way is bound: its send_soon, or the sender, the topic's name and the
    encoders it calls (and the client's produce)."""
    assert callable(fail)
    sends = agent.sends
    bindings = agent.bindings
    soon = {b.topic for b in bindings if isinstance(b, BindSendSoon)}
    encoders = {(b.topic, b.part) for b in bindings if isinstance(b, BindEncoder)}
    named = {b.topic for b in bindings if isinstance(b, BindTopicName)}
    counted = {b.topic for b in bindings if isinstance(b, BindSendCount)}
    text_keys = {b.topic for b in bindings if isinstance(b, BindKeyText)}
    for send in sends_of(agent):
        where = f"send on {send.topic} via {send.via}"
        if send.via not in SEND_WAYS:
            raise fail(where)
        if send.via == "send_soon":
            if send.topic not in soon:
                raise fail(f"{where}: its send_soon is not bound")
            continue
        if sends.send is None or not any(isinstance(b, BindSender) for b in bindings):
            raise fail(f"{where}: no sender")
        literal, _ = sends.topic_name(send.topic)
        if not literal and send.topic not in named:
            raise fail(f"{where}: the topic's name is not bound")
        for part in _encoded_parts(send):
            if (send.topic, part) not in encoders:
                raise fail(f"{where}: no {part} encoder")
        if send.via == "produce" and (
            sends.produce is None or not any(isinstance(b, BindDirectSender) for b in bindings)
        ):
            raise fail(f"{where}: the client's produce is not bound")
        if send.text_key and (send.via != "produce" or "key" not in _encoded_parts(send)):
            raise fail(f"{where}: a text key inline without a produce of a key")
        if send.text_key and send.topic not in text_keys:
            raise fail(f"{where}: whether its keys are text is not bound")
        if send.out_checks and send.out_encoder is None:
            raise fail(f"{where}: checks inline without the encoder to fall back on")
        if send.via == "produce" and send.topic not in counted:
            raise fail(f"{where}: the count of its records is not bound")
        if send.via == "produce" and {n for n, _ in send.arguments()} - {"key", "value", "headers"}:
            raise fail(f"{where}: produce takes a key, a value and headers only")


def _encoded_parts(send: Send) -> list[str]:
    parts = []
    if send.key is not None and send.key != UserExpr("None"):
        parts.append("key")
    if send.value is not None and send.value != UserExpr("None") and not send.raw_value:
        parts.append("value")
    return parts


def _validate_code(code: UserCode, fail: object) -> None:
    assert callable(fail)
    found = code.text.count(code.marker)
    if found != len(code.holes):
        raise fail(f"code at line {code.line} has {found} hole markers, {len(code.holes)} holes")
    if len(code.hole_lines) != len(code.holes):
        raise fail(f"code at line {code.line}: the holes' source lines are not all known")
    for index in range(len(code.holes)):
        if f"{code.marker}{index}" not in code.text:
            raise fail(f"code at line {code.line} has no marker for hole {index}")


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise PlanError(f"duplicate {what} {name!r} in the plan")
        seen.add(name)
