"""The plan: each pass's decision read on the plan itself, the validator, the printer.

Every app here has an ``Order`` topic ``orders`` and one agent over it whose code a test
gives; what the compiler decided is a field of the plan (``faustc.plan.model``), not a
string searched for in the generated worker. That the decisions keep the app's meaning is
tests/test_hot_path.py's job (the plain plan and the optimised one against the reference).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES
from faustc.build import compile_source
from faustc.plan.model import (
    AgentPlan,
    BindDirectSender,
    BindEncoder,
    BindKeyText,
    BindSendCount,
    BindSender,
    Map,
    Send,
    TableSet,
    TableUpdate,
    UserExpr,
    WorkerPlan,
)
from faustc.plan.passes import PASSES, bind_locals, sends_of
from faustc.plan.printer import format_plan
from faustc.plan.validate import PlanError, validate_plan
from faustc.source import SourceFile


def plan_of(tmp_path: Path, declarations: str, body: str) -> WorkerPlan:
    """The plan of an app with an ``Order`` topic ``orders``, ``declarations`` and one
    agent over ``orders`` whose body is ``body``."""
    source = tmp_path / "app.py"
    source.write_text(
        "import faust\n\n"
        'app = faust.App("plan-test")\n\n\n'
        "class Order(faust.Record):\n"
        "    account: str\n"
        "    amount: float\n\n\n"
        'orders = app.topic("orders", key_type=str, value_type=Order)\n'
        + declarations
        + "\n\n@app.agent(orders)\n"
        "async def agent(stream: faust.Stream[Order]) -> None:\n" + body
    )
    return compile_source(SourceFile.load(source), tmp_path / "build").plan


def agent_of(tmp_path: Path, body: str, declarations: str = "") -> AgentPlan:
    out = 'out = app.topic("out", key_type=str, value_type=float)\n'
    (agent,) = plan_of(tmp_path, out + declarations, body).agents
    return agent


@pytest.mark.parametrize(
    ("loop", "fields_only"),
    [
        ("stream.filter(lambda o: o.amount > 1).map(lambda o: o.amount)", True),
        ("stream.map(lambda o: (o.account, o.amount))", True),
        ("stream.filter(lambda o: o.amount > 1)", False),  # the Order reaches the body
        ("stream.map(lambda o: o.derive(amount=1.0))", False),  # a method, not a field
        ("stream.map(lambda o: str(o))", False),  # the Order itself
        ("stream.filter(lambda o: o.nothing).map(lambda o: o.amount)", False),  # not a field
        ("stream.map(lambda o: [o for o in [1]][0])", True),  # another `o`: never the Order
        ("stream.filter(lambda o: o.amount > 1).events()", False),
    ],
)
def test_a_stage_decodes_fields_only_where_only_fields_are_read(
    tmp_path: Path, loop: str, fields_only: bool
) -> None:
    agent = agent_of(tmp_path, f"    async for value in {loop}:\n        print(value)\n")
    decode = agent.stages[0].decode
    assert (decode.fields_only is not None) is fields_only
    assert decode.value_failed is not None  # the decoder is called straight either way


@pytest.mark.parametrize(
    ("code", "fields_only"),
    [
        ("    async for o in stream:\n        print(o.amount)\n", True),
        (
            "    async for o in stream.filter(lambda x: x.amount > 1):\n"
            "        print(o.account, o.amount)\n",
            True,
        ),
        ("    async for o in stream:\n        f = lambda o: o\n        print(o.amount, f)\n", True),
        ("    async for o in stream:\n        print(o)\n", False),  # the Order itself
        ("    async for o in stream:\n        o.amount = 2.0\n", False),  # a store
        ("    async for o in stream:\n        print(o.amount)\n        o = 3\n", False),
        ("    async for o in stream:\n        del o\n", False),
        ("    async for o in stream:\n        print(o.derive(amount=1.0))\n", False),
        ("    async for o in stream:\n        print(o.amount)\n    print(o)\n", False),
        (
            "    async for o in stream.filter(lambda x: x.amount > 1).events():\n"
            "        print(o.value.amount)\n",
            False,
        ),
        ("    async for o in stream.echo(out):\n        print(o.amount)\n", False),
    ],
)
def test_a_loop_body_that_reads_only_fields_decodes_the_view(
    tmp_path: Path, code: str, fields_only: bool
) -> None:
    """The loop variable may be the Record's view only where every use of it, in the loop
    body and after the loop, reads a field (tests/test_bench.py runs such bodies on the
    broker: stateful_table, windowed, exactly_once)."""
    decode = agent_of(tmp_path, code).stages[0].decode
    assert (decode.fields_only is not None) is fields_only, decode


@pytest.mark.parametrize(
    ("code", "from_key"),
    [
        ("    async for o in stream.group_by(Order.account):\n        print(o.account)\n", True),
        (
            "    async for o in stream.filter(lambda x: x.amount > 1).group_by(Order.account)"
            ".filter(lambda x: x.account != 'a'):\n        print(o.account)\n",
            True,
        ),
        (  # another field too
            "    async for o in stream.group_by(Order.account):\n"
            "        print(o.account, o.amount)\n",
            False,
        ),
        (  # not a str field
            "    async for o in stream.group_by(Order.amount):\n        print(o.amount)\n",
            False,
        ),
        (  # a function key: not known to be a field
            "    async for o in stream.group_by(lambda x: x.account, name='a'):\n"
            "        print(o.account)\n",
            False,
        ),
        (  # a map before: the values are encoded again, not forwarded
            "    async for o in stream.map(lambda x: x.derive(amount=1.0))"
            ".group_by(Order.account):\n        print(o.account)\n",
            False,
        ),
        ("    async for o in stream.group_by(Order.account):\n        print(o)\n", False),
    ],
)
def test_a_group_by_stage_reads_its_key_field_from_the_key(
    tmp_path: Path, code: str, from_key: bool
) -> None:
    """Only the stage after group_by(Record.field) that forwards its values and reads
    nothing but that str field takes it from the key (tests/test_differential.py runs it
    against the reference)."""
    agent = agent_of(tmp_path, code)
    assert agent.stages[0].decode.field_from_key is None
    decode = agent.stages[-1].decode
    assert (decode.field_from_key is not None) is from_key, decode
    if from_key:
        assert decode.field_from_key == "account" and decode.fields_only


def test_sends_become_direct_produces(tmp_path: Path) -> None:
    agent = agent_of(
        tmp_path,
        "    async for order in stream:\n"
        "        await out.send(key=order.account, value=order.amount, partition=1)\n"
        "        out.send_soon(value=order.amount)\n",
    )
    first, second = agent.body.holes
    assert isinstance(first, Send) and isinstance(second, Send)
    # a partition: the app's sender with the topic's encoders
    assert (first.topic, first.via, first.partition) == ("out", "send", UserExpr("1"))
    # a key and a value only: the client's own produce, send() when it raises
    assert (second.topic, second.via, second.key) == ("out", "produce", None)
    assert BindSender("send") in agent.bindings
    assert BindDirectSender("produce", "produce_retry", "send_cell") in agent.bindings
    # its records are counted for /metrics in the loop, one cell per topic produced to
    assert BindSendCount("sent_out", "send_cell", "out") in agent.bindings
    assert agent.sends.count_of("out") == "sent_out"
    assert BindEncoder("encode_key_out", "out", "key") in agent.bindings
    assert BindEncoder("encode_value_out", "out", "value") in agent.bindings


def test_a_topic_with_several_names_keeps_send_soon(tmp_path: Path) -> None:
    agent = agent_of(
        tmp_path,
        "    async for order in stream:\n        await twins.send(value=order.amount)\n",
        'twins = app.topic("twin-a", "twin-b", value_type=float)\n',
    )
    (send,) = agent.body.holes
    assert isinstance(send, Send) and send.via == "send_soon"


def test_a_send_through_a_name_the_agent_binds_is_left_alone(tmp_path: Path) -> None:
    agent = agent_of(
        tmp_path,
        "    out = app.topic('elsewhere')\n"
        "    async for order in stream:\n        await out.send(value=order.amount)\n",
    )
    assert agent.body.holes == ()
    assert "out" in agent.rebound


def sender_plan(tmp_path: Path, record: str, body: str) -> AgentPlan:
    (agent,) = plan_of(
        tmp_path,
        "\n\n" + record + "\n\n"
        'out = app.topic("out", key_type=str, value_type=Total)\n'
        'texts = app.topic("texts", key_type=str, value_type=str)\n'
        'twins = app.topic("twin-a", "twin-b", value_type=Total)\n\n\n'
        "def keep(total: Total) -> None:\n    pass\n",
        body,
    ).agents
    return agent


TOTAL = "class Total(faust.Record):\n    account: str\n    cents: int\n    ok: bool | None\n"
MAP = "stream.map(lambda o: Total(o.account, round(o.amount), ok=o.amount > 1))"


@pytest.mark.parametrize(
    ("record", "loop", "body", "as_struct"),
    [
        (TOTAL, MAP, "await out.send(key=t.account, value=t)", True),
        (TOTAL, MAP, "out.send_soon(value=t)\n        print(t.cents)", True),
        (TOTAL, MAP, "await texts.send(value=f'{t.cents}')", True),  # fields read only
        (TOTAL, MAP, "await out.send(key=t.account, value=t)\n    print(t)", False),  # after
        (TOTAL, MAP, "keep(t)", False),  # escapes into a function
        (TOTAL, MAP, "print(t)", False),
        (TOTAL, MAP, "t.cents = 1", False),  # a store
        (TOTAL, MAP, "await texts.send(value=t)", False),  # a topic of another type
        (TOTAL, MAP, "await twins.send(value=t)", False),  # two names: send_soon raises
        (TOTAL, MAP, "x = out.send_soon(value=t)", False),  # not a statement
        (TOTAL, MAP, "async def later():\n            await out.send(value=t)", False),
        (TOTAL, "stream.map(lambda o: Total(o.account, 1))", "out.send_soon(value=t)", False),
        (TOTAL, "stream.map(lambda o: Total(*o))", "out.send_soon(value=t)", False),
        (TOTAL, f"{MAP}.filter(lambda t: t.ok)", "out.send_soon(value=t)", False),
        (  # a float field: msgspec writes 1e16 where orjson writes 1e+16
            TOTAL.replace("cents: int", "cents: float"),
            MAP,
            "out.send_soon(value=t)",
            False,
        ),
        (TOTAL + "\n    def total(self) -> int:\n        return 1\n", MAP, "print(t.cents)", False),
        (TOTAL.replace("(faust.Record)", "(faust.Record, validation=True)"), MAP, "pass", False),
        (TOTAL.replace("ok: bool | None", "ok: bool = True"), MAP, "out.send_soon(value=t)", True),
    ],
)
def test_a_record_built_only_to_be_sent_is_built_as_its_json_struct(
    tmp_path: Path, record: str, loop: str, body: str, as_struct: bool
) -> None:
    """The plan builds the Record as a msgspec struct only where nothing but sends on
    JSON topics of its type and field reads can see it, and building it stores its fields
    and nothing else."""
    agent = sender_plan(tmp_path, record, f"    async for t in {loop}:\n        {body}\n")
    assert (agent.sent_as_json == "Total") is as_struct
    last = agent.stages[-1].steps[-1]
    assert (isinstance(last, Map) and last.built_as == "Total") is as_struct
    sent = [s for s in sends_of(agent) if s.value == UserExpr("t")]
    assert all((s.out_encoder == "encode_total_out") is as_struct for s in sent)


def test_a_struct_sent_is_checked_at_its_send_site(tmp_path: Path) -> None:
    """The send of a Record built as its struct carries the checks under which msgspec
    writes what the dumper writes (exact types, ints within 64 bits, None for optional
    fields), tested at the send site before its encoder is called."""
    agent = sender_plan(
        tmp_path,
        TOTAL,
        f"    async for t in {MAP}:\n        await out.send(key=t.account, value=t)\n",
    )
    (send,) = sends_of(agent)
    assert send.out_encoder == "encode_total_out"
    assert send.out_checks == (
        "type(t.account) is str",
        "type(t.cents) is int",
        "-(2**63) <= t.cents < 2**64",
        "(t.ok is None or type(t.ok) is bool)",
    )


@pytest.mark.parametrize(
    ("topic", "key", "text_key"),
    [
        ('app.topic("out", key_type=str, value_type=float)', "o.account", True),
        ('app.topic("out", value_type=float)', "o.account", True),  # raw: the default
        (
            'app.topic("out", key_type=str, key_serializer="json", value_type=float)',
            "o.account",
            False,
        ),
        ('app.topic("out", key_type=Order, value_type=float)', "o", False),  # a Record key
        ('app.topic("out", key_type=str, value_type=float)', "None", False),  # no key
    ],
)
def test_a_text_key_is_encoded_at_the_send_site(
    tmp_path: Path, topic: str, key: str, text_key: bool
) -> None:
    """A produce with a key to a topic whose keys the compiler expects to be text asks the
    topic once whether its dumper writes str keys as UTF-8 (``BindKeyText``)."""
    (agent,) = plan_of(
        tmp_path,
        f"out = {topic}\n",
        f"    async for o in stream:\n        await out.send(key={key}, value=o.amount)\n",
    ).agents
    (send,) = sends_of(agent)
    assert send.via == "produce" and send.text_key is text_key
    bound = [b for b in agent.bindings if isinstance(b, BindKeyText)]
    assert bound == ([BindKeyText(agent.sends.text_key_of("out"), "out")] if text_key else [])


def test_a_json_view_decoded_straight_runs_inline(tmp_path: Path) -> None:
    """A stage decoding its Record's JSON view straight runs the view's lines itself,
    where the runtime chose that view; a stage decoding whole Records does not."""
    loop = "stream.filter(lambda o: o.amount > 1).map(lambda o: o.amount)"
    agent = agent_of(tmp_path, f"    async for a in {loop}:\n        print(a)\n")
    decode = agent.stages[0].decode
    assert decode.fields_only and decode.json_view == "Order" and decode.view_local
    agent = agent_of(tmp_path, "    async for o in stream:\n        print(o)\n")
    assert agent.stages[0].decode.json_view is None


@pytest.mark.parametrize(
    ("statement", "update"),
    [
        ("totals[o.account] += 1", ("o.account", "iadd", "1")),
        ("totals[o.account] -= o.amount", ("o.account", "isub", "o.amount")),
        ("totals['all'] |= flag", ("'all'", "ior", "flag")),
        ("totals[o.account] += len(o.account)", None),  # a call may touch the table
        ("totals[o.account] += totals['x']", None),
        ("totals[1:2] += 1", None),  # a slice
        ("other[o.account] += 1", None),  # not a table
    ],
)
def test_a_table_updated_in_place_is_one_call(
    tmp_path: Path, statement: str, update: tuple[str, str, str] | None
) -> None:
    (agent,) = plan_of(
        tmp_path,
        'totals = app.Table("totals", default=int)\nother: dict[str, int] = {}\nflag = 1\n',
        f"    async for o in stream:\n        {statement}\n",
    ).agents
    holes = agent.body.holes
    if update is None:
        assert holes == ()
    else:
        (hole,) = holes
        assert isinstance(hole, TableUpdate) and hole.in_place
        assert (hole.key, hole.operator, hole.operand) == update
        assert hole.direct  # in the message loop, nothing awaited: on the store


def test_table_access_in_the_loop_is_direct_unless_the_body_awaits(tmp_path: Path) -> None:
    """Reads and writes of a table in the message loop go to the message's store
    (``faust.compiled.table_access``); a body that awaits keeps the table's methods (a
    rebalance may take the partition away meanwhile), and so does code outside the loop."""
    module = 'totals = app.Table("totals", default=int)\nout = app.topic("out")\n'
    body = (
        "    async for o in stream:\n"
        "        totals[o.account] = totals[o.account] + 1\n"
        "        print(totals.get(o.account, 0), lambda: totals[o.account])\n"
        "        totals[o.account] += 1\n"
    )
    (agent,) = plan_of(tmp_path, module, body).agents
    set_hole, update = agent.body.holes
    assert isinstance(set_hole, TableSet) and set_hole.key == "o.account"
    assert isinstance(update, TableUpdate) and update.direct
    (names,) = agent.body.tables
    assert names.table == "totals" and not names.windows  # read and set: no window key
    text = agent.body.text
    assert text.count(f"{names.data}.get(") == 1  # print's first argument, not the lambda's
    assert "_table_get(totals, " in text and "lambda: totals[o.account]" in text
    assert f"{names.data}.get(" in set_hole.value and "_table_item(totals, " in set_hole.value
    only_updates = "    async for o in stream:\n        totals[o.account] += 1\n"
    (agent,) = plan_of(tmp_path, module, only_updates).agents
    assert agent.body.tables[0].windows
    awaits = (
        "    async for o in stream:\n"
        "        totals[o.account] = totals.get(o.account)\n"
        "        await out.send(value=o)\n"
    )
    (agent,) = plan_of(tmp_path, module, awaits).agents
    assert agent.body.tables == ()
    assert not any(isinstance(hole, TableSet) for hole in agent.body.holes)
    assert "totals.get(o.account)" in agent.body.text


def test_an_unused_key_is_checked_by_batch_and_a_used_one_decoded(tmp_path: Path) -> None:
    unused = agent_of(tmp_path, "    async for o in stream:\n        print(o.amount)\n")
    used = agent_of(tmp_path, "    async for k, o in stream.items():\n        print(k)\n")
    unused_key, used_key = unused.stages[0].decode.key, used.stages[0].decode.key
    assert unused_key is not None and not unused_key.used and unused_key.by_batch
    assert used_key is not None and used_key.used and used_key.by_batch is None


def test_only_an_agent_that_asks_for_the_current_event_makes_events(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text(
        "import faust\n\n"
        'app = faust.App("events")\n'
        'numbers = app.topic("numbers", value_type=int)\n'
        "# current_event() is not called here\n\n\n"
        "@app.agent(numbers)\n"
        "async def plain(stream: faust.Stream[int]) -> None:\n"
        "    async for n in stream:\n        print(n)\n\n\n"
        "@app.agent(numbers)\n"
        "async def asking(stream: faust.Stream[int]) -> None:\n"
        "    async for n in stream:\n        print(faust.current_event(), n)\n"
    )
    plan = compile_source(SourceFile.load(source), tmp_path / "build").plan
    made = {a.agent_var: a.stages[0].decode.make_event for a in plan.agents}
    assert made == {"plain": False, "asking": True}


def test_the_plain_plan_sends_through_send_soon_and_decodes_records(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text((EXAMPLES / "big_orders.py").read_text())
    plan = compile_source(SourceFile.load(source), tmp_path / "b", passes=(bind_locals,)).plan
    (agent,) = plan.agents
    assert {send.via for send in sends_of(agent)} == {"send_soon"}
    decode = agent.stages[0].decode
    assert decode.fields_only is None and decode.value_failed is None
    assert decode.key is not None and decode.key.by_batch is None


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_plan_validates_and_prints(example: str, tmp_path: Path) -> None:
    for passes in (PASSES, (bind_locals,)):
        plan = compile_source(SourceFile.load(EXAMPLES / example), tmp_path, passes=passes).plan
        validate_plan(plan)
        printed = format_plan(plan)
        assert printed.startswith(f"worker {plan.module} ({example})")
        assert all(f"agent {agent.qualified_name} ->" in printed for agent in plan.agents)


def test_the_validator_finds_a_send_without_its_bindings(tmp_path: Path) -> None:
    plan = compile_source(SourceFile.load(EXAMPLES / "big_orders.py"), tmp_path).plan
    (agent,) = plan.agents
    broken = dataclasses.replace(
        agent, bindings=tuple(b for b in agent.bindings if not isinstance(b, BindEncoder))
    )
    with pytest.raises(PlanError, match="encoder"):
        validate_plan(dataclasses.replace(plan, agents=(broken,)))


def test_dump_plan_prints_the_decisions(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "faustc", "build", str(EXAMPLES / "withdrawals.py")),
            *("-o", str(tmp_path), "--no-typecheck", "--dump-plan"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    assert 'worker withdrawals (withdrawals.py), app "withdrawals"' in out
    assert "group_by Withdrawal.user, value bytes forwarded" in out
    assert "fields only (up to .group_by() (line 32)" in out
    assert "via produce" in out


TOTALS = 'totals = app.Table("totals", default=int)\npairs = app.Table("pairs")\n'


@pytest.mark.parametrize(
    ("body", "at_fallbacks"),
    [
        # direct reads and writes, builtins: nothing reads the mark but the fallbacks
        ("    async for o in stream:\n        totals[o.account] += 1\n", True),
        (
            "    async for o in stream:\n"
            "        count, total = pairs.get(o.account) or (0, 0.0)\n"
            "        pairs[o.account] = [count + 1, round(total + o.amount, 2)]\n",
            True,
        ),
        # the stream's steps: a lambda of fields and builtins, a field key, a send
        (
            "    async for o in stream.filter(lambda o: o.amount > 1):\n"
            "        totals[o.account] += 1\n"
            "        out.send_soon(key=o.account, value=o.amount)\n",
            True,
        ),
        (
            "    async for o in stream.group_by(Order.account, name='a'):\n"
            "        totals[o.account] += 1\n",
            True,  # two stages: the group_by's and the body's
        ),
        (
            "    async for o in stream.filter(lambda o: abs(o.amount) > 1).group_by(\n"
            "        lambda o: o.account.lower(), name='a'\n"
            "    ).map(lambda o: o.amount):\n"
            "        totals[o] += 1\n",
            False,  # the group_by's lambda calls a method of the value
        ),
        (
            "    async for o in stream.filter(lambda o: o.amount > 1).group_by(\n"
            "        lambda o: o.account, name='a'\n"
            "    ).map(lambda o: o.amount):\n"
            "        totals[o] += 1\n",
            True,
        ),
        (
            "    async for o in stream.group_by(helper, name='a'):\n"
            "        totals[o.account] += 1\n",
            False,  # a function of the user's makes the key
        ),
        (
            "    async for o in stream.filter(lambda o: o.account in totals):\n"
            "        totals[o.account] += 1\n",
            False,  # a table through its methods, in a lambda
        ),
        (
            "    async for o in stream.filter(lambda o: max(o.amount, 1) > 1):\n"
            "        totals[o.account] += 1\n",
            False,  # the module's max, not the builtin
        ),
        (
            "    async for o in stream.filter(lambda abs: abs(1) > 0):\n"
            "        totals[o.account] += 1\n",
            False,  # the lambda's parameter, not the builtin: it calls the value
        ),
        (
            "    async for o in stream.rate_limit(10, per=1.0):\n        totals[o.account] += 1\n",
            False,
        ),
        (
            "    async for o in stream:\n"
            "        totals[o.account] += 1\n"
            "        out.send_soon(key=o.account, value=o.amount)\n",
            True,
        ),
        ("    async for o in stream:\n        out.send_soon(key=o.account, value=f(o))\n", False),
        ("    async for o in stream:\n        print(o)\n        totals[o.account] += 1\n", False),
        (
            "    async for o in stream:\n        totals[o.account] += len(o.account.upper())\n",
            False,
        ),
        ("    async for o in stream:\n        if o.account in totals:\n            pass\n", False),
        ("    async for o in stream:\n        del totals[o.account]\n", False),
        ("    async for o in stream:\n        totals[o.account] = helper(o)\n", False),
        ("    async for o in stream:\n        asyncio.ensure_future(later(o))\n", False),
        ("    async for o in stream:\n        e = faust.current_event()\n", False),
        (
            "    async for o in stream:\n        totals[o.account] += 1\n        await later(o)\n",
            False,
        ),
        ("    async for o in stream.map(helper):\n        totals[o] += 1\n", False),
        ("    async for o in stream:\n        totals[o.account] += 1\n    print('done')\n", False),
        # a builtin's name the module rebinds is not the builtin
        ("    async for o in stream:\n        totals[o.account] += max(1, 2)\n", False),
    ],
)
def test_the_loop_marks_the_message_only_where_it_is_read(
    tmp_path: Path, body: str, at_fallbacks: bool
) -> None:
    """An agent of an app with tables marks every message current unless nothing its loop
    runs per message (a call of the user's, a table's own method, code after the loop)
    reads the mark; then only its fallbacks mark it (``mark_messages_at_fallbacks``)."""
    declarations = (
        TOTALS
        + "import asyncio\n\n\ndef helper(o):\n    return o\n\n\n"
        + "async def later(o):\n    return None\n\n\n"
        + "def f(o):\n    return 1.0\n\n\n"
        + ("def max(a, b):\n    return a\n" if "max(" in body else "")
    )
    agent = agent_of(tmp_path, body, declarations)
    assert agent.message_at_fallbacks is at_fallbacks
    assert agent.set_current_message is not at_fallbacks


def test_an_app_without_tables_marks_no_message(tmp_path: Path) -> None:
    agent = agent_of(tmp_path, "    async for o in stream:\n        print(o)\n")
    assert not agent.set_current_message and not agent.message_at_fallbacks
