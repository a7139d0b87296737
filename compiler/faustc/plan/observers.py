"""Can anything a fused loop runs per message read the message in hand? Where it must be marked.

A table's own methods find the partition (and a windowed table the time) of the message
being processed in ``faust.events.current_message()``, which the loop sets per message
(``set_current_message``: a context-variable ``set`` and its Token, ~0.1 µs). When the loop
body reaches tables only through the direct access the compiler writes (the store of the
message's partition) and otherwise calls nothing but a few builtins, nothing in the body
reads it: the loop then marks the message only before the paths that run a table's
methods (a table without direct access in this batch, a windowed update of a message
without a timestamp) and before the error policy. Example::

    # async for order in orders:
    #     count, total = totals.get(order.account_id) or (0, 0.0)
    #     totals[order.account_id] = [count + 1, total + order.amount]
    observed_per_message(agent, tables, module_names)   # None: mark at the fallbacks only
    # ... with ``print(order)`` in the body:
    observed_per_message(agent, tables, module_names)   # "it calls print": every message

The code checked is the code the loop runs, as ``faustc.plan.rewrite`` leaves it (its direct
table reads are ``_table_get``/``_table_item`` calls on a miss, which take the store and
never read the message), and the code of its holes: :class:`MessageReads` visits those
syntax trees as the rewriter makes them (``UserCode.message_read``); the pass
``mark_messages_at_fallbacks`` asks :func:`observed_per_message`. The stream's steps in
every stage (a ``group_by`` makes two) are checked too (:func:`step_reads`): a field key,
a lambda inlined (its body visited as the loop body is, when the plan inlines it:
:func:`lambda_reads`), a send; a function of the user's, a bound callable or a
``rate_limit`` is looked no further into.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

import libcst as cst

from faustc.front.ir import FieldRef, TableDef
from faustc.plan.model import (
    AgentPlan,
    Apply,
    Echo,
    Filter,
    Inline,
    Map,
    Repartition,
    Step,
    TableUpdate,
    Through,
)

#: builtins the body may call: on the values a loop body holds they run no code that can
#: reach a table (a user's dunder method reaching one is not considered)
SAFE_CALLS = frozenset(
    {
        "abs",
        "bool",
        "divmod",
        "float",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "round",
        "str",
        "sum",
        "tuple",
    }
)

#: a table's ``default=`` that calls nothing of the user's on a miss
SAFE_DEFAULTS = frozenset({"None", "int", "float", "str", "list", "dict", "set", "tuple", "bool"})

#: the direct reads' miss helpers (``faustc.plan.rewrite``): the table is their first argument
MISS_HELPERS = frozenset({"_table_get", "_table_item"})

#: statements and expressions whose code the loop cannot see through
_OPAQUE: tuple[type[cst.CSTNode], ...] = (
    cst.Await,
    cst.Yield,
    cst.Lambda,
    cst.FunctionDef,
    cst.ClassDef,
    cst.Import,
    cst.ImportFrom,
    cst.Global,
    cst.Nonlocal,
    cst.With,
)


def observed_per_message(
    agent: AgentPlan, tables: Mapping[str, TableDef], module_names: AbstractSet[str]
) -> str | None:
    """Why the loop of ``agent`` must mark every message current (None: nothing it runs
    per message reads the mark outside the fallback paths). ``tables``: the module's
    tables by variable; ``module_names``: the names the module binds (a builtin it
    rebinds is not the builtin)."""
    if agent.set_current_event:
        return "the agent asks for current_event()"
    if agent.terminal.kind not in ("values", "items", "enumerate"):
        return f"the loop takes {agent.terminal.kind}"
    if agent.noack or agent.yields:
        return "the loop acks by hand or yields"
    shadowed_names = module_names | agent.rebound
    for stage in agent.stages:
        for step in stage.steps:
            why = step_reads(step, shadowed_names)
            if why is not None:
                return why
    if agent.postlude is not None and agent.postlude.text.strip():
        return "code runs after the loop"
    body = agent.body
    if body.message_read is not None:
        return body.message_read
    shadowed = body.builtins_called & (module_names | agent.rebound)
    if shadowed:
        return f"it calls {', '.join(sorted(shadowed))} of the module's"
    for hole in body.holes:
        if isinstance(hole, TableUpdate) and not hole.direct:
            return f"{hole.table}: updated through its methods"
    for used in body.tables:
        default = tables[used.table].default if used.table in tables else "?"
        if default is not None and (default not in SAFE_DEFAULTS or default in shadowed_names):
            return f"{used.table}: its default {default} runs on a miss"
    return None


def step_reads(step: Step, shadowed: AbstractSet[str]) -> str | None:
    """Why a step of the stream may read the current message (None: it reads a field,
    runs a lambda that calls nothing but :data:`SAFE_CALLS` and names no table, or
    sends, as a send in the body does). ``shadowed``: names the module or the agent binds
    (a builtin of that name is not the builtin)."""
    if isinstance(step, Echo | Through):
        return None
    if isinstance(step, Repartition):
        if isinstance(step.key, FieldRef):
            return None
        return _inlined_reads(step.key, shadowed, "group_by")
    if isinstance(step, Filter | Map):
        kind = "filter" if isinstance(step, Filter) else step.kind
        return _inlined_reads(step.apply, shadowed, kind)
    return f"the stream's {type(step).__name__} step"


def _inlined_reads(apply: Apply, shadowed: AbstractSet[str], kind: str) -> str | None:
    if not isinstance(apply, Inline):
        return f"its {kind} calls a function"
    if apply.message_read is not None:
        return f"its {kind}: {apply.message_read}"
    called = apply.builtins_called & shadowed
    if called:
        return f"its {kind} calls {', '.join(sorted(called))} of the module's"
    return None


def lambda_reads(
    node: cst.Lambda, *, tables: AbstractSet[str], rebound: AbstractSet[str]
) -> MessageReads:
    """:class:`MessageReads` of a lambda's body (its parameters are not the builtins
    they may be named after); the plan stores its verdict on the step's ``Inline``."""
    params = node.params
    names = {param.name.value for param in (*params.posonly_params, *params.params)}
    names |= {param.name.value for param in params.kwonly_params}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    found = MessageReads(
        tables=tables, reads=frozenset(), rebound=rebound | names, allowed=frozenset()
    )
    node.body.visit(found)
    return found


