"""Write one fused agent (or task) from its plan: the bindings, the loop, each stage.

Example (``examples/big_orders.py``, abridged)::

    async def fused_find_big_orders(orders: Stream[Order]) -> None:
        load_value, value_failed = orders_topic.value_decoder()
        ...
        async for batch in orders.batches():
            for message in batch:
                try:
                    ...
                    if not (value.amount >= BIG):  # big_orders.py:27
                        continue
"""

from __future__ import annotations

from faustc.codecs.json import json_view_function, write_json_view_inline
from faustc.emit.emitter import Emitter, Ternary, python_literal
from faustc.front.ir import FieldRef
from faustc.plan.model import (
    AgentPlan,
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
    Echo,
    Filter,
    Hole,
    Inline,
    LocalName,
    MessageHeaders,
    MessageValue,
    NoAck,
    RateLimit,
    Repartition,
    Send,
    Stage,
    Step,
    TableLocals,
    TableSet,
    TableUpdate,
    Through,
    UserCode,
    UserExpr,
    WorkerPlan,
)
from faustc.plan.passes import sends_of


class AgentWriter:
    """Writes one agent's fused function (see the module docstring)."""

    def __init__(self, plan: WorkerPlan, agent: AgentPlan, out: Emitter) -> None:
        self.plan = plan
        self.agent = agent
        self.n = agent.locals
        self.out = out
        self.display = plan.display_name
        self.where = f'"{plan.display_name}:{agent.loop_line}"'
        #: table -> its direct-access names (the message loop's body)
        self.tables = {names.table: names for names in agent.body.tables}
        #: the tables whose tumbling window's key the loop computes itself
        self.windowed = {
            names.table
            for names in agent.body.tables
            if names.windows
            and not agent.set_current_event  # the current event's time decides then
            and all(
                hole.operator in BINARY_OPERATORS
                for hole in agent.body.holes
                if isinstance(hole, TableUpdate) and hole.table == names.table
            )
        }

    def marker(self, line: int | None) -> str:
        """The comment that cites the user's line, beside generated code."""
        return f"  # {self.display}:{line}" if line is not None else ""

    # -- the function ------------------------------------------------------------------------

    def write(self) -> None:
        out, agent, n = self.out, self.agent, self.n
        out.line(f"# {self.display}:{agent.line}  {agent.kind} {agent.qualified_name}")
        if agent.kind == "task":
            header = f"async def {agent.function_name}() -> None:"
            stream = f"{out.use('Stream')}[{self.value_type()}]"
            doc = "The task's code"
        else:
            stream = f"{out.use('Stream')}[{self.value_type()}]"
            header = f"async def {agent.function_name}({agent.param}: {stream}) -> None:"
            doc = "The agent's code"
        with out.block(header):
            out.line(f'"""{doc} with its stream loop ({self.display}:{agent.loop_line}) fused."""')
            if agent.kind == "task":
                out.line(
                    f"{agent.param}: {stream} = {self.plan.app_var}.stream({agent.stages[0].topic})"
                )
            for stage in agent.stages[1:]:
                out.line(f"{agent.param}.consume_topic({stage.topic})")
            for stage in agent.stages:
                self.decoders(stage)
            out.line(f"{n.handle_error} = {agent.param}.handle_error")
            if agent.noack:
                out.line(f"{n.holds} = {agent.param}.holds")
            for binding in agent.bindings:
                out.raw_line(self.binding(binding))
            if any(stage.decode.json_view for stage in agent.stages):
                out.line(f"{n.value}: {out.use_module('typing', 'Any')}  # views, Records, ...")
            if any(send.out_checks for send in sends_of(agent)):
                out.line(f"{agent.sends.value}: bytes | None  # msgspec's bytes, or the dumper's")
            if agent.prelude is not None:
                out.line(f"# {self.display}:{agent.prelude.line}")
                self.user_code(agent.prelude)
            if agent.terminal.kind == "enumerate":
                out.raw_line(f"{n.index} = {agent.terminal.start}")
            if agent.terminal.kind == "take":
                self.take_loop()
            else:
                self.table_declarations()
                self.batch_loop()
            if agent.postlude is not None:
                out.line(f"# {self.display}:{agent.postlude.line}")
                self.user_code(agent.postlude)

    def value_type(self) -> str:
        """The type of the values the agent's stream carries (Any: the compiler cannot
        name it)."""
        return self.agent.value_type or self.out.use_module("typing", "Any")

    def decoders(self, stage: Stage) -> None:
        out, decode = self.out, stage.decode
        key = decode.key
        if key is not None and key.by_batch is not None:
            out.lines(_KEYS_CHECKED)
            out.line(f"{key.by_batch} = {stage.topic}.keys_check()")
        if key is not None:
            out.line(f"{key.load} = {stage.topic}.key_loader()")
        if decode.field_from_key is not None:
            field = decode.field_from_key
            out.line(f"# the loop body reads only {stage.record}.{field}, the group_by key:")
            out.line("# read from the key where the keys are its text, else from the value")
            targets = f"{decode.value_local}, {decode.value_failed}"
            out.call(f"{targets} = {stage.topic}.field_decoder", [python_literal(field)])
            return
        if decode.fields_only:
            out.line(f"# {decode.fields_only}: decode those, not whole Records")
        fields_only = "fields_only=True" if decode.fields_only else ""
        if decode.value_failed is not None:
            targets = f"{decode.value_local}, {decode.value_failed}"
            out.call(
                f"{targets} = {stage.topic}.value_decoder", [fields_only] if fields_only else []
            )
            if decode.json_view is not None:
                view = json_view_function(decode.json_view)
                out.line(
                    "# where the runtime chose the generated view (as usual), its lines run inline"
                )
                out.line(f"{decode.view_local} = {decode.value_local} is {view}")
        else:
            loader = f"{decode.value_local} = {stage.topic}.value_loader"
            out.call(loader, [fields_only] if fields_only else [])

    def binding(self, binding: Binding) -> str:
        app = self.plan.app_var
        if isinstance(binding, BindDeliverer):
            return f"{binding.local} = {binding.agent}.deliverer()"
        if isinstance(binding, BindCallable):
            return f"{binding.local} = {binding.expression}"
        if isinstance(binding, BindRateLimiter):
            limiter = self.out.use("RateLimiter")
            return f"{binding.local} = {limiter}({binding.rate}, per={binding.per})"
        if isinstance(binding, BindSender):
            return f"{binding.local} = {app}.sender()"
        if isinstance(binding, BindDirectSender):
            targets = f"{binding.produce}, {binding.retry}, {binding.cell}"
            return f"{targets} = {app}.counting_sender()"
        if isinstance(binding, BindSendCount):
            literal, name = self.agent.sends.topic_name(binding.topic)
            topic = python_literal(name) if literal else name
            return f"{binding.local} = {binding.cell}({topic})"
        if isinstance(binding, BindEncoder):
            return f"{binding.local} = {binding.topic}.{binding.part}_dumper()"
        if isinstance(binding, BindKeyText):
            return f"{binding.local} = {binding.topic}.key_dumper_is_text()"
        if isinstance(binding, BindTopicName):
            return f"{binding.local} = {binding.topic}.get_topic_name()"
        assert isinstance(binding, BindSendSoon)
        return f"{binding.local} = {binding.topic}.send_soon"

    # -- the loops ---------------------------------------------------------------------------

    def stage_comment(self, stage: Stage) -> str:
        comment = f"# stage {stage.number}: the messages of {stage.topic_name!r}"
        boundary = stage.boundary
        if boundary is not None:
            kind = "group_by" if isinstance(boundary, Repartition) else "through"
            comment += f", then .{kind}() to stage {stage.number + 1}"
        return comment

    def earlier_stages(self, after: str) -> None:
        out, n = self.out, self.n
        for stage in self.agent.stages[:-1]:
            out.line(self.stage_comment(stage))
            name = stage.name_local or python_literal(stage.topic_name)
            with out.block(f"if {n.batch} and {n.batch}[0].topic() == {name}:"):
                key = stage.decode.key
                if key is not None and key.by_batch is not None:
                    out.line(f"{n.keys_valid} = {key.by_batch}({n.batch})")
                with out.block(f"for {n.message} in {n.batch}:"):
                    with out.block("try:"):
                        self.decode(stage)
                        self.steps(stage)
                    with out.block(f"except Exception as {n.exc}:"):
                        if self.agent.message_at_fallbacks:
                            self.mark_message()
                        out.line(f"{n.handle_error}({n.exc}, {n.message}, {self.where})")
                out.line(after)

    def last_stage_head(self) -> Stage:
        out, n = self.out, self.n
        last = self.agent.stages[-1]
        if len(self.agent.stages) > 1:
            out.line(self.stage_comment(last))
        key = last.decode.key
        if key is not None and key.by_batch is not None:
            out.line(f"{n.keys_valid} = {key.by_batch}({n.batch})")
        return last

    # -- tables read and written directly (faust.compiled.table_access) --------------------

    def table_declarations(self) -> None:
        """The temporaries of direct table access hold keys and values of any type."""
        if not self.tables:
            return
        any_ = self.out.use_module("typing", "Any")
        for names in self.tables.values():
            self.out.line(f"{names.key}: {any_}")
            self.out.line(f"{names.value}: {any_}")
            if names.table in self.windowed:
                self.out.line(f"{names.wkey}: {any_}")
                self.out.line(f"{names.operand}: {any_}")

    def table_batch(self) -> None:
        """Once per batch: each table's stores (none: its methods run, e.g. a sensor with
        table hooks is installed)."""
        out = self.out
        for names in self.tables.values():
            if names.table not in self.windowed:
                access = out.use("table_access")
                targets = f"{names.stores}, {names.window}, {names.target}"
                out.assign_call(targets, access, [names.table])
                continue
            access = out.use("window_access")
            parts = (names.stores, names.window, names.target, names.expires, names.clock)
            targets = ", ".join((*parts, names.hops))
            if out.fits(f"{targets} = ("):
                out.assign_call(targets, access, [names.table])
            else:  # ruff's form of a long target list: one name a line
                out.line("(")
                with out.indented():
                    for name in targets.split(", "):
                        out.line(f"{name},")
                out.line(f") = {access}({names.table})")
            out.line(f"{names.start} = -1.0  # the window last computed")
            out.assign_tuple(names.range, [names.start, names.start])
            out.line(f"{names.limit} = {names.start}  # its clock's limit (with expires)")

    def table_message(self) -> None:
        """Once per message: each table's store of the message's partition, its data."""
        out, n = self.out, self.n
        for names in self.tables.values():
            out.line(f"{names.store} = {names.stores}.get({n.message}.partition() or 0)")
            no_data = out.use("NO_DATA")
            out.assign(
                names.data, Ternary(no_data, f"{names.store} is None", f"{names.store}.data")
            )
            if self.agent.message_at_fallbacks:
                with out.block(f"if {names.store} is None:  # the table's methods read it"):
                    self.mark_message()
        if self.tables:
            # the names a rewritten read uses (faustc.plan.rewrite)
            for name in ("ABSENT", "table_get", "table_item"):
                if f"_{name}" in self.agent.body.text:
                    out.use(name)

    def batch_loop(self) -> None:
        out, n, agent = self.out, self.n, self.agent
        with out.block(f"async for {n.batch} in {agent.param}.batches():"):
            self.earlier_stages("continue")
            last = self.last_stage_head()
            self.table_batch()
            with out.block(f"for {n.message} in {n.batch}:"):
                with out.block("try:"):
                    self.decode(last)
                    self.steps(last)
                    if agent.noack:
                        out.line(f"{n.holds}.hold_event({n.event})")
                    out.line(f"# {self.display}:{agent.body.line}")
                    with out.origin(agent.body.line):
                        out.line(f"{agent.target} = {self.target_value()}")
                    if agent.terminal.kind == "enumerate":
                        out.line(f"{n.index} += 1")
                    self.table_message()
                    self.user_code(agent.body)
                with out.block(f"except Exception as {n.exc}:"):
                    if agent.message_at_fallbacks:
                        self.mark_message()
                    out.line(f"{n.handle_error}({n.exc}, {n.message}, {self.where})")

    def mark_message(self) -> None:
        """``set_current_message(message)``: what a table's methods and the error policy
        read (``AgentPlan.message_at_fallbacks``: only before them)."""
        out = self.out
        out.line(f"{out.use('set_current_message')}({self.n.message})")

    def take_loop(self) -> None:
        out, n, agent = self.out, self.n, self.agent
        terminal = agent.terminal
        monotonic = n.monotonic
        out.raw_line(f"{n.take_max} = {terminal.max_}")
        out.raw_line(f"{n.take_within} = {terminal.within or 'None'}")
        out.line(f"{n.handle_chunk_error} = {agent.param}.handle_chunk_error")
        out.line(f"{n.next_batch} = {agent.param}.next_batch")
        out.line(f"{monotonic} = {agent.param}.clock()  # the worker's clock")
        out.line("# the take buffer; its messages are held back from the commit until processed")
        out.line(f"{n.buffer}: list[{out.use_module('typing', 'Any')}] = []")
        out.line(f"{n.held} = {agent.param}.holds.message_list()")
        out.line(f"{n.deadline} = 0.0")
        with out.block("while True:"):
            wait = (
                f"None if not {n.buffer} or {n.take_within} is None "
                f"else max(0.0, {n.deadline} - {monotonic}())"
            )
            out.line(f"{n.batch} = await {n.next_batch}(")
            with out.indented():
                if out.fits(wait):
                    out.line(wait)
                else:
                    out.line("None")
                    out.line(f"if not {n.buffer} or {n.take_within} is None")
                    out.line(f"else max(0.0, {n.deadline} - {monotonic}())")
            out.line(")")
            out.line(f"{n.ending} = {n.batch} is None")
            with out.block(f"if {n.batch} is None:"):
                out.line(f"{n.batch} = []")
            self.earlier_stages(f"{n.batch} = []")
            last = self.last_stage_head()
            with out.block(f"for {n.message} in [*{n.batch}, None]:"):
                with out.block(f"if {n.message} is not None:"):
                    with out.block("try:"):
                        self.decode(last)
                        self.steps(last)
                    with out.block(f"except Exception as {n.exc}:"):
                        out.line(f"{n.handle_error}({n.exc}, {n.message}, {self.where})")
                        out.line("continue")
                    with out.block(f"if not {n.buffer} and {n.take_within} is not None:"):
                        out.line(f"{n.deadline} = {monotonic}() + {n.take_within}")
                    out.line(f"{n.buffer}.append({n.value})")
                    out.line(f"{n.held}.append({n.message})")
                    with out.block(f"if len({n.buffer}) < {n.take_max}:"):
                        out.line("continue")
                due = (
                    f"{n.ending} or ({n.take_within} is not None and {monotonic}() >= {n.deadline})"
                )
                if out.fits(f"elif not {n.buffer} or not ({due}):"):
                    out.line(f"elif not {n.buffer} or not ({due}):")
                else:
                    out.line(f"elif not {n.buffer} or not (")
                    with out.indented():
                        out.line(due)
                    out.line("):")
                with out.indented():
                    out.line("continue")
                out.line(f"{n.chunk} = {n.buffer}")
                out.line(f"{n.buffer} = []")
                out.line(f"{n.chunk_messages} = {n.held}[len({n.held}) - len({n.chunk}) :]")
                with out.block("try:"):
                    out.line(f"# {self.display}:{agent.body.line}")
                    with out.origin(agent.body.line):
                        out.line(f"{agent.target} = {self.target_value()}")
                    self.user_code(agent.body)
                with out.block(f"except Exception as {n.exc}:"):
                    out.call(n.handle_chunk_error, [n.exc, n.chunk_messages, self.where])
            out.line(f"del {n.held}[: len({n.held}) - len({n.buffer})]")
            with out.block(f"if {n.ending}:"):
                out.line("break")

    def target_value(self) -> str:
        n = self.n
        return {
            "values": n.value,
            "items": f"{n.key}, {n.value}",
            "events": n.event,
            "enumerate": f"{n.index}, {n.value}",
            "take": n.chunk,
        }[self.agent.terminal.kind]

    # -- one message -------------------------------------------------------------------------

    def decode(self, stage: Stage) -> None:
        with self.out.origin(self.agent.loop_line):
            self._decode(stage)

    def _decode(self, stage: Stage) -> None:
        out, n, agent, decode = self.out, self.n, self.agent, stage.decode
        if agent.set_current_message:
            out.line(f"{out.use('set_current_message')}({n.message})")
        key = decode.key
        key_headers = f", {n.message}.headers()" if key is not None and key.headers else ""
        if key is not None and key.by_batch is not None:
            with out.block(f"if not {n.keys_valid}:"):
                out.line(f"{key.load}({n.message}.key(){key_headers})")
        elif key is not None:
            out.line(f"{n.key} = {key.load}({n.message}.key(){key_headers})")
        if decode.field_from_key is not None:
            with out.block("try:"):
                out.line(f"{n.value} = {decode.value_local}({n.message})")
            with out.block(f"except Exception as {n.exc}:"):
                out.line(f"raise {decode.value_failed}({n.exc}, {n.message}) from {n.exc}")
        elif decode.value_failed is not None and decode.json_view is not None:
            with out.block("try:"):
                with out.block(f"if {decode.view_local}:"):
                    data = f"{n.message}.value()"
                    write_json_view_inline(out, decode.json_view, n.value, data, decode.value_local)
                with out.block("else:"):
                    out.line(f"{n.value} = {decode.value_local}({n.message}.value())")
            with out.block(f"except Exception as {n.exc}:"):
                out.line(f"raise {decode.value_failed}({n.exc}, {n.message}.value()) from {n.exc}")
        elif decode.value_failed is not None:
            with out.block("try:"):
                out.line(f"{n.value} = {decode.value_local}({n.message}.value())")
            with out.block(f"except Exception as {n.exc}:"):
                out.line(f"raise {decode.value_failed}({n.exc}, {n.message}.value()) from {n.exc}")
        else:
            headers = f", {n.message}.headers()" if decode.value_headers else ""
            out.line(f"{n.value} = {decode.value_local}({n.message}.value(){headers})")
        if decode.make_event:
            out.line(f"{n.event} = {out.use('Event')}(")
            with out.indented():
                out.line(f"{self.plan.app_var},")
                out.line(f"{n.key},")
                out.line(f"{n.value},")
                out.line(f"{n.message}.headers() or [],")
                out.line(f"{out.use('Message')}.from_transport({n.message}),")
                if agent.noack and stage.last:
                    out.line(f"holds={n.holds},")
            out.line(")")
        if agent.set_current_event:
            out.line(f"{out.use('set_current_event')}({n.event})")

    def steps(self, stage: Stage) -> None:
        for step in stage.steps:
            with self.out.origin(step.line):
                self.step(step)

    def step(self, step: Step) -> None:
        out, n = self.out, self.n
        marker = self.marker(step.line)
        if isinstance(step, NoAck):
            return
        if isinstance(step, Echo):
            out.line(f"# {self.display}:{step.line}  .echo(...)")
            for send in step.sends:
                self.send(send)
            return
        if isinstance(step, RateLimit):
            out.line(f"# {self.display}:{step.line}  .rate_limit({step.rate}, per={step.per})")
            out.line(f"{n.delay} = {step.limiter}.delay()")
            with out.block(f"if {n.delay}:"):
                out.line(f"await {out.use_module('asyncio', 'sleep')}({n.delay})")
            return
        if isinstance(step, Repartition):
            out.line(f"# {self.display}:{step.line}  .group_by(...): on to the next stage")
            if step.forward_value:
                out.line("# the value is as it was consumed: its bytes go on unchanged")
            key = step.key
            if isinstance(key, FieldRef):
                out.line(f"{n.new_key} = {n.value}.{key.field}{marker}")
            elif isinstance(key, CallBound):
                self.awaited_call(n.new_key, f"{key.local}({n.value})", marker)
            else:
                out.line(f"{n.new_key} = {self.call(key)}{marker}")
            self.send(step.send)
            out.line("continue")
            return
        if isinstance(step, Through):
            out.line(
                f"# {self.display}:{step.line}  .through({step.topic_name!r}): on to the next stage"
            )
            self.send(step.send)
            out.line("continue")
            return
        kind = "filter" if isinstance(step, Filter) else step.kind
        out.line(f"# {self.display}:{step.line}  .{kind}({_one_line(step.shown)})")
        if isinstance(step.apply, CallBound):
            result = n.result if isinstance(step, Filter) else n.value
            self.awaited_call(result, f"{step.apply.local}({n.value})", marker)
            if isinstance(step, Filter):
                with out.block(f"if not {result}:"):
                    out.line("continue")
            return
        call = self.call(step.apply)
        if isinstance(step, Filter):
            out.condition("if not (", [call], f":{marker}")
            with out.indented():
                out.line("continue")
            return
        if step.built_as is not None and step.call is not None:
            out.line(f"# {step.built_why}: built as _{step.built_as}Out, its JSON form")
            out.call(f"{n.value} = _{step.built_as}Out", step.call[1], marker)
            return
        if step.call is not None and not out.fits(f"{n.value} = {call}{marker}"):
            function, arguments = step.call
            out.call(f"{n.value} = {function}", arguments, marker)
            return
        out.line(f"{n.value} = {call}{marker}")

    def awaited_call(self, result: str, call: str, marker: str) -> None:
        out = self.out
        out.line(f"{result} = {call}{marker}")
        with out.block(f"if {out.use_module('inspect', 'isawaitable')}({result}):"):
            out.line(f"{result} = await {result}")

    def call(self, apply: Apply) -> str:
        """The expression applying a function to the value (a bound callable not awaited)."""
        value = self.n.value
        if isinstance(apply, Inline):
            return apply.expression
        if isinstance(apply, CallFunction):
            return f"{'await ' if apply.awaited else ''}{apply.name}({value})"
        return f"{apply.local}({value})"

    # -- sends -------------------------------------------------------------------------------

    def argument(self, argument: Argument) -> str:
        if isinstance(argument, UserExpr):
            return argument.text
        if isinstance(argument, LocalName):
            return argument.name
        if isinstance(argument, MessageValue):
            return f"{self.n.message}.value()"
        assert isinstance(argument, MessageHeaders)
        return f"{self.n.message}.headers() or None"

    def encoded(self, send: Send, part: str) -> tuple[str | None, list[str]]:
        """The function encoding the send's key or value and its arguments (None: the
        argument as it is)."""
        argument = send.key if part == "key" else send.value
        if argument is None or argument == UserExpr("None"):
            return None, ["None"]
        text = self.argument(argument)
        if part == "value" and send.raw_value:
            return None, [text]
        encoder = self.agent.sends.encoder(send.topic, part)
        if part == "value" and send.out_encoder is not None:
            return send.out_encoder, [text, encoder]
        return encoder, [text]

    def assign(self, target: str, value: tuple[str | None, list[str]], marker: str) -> None:
        function, arguments = value
        if function is None:
            self.out.line(f"{target} = {arguments[0]}{marker}")
        else:
            self.out.call(f"{target} = {function}", arguments, marker)

    def expression(self, value: tuple[str | None, list[str]]) -> str:
        function, arguments = value
        return arguments[0] if function is None else f"{function}({', '.join(arguments)})"

    def text_key(
        self, send: Send, target: str, key: tuple[str | None, list[str]], marker: str
    ) -> None:
        """``target`` = the key's bytes: a ``str`` key's UTF-8 where the topic's key dumper
        writes it so (``Topic.key_dumper_is_text()``, asked once), else the dumper's."""
        out, sends = self.out, self.agent.sends
        function, arguments = key
        given = arguments[0]
        if not given.isidentifier():  # an expression: evaluated once, as the user wrote it
            assert sends.given_key is not None
            given = sends.given_key
            out.line(f"{given} = {arguments[0]}{marker}")
        assert function is not None
        out.line("# a str key where the topic's key dumper writes str keys as UTF-8: the same,")
        out.line("# without its frame; any other key (bytes, None, a subclass ...): the dumper")
        test = f"type({given}) is str and {sends.text_key_of(send.topic)}"
        out.assign(target, Ternary(f"{given}.encode()", test, f"{function}({given})"))

    def out_value(
        self, send: Send, target: str, value: tuple[str | None, list[str]], marker: str
    ) -> None:
        """``target`` = the bytes of a Record built as its JSON struct: msgspec's when the
        send's checks hold (every value of its field's type), else ``out_encoder``'s."""
        out = self.out
        function, arguments = value
        out.line("# every value of its field's type (str, int within 64 bits, ...): msgspec writes")
        out.line(f"# the bytes the topic's dumper writes; else {function} (the Record, dumped)")
        out.condition("if", list(send.out_checks), f":{marker}")
        with out.indented():
            out.line(f"{target} = _encode_json({arguments[0]})")
        with out.block("else:"):
            self.assign(target, value, marker)

    def send(self, send: Send) -> None:
        out, sends = self.out, self.agent.sends
        marker = self.marker(send.line)
        if send.via == "send_soon":
            listed = [f"{name}={self.argument(value)}" for name, value in send.arguments()]
            out.call(sends.send_soon_of(send.topic), listed, marker)
            return
        literal, name = sends.topic_name(send.topic)
        topic = python_literal(name) if literal else name
        key, value = self.encoded(send, "key"), self.encoded(send, "value")
        if send.via == "produce":
            assert sends.key and sends.value and sends.headers and sends.produce and sends.send
            if send.text_key:
                self.text_key(send, sends.key, key, marker)
            else:
                self.assign(sends.key, key, marker)
            if send.out_checks:
                self.out_value(send, sends.value, value, marker)
            else:
                self.assign(sends.value, value, marker)
            headers = []
            if send.headers is not None:
                out.line(f"{sends.headers} = {self.argument(send.headers)}{marker}")
                headers = [f"headers={sends.headers}"]
            with out.block("try:"):
                if headers:
                    # no headers: no keyword (confluent-kafka's produce pays ~0.4 us for one)
                    with out.block(f"if {sends.headers} is None:"):
                        out.call(sends.produce, [topic, sends.value, sends.key])
                    with out.block("else:"):
                        out.call(sends.produce, [topic, sends.value, sends.key, *headers])
                else:
                    out.call(sends.produce, [topic, sends.value, sends.key])
                out.line(f"{sends.count_of(send.topic)}[0] += 1  # /metrics: records sent")
            with out.block(
                f"except {sends.retry}:  # a full queue or a failed producer: send() deals with it"
            ):
                out.call(sends.send, [topic, sends.key, sends.value, *headers])
            return
        assert sends.send is not None
        parts = [topic, self.expression(key), self.expression(value)]
        parts += [
            f"{name}={self.argument(argument)}"
            for name, argument in (
                ("partition", send.partition),
                ("timestamp", send.timestamp),
                ("headers", send.headers),
            )
            if argument is not None
        ]
        out.call(sends.send, parts, marker)

    # -- the user's code ---------------------------------------------------------------------

    def user_code(self, code: UserCode) -> None:
        """The user's statements as written, each hole filled with its code."""

        def fill(index: int, rest: str) -> None:
            self.hole(code.holes[index], rest)

        self.out.code(
            code.text, code.line, marker=code.marker, hole=fill, hole_lines=code.hole_lines
        )

    def hole(self, hole: Hole, rest: str) -> None:
        out, n = self.out, self.n
        if isinstance(hole, TableUpdate):
            if hole.direct and hole.table in self.tables:
                self.direct_update(hole, self.tables[hole.table], rest)
            else:
                self.table_update(hole, rest)
            return
        if isinstance(hole, TableSet):
            self.direct_set(hole, self.tables[hole.table], rest)
            return
        if isinstance(hole, Deliver):
            context = [n.key, f"{n.message}.headers()"] if hole.with_context else ["None", "None"]
            if not hole.awaited:
                out.call(n.deliver, [hole.value, *context], rest)
                return
            out.call(f"{n.pending} = {n.deliver}", [hole.value, *context])
            with out.block(f"if {n.pending} is not None:"):
                out.line(f"await {n.pending}")
            return
        self.send(hole)

    def table_update(self, hole: TableUpdate, rest: str) -> None:
        """``table[k] <op>= v`` through the table's methods."""
        out = self.out
        if hole.in_place:
            operator = out.use_module("operator", None, "_operator")
            arguments = [hole.key, f"{operator}.{hole.operator}", hole.operand]
            out.call(f"{hole.table}.in_place", arguments, rest)
        else:
            out.line(f"{hole.statement}{rest}")

    def wrapper_update(self, hole: TableUpdate) -> None:
        """A windowed ``table[k] <op>= v`` the loop leaves to the wrapper's ``in_place``
        (no timestamp, a window that may have expired): it reads the current message."""
        if self.agent.message_at_fallbacks:
            self.mark_message()
        self.table_update(hole, "")

    def direct_update(self, hole: TableUpdate, names: TableLocals, rest: str) -> None:
        """``table[k] <op>= v`` on the message's store: ``Table.in_place``'s reads and
        write; on a windowed table :meth:`window_update`."""
        out = self.out
        store, key = names.store, names.key
        with out.block(f"if {store} is None:{rest}"):
            self.table_update(hole, "")
        if hole.table in self.windowed:
            self.window_update(hole, names)
        with out.block("else:"):
            out.line(f"{key} = {hole.key}")
            self.read_modify_write(hole, names, key, None)

    def window_update(self, hole: TableUpdate, names: TableLocals) -> None:
        """``table[k] <op>= v`` on a windowed table (``faust.compiled.window_access``):
        ``WindowWrapper.in_place``'s reads and writes in each window of the message's
        time, its key computed as ``TumblingWindow.ranges`` does (a hopping window: its
        own ``ranges``); with ``expires`` only while the windows are certainly live, else
        (and without a timestamp) the wrapper's ``in_place`` decides."""
        out, n = self.out, self.n
        time, window, expires, clock = names.time, names.window, names.expires, names.clock
        with out.block(f"elif {window}:  # the windows of the message's time"):
            out.line(f"{time} = {n.message}.timestamp()")
            out.line("# without a timestamp: the table's own rule (the wall clock)")
            with out.block(f"if {time}[0] == 0 or {time}[1] < 0:"):
                self.wrapper_update(hole)
            with out.block(f"elif {names.hops} is None:  # tumbling: one window"):
                moment = names.moment
                # TumblingWindow.ranges' arithmetic, on the message's timestamp
                out.assign_operation(
                    moment, [f"{time}[1]", "1000.0", window, window], ["/", "//", "*"]
                )
                with out.block(f"if {moment} != {names.start}:"):
                    out.line(f"{names.start} = {moment}")
                    out.assign_tuple(names.range, [moment, f"{moment} + {window} - 0.1"])
                    limit = out.use("window_limit")
                    out.assign_call(names.limit, limit, [f"{names.range}[1]", window, expires])
                out.line("# written here while certainly live; else the wrapper decides")
                with out.if_block([f"{expires} is None", f"{clock}() < {names.limit}"], "or"):
                    out.assign_tuple(names.wkey, [hole.key, names.range])
                    self.read_modify_write(hole, names, names.wkey, BINARY_OPERATORS[hole.operator])
                    self.track_window(names, names.range)
                with out.block("else:"):
                    self.wrapper_update(hole)
            with out.block("else:  # hopping: the window's own ranges"):
                self.hopping_update(hole, names)

    def hopping_update(self, hole: TableUpdate, names: TableLocals) -> None:
        """The windows of a hopping window (``HoppingWindow.ranges``, earliest first): the
        key and the operand evaluated once, as the wrapper's ``in_place`` has them."""
        out = self.out
        ranges, expires = names.ranges, names.expires
        out.line(f"{ranges} = {names.hops}({names.time}[1] / 1000.0)")
        with out.block(f"if not {ranges}:  # no window holds the time"):
            self.wrapper_update(hole)
        with out.block("else:"):
            # the earliest window ends first: if it is certainly live, they all are
            with out.block(f"if {expires} is not None:"):
                limit = out.use("window_limit")
                arguments = [f"{ranges}[0][1]", names.window, expires]
                out.assign_call(names.limit, limit, arguments)
            with out.if_block([f"{expires} is None", f"{names.clock}() < {names.limit}"], "or"):
                out.line(f"{names.key} = {hole.key}")
                out.line(f"{names.operand} = {hole.operand}")
                with out.block(f"for {names.hop} in {ranges}:"):
                    out.assign_tuple(names.wkey, [names.key, names.hop])
                    binary = BINARY_OPERATORS[hole.operator]
                    self.read_modify_write(hole, names, names.wkey, binary, names.operand)
                    self.track_window(names, names.hop)
            with out.block("else:"):
                self.wrapper_update(hole)

    def track_window(self, names: TableLocals, window_range: str) -> None:
        """With ``expires``: the written key in its store's index of window ends
        (``WindowedTable.track``)."""
        out, store, ends = self.out, names.store, names.ends
        out.line("# windows that expire: the index of their ends (WindowedTable.track)")
        with out.block(f"if {names.expires} is not None:"):
            out.assign_call(ends, f"{store}.window_ends.get", [f"{window_range}[1]"])
            with out.block(f"if {ends} is None:"):
                out.call(f"{names.target}.track", [store, names.wkey])
            with out.block("else:"):
                out.line(f"{ends}.add({names.wkey})")

    def read_modify_write(
        self,
        hole: TableUpdate,
        names: TableLocals,
        key: str,
        binary: str | None,
        operand: str | None = None,
    ) -> None:
        out = self.out
        absent, missing = out.use("ABSENT"), out.use("table_missing")
        data, value = names.data, names.value
        out.assign_call(value, f"{data}.get", [key, absent])
        with out.block(f"if {value} is {absent}:"):
            out.assign_call(value, missing, [names.target, names.store, key])
        if binary is None:
            out.line(f"{value} {IN_PLACE_OPERATORS[hole.operator]} {hole.operand}")
            out.line(f"{data}[{key}] = {value}")
        else:
            operand = hole.operand if operand is None else operand
            out.assign_operation(f"{data}[{key}]", [value, operand], [binary])
        out.call(f"{names.store}.dirty.add", [key])

    def direct_set(self, hole: TableSet, names: TableLocals, rest: str) -> None:
        """``table[k] = v`` on the message's store: ``Table.__setitem__``'s write."""
        out = self.out
        store, data, key, value = names.store, names.data, names.key, names.value
        out.line(f"{value} = {hole.value}{rest}")
        out.line(f"{key} = {hole.key}")
        with out.block(f"if {store} is None:"):
            out.line(f"{hole.table}[{key}] = {value}")
        with out.block("else:"):
            with out.block(f"if {key} not in {data}:"):
                out.call(out.use("table_take"), [names.target, store, key])
            out.line(f"{data}[{key}] = {value}")
            out.line(f"{store}.dirty.add({key})")


#: ``operator.i<op>`` -> the statement's operator
IN_PLACE_OPERATORS = {
    "iadd": "+=",
    "isub": "-=",
    "imul": "*=",
    "itruediv": "/=",
    "ifloordiv": "//=",
    "imod": "%=",
    "ipow": "**=",
    "ilshift": "<<=",
    "irshift": ">>=",
    "iand": "&=",
    "ixor": "^=",
    "ior": "|=",
    "imatmul": "@=",
}

#: ``operator.i<op>`` -> the binary operator a WindowSet applies to each window's value
#: (``faust.tables.wrappers``: its ``__iadd__`` applies ``operator.add``)
BINARY_OPERATORS = {
    "iadd": "+",
    "isub": "-",
    "imul": "*",
    "itruediv": "/",
    "ifloordiv": "//",
    "imod": "%",
    "ipow": "**",
    "ilshift": "<<",
    "irshift": ">>",
    "iand": "&",
    "ixor": "^",
    "ior": "|",
}


_KEYS_CHECKED = """\
# the keys are never read, but one that does not decode meets the error policy:
# a batch is checked at once, and its keys decoded one by one only when that fails"""


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."