class MessageReads(cst.CSTVisitor):
    """Visits the code a loop runs per message: ``why`` it may read the current message
    (a call of anything but :data:`SAFE_CALLS`, the miss helpers and the direct reads'
    ``<data>.get``; a table named anywhere but as a direct write's table (``allowed``,
    node ids) or a miss helper's first argument; code the loop cannot see through), None:
    nothing; and the builtins it calls (:meth:`builtins`)."""

    def __init__(
        self,
        *,
        tables: AbstractSet[str],
        reads: AbstractSet[str],
        rebound: AbstractSet[str],
        allowed: AbstractSet[int],
    ) -> None:
        self.tables = tables
        self.reads = reads
        self.rebound = rebound
        self.why: str | None = None
        self.allowed = set(allowed)
        self.called: set[str] = set()

    def builtins(self) -> frozenset[str]:
        return frozenset(self.called)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.why is not None:
            return False
        if isinstance(node, _OPAQUE):
            self.why = f"it has {type(node).__name__}"
            return False
        if isinstance(node, cst.Call):
            func = node.func
            name = func.value if isinstance(func, cst.Name) else None
            if name in MISS_HELPERS and name not in self.rebound and node.args:
                self.allowed.add(id(node.args[0].value))
            elif (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value in self.reads
                and func.attr.value == "get"
            ):
                pass
            elif name is not None and name in SAFE_CALLS and name not in self.rebound:
                self.called.add(name)
            else:
                self.why = f"it calls {cst.Module([]).code_for_node(func)}"
                return False
        if (
            isinstance(node, cst.Name)
            and node.value in self.tables
            and id(node) not in self.allowed
        ):
            self.why = f"it uses {node.value} through its methods"
            return False
        return True
