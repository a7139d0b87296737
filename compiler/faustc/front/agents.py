"""Read the module's functions: agents and tasks with their stream loops, timers, crontabs.

An ``@app.agent`` (or an ``@app.task`` looping over ``app.stream(topic)``) becomes an
:class:`AgentDef`: the code before its one ``async for`` loop, the loop's chain of stream
operations and terminal, its body, the code after it. Example::

    # @app.agent(orders_topic)
    # async def find_big(orders): async for o in orders.filter(lambda o: o.amount > 9): ...
    FunctionReader(context).read_function(node)
    context.agents[-1].loop.operations[0].kind      # 'filter'
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from faust.contract import agent_topic_name, group_by_name
from faustc.front.context import ModuleContext
from faustc.front.declarations import topic_definition
from faustc.front.ir import (
    BOUNDARIES,
    AgentDef,
    Code,
    Echo,
    FieldRef,
    Filter,
    Function,
    GroupBy,
    Map,
    NoAck,
    Processor,
    RateLimit,
    SinkRef,
    Span,
    StreamLoop,
    StreamOperation,
    TaskDef,
    Terminal,
    Through,
    TimerDef,
    TopicRef,
)
from faustc.front.syntax import (
    NameUses,
    bad_yields,
    function_names,
    has_yield,
    loop_level_breaks,
    mentions,
    root_name,
    top_level_bindings,
)

#: stream operations the compiler fuses; a terminal one ends the chain

#: ``@app.agent`` keywords with which the agent runs uncompiled: (keyword, value, why)
_UNCOMPILED_FORMS = (
    (
        "use_reply_headers",
        False,
        "its requests arrive in Faust's envelope, which the fused loop does not unwrap",
    ),
    ("isolated_partitions", True, "it needs one instance per partition"),
)

CHAIN_OPERATIONS = (
    "filter",
    "map",
    "add_processor",
    "group_by",
    "through",
    "echo",
    "rate_limit",
    "noack",
)
TERMINAL_OPERATIONS = ("items", "events", "enumerate", "take")
#: what ``faust.current_event`` is called where it is defined and exported
CURRENT_EVENT_NAMES = frozenset({"faust.current_event", "faust.events.current_event"})


class FunctionReader:
    """Reads the module's functions into agents, tasks and timers (see the module
    docstring), appending them to the context."""

    def __init__(self, context: ModuleContext) -> None:
        self.context = context

    def read_function(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expression = decorator.decorator
            if self.context.is_app_attribute(expression, "task"):
                self._read_task(node)
                continue
            if not isinstance(expression, cst.Call):
                continue
            call = expression
            if self.context.is_app_method(call, "agent"):
                self._read_agent(node, call)
            elif self.context.is_app_method(call, "task"):
                self._read_task(node)
            elif self.context.is_app_method(call, "timer"):
                interval = self.context.keyword(call, "interval") or self.context.keyword(
                    call, "seconds"
                )
                if interval is None:
                    positional = [arg for arg in call.args if arg.keyword is None]
                    interval = positional[0].value if positional else None
                self.context.timers.append(
                    TimerDef(
                        node.name.value,
                        self.context.code(interval) if interval is not None else "?",
                        None,
                        self.context.span(node.name),
                    )
                )
            elif self.context.is_app_method(call, "crontab"):
                positional = [arg for arg in call.args if arg.keyword is None]
                cron_node = (
                    positional[0].value if positional else self.context.keyword(call, "cron_format")
                )
                cron = self.context.fixed_string(cron_node) if cron_node is not None else None
                if cron is None:
                    self.context.error(
                        "FC104",
                        "the crontab expression must be known when the worker is built (a "
                        "string, a module constant or an f-string of constants)",
                        cron_node if cron_node is not None else call,
                    )
                    continue
                self.context.timers.append(
                    TimerDef(node.name.value, None, cron, self.context.span(node.name))
                )

    def _named(self, node: cst.FunctionDef) -> tuple[tuple[str, ...], tuple[str, ...]]:
        names = function_names(node)
        topics = tuple(sorted(names & {topic.var for topic in self.context.topics}))
        tables = tuple(sorted(names & {table.var for table in self.context.tables}))
        return topics, tables

    def _read_task(self, node: cst.FunctionDef) -> None:
        """A task that loops over ``app.stream(topic)`` is compiled like an agent."""
        name = node.name.value
        statements = list(node.body.body) if isinstance(node.body, cst.IndentedBlock) else []
        loops = [
            index
            for index, statement in enumerate(statements)
            if isinstance(statement, cst.For)
            and statement.asynchronous is not None
            and self._app_stream_call(statement.iter) is not None
        ]
        topics, tables = self._named(node)
        if len(loops) != 1 or node.asynchronous is None:
            self.context.tasks.append(TaskDef(name, self.context.span(node.name), topics, tables))
            return
        index = loops[0]
        loop_node = statements[index]
        assert isinstance(loop_node, cst.For)
        stream_call = self._app_stream_call(loop_node.iter)
        assert stream_call is not None
        positional = [arg for arg in stream_call.args if arg.keyword is None]
        channel = (
            positional[0].value if positional else self.context.keyword(stream_call, "channel")
        )
        if not isinstance(channel, cst.Name) or channel.value not in {
            t.var for t in self.context.topics
        }:
            streamed = self.context.code(channel) if channel else "nothing"
            self.context.error(
                "FC101",
                f"task {name!r} streams {streamed!r}, which is not a topic declared in this module",
                channel if channel is not None else stream_call,
            )
            return
        processors = self._processors_keyword(stream_call)
        loop = self._read_loop(name, None, loop_node, processors)
        if loop is None:
            return
        self._add_fused(node, "task", channel.value, "", statements, index, loop, topics, tables)

    def _app_stream_call(self, node: cst.BaseExpression) -> cst.Call | None:
        """The ``app.stream(...)`` call at the root of a chain, if that is its root."""
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if self.context.is_app_method(node, "stream"):
                return node
            node = node.func.value
        return None

    def _processors_keyword(self, call: cst.Call) -> list[Processor]:
        value = self.context.keyword(call, "processors")
        if value is None:
            return []
        if not isinstance(value, cst.List | cst.Tuple):
            self.context.error("FC102", "processors= must be a list of functions", value)
            return []
        return [
            Processor(self._function(element.value), self.context.span(element.value))
            for element in value.elements
        ]

    def _read_agent(self, node: cst.FunctionDef, decorator: cst.Call) -> None:
        name = node.name.value
        if node.asynchronous is None:
            self.context.error(
                "FC107", f"agent {name!r} must be an `async def` function", node.name
            )
            return
        positional = [arg for arg in decorator.args if arg.keyword is None]
        channel = positional[0].value if positional else self.context.keyword(decorator, "channel")
        topic_vars = {topic.var for topic in self.context.topics}
        if channel is not None and (
            not isinstance(channel, cst.Name) or channel.value not in topic_vars
        ):
            app_var = self.context.app.var if self.context.app else "app"
            if isinstance(channel, cst.Name) and channel.value in self.context.module_names:
                self.context.warning(
                    "FC115",
                    f"agent {name!r} consumes {channel.value!r}, which is not a topic "
                    f"declared with {app_var}.topic(...) in this module (a channel, or a "
                    "topic of another module): it runs uncompiled",
                    channel,
                )
                return
            self.context.error(
                "FC101",
                f"agent {name!r} consumes {self.context.code(channel)!r}, which is not a topic "
                f"declared with {app_var}.topic(...) in this module",
                channel,
            )
            return
        for keyword, value, why in _UNCOMPILED_FORMS:
            given = self.context.keyword(decorator, keyword)
            static = self.context.static(given) if given is not None else None
            if given is not None and static is not None and static.value is value:
                self.context.warning(
                    "FC115",
                    f"agent {name!r} has {keyword}={value}: {why}; it runs uncompiled",
                    given,
                )
                return
        agent_name = f"{self.context.source.module}.{name}"
        name_node = self.context.keyword(decorator, "name")
        if name_node is not None:
            explicit = self.context.fixed_string(name_node)
            if explicit is None:
                self.context.error(
                    "FC104",
                    "the agent name= must be known when the worker is built (a string, a "
                    "module constant or an f-string of constants): the worker finds the "
                    "agent it replaces by its name",
                    name_node,
                )
                return
            agent_name = explicit
        concurrency = 1
        concurrency_node = self.context.keyword(decorator, "concurrency")
        if concurrency_node is not None:
            found = self.context.fixed_int(concurrency_node)
            if found is None:
                self.context.error(
                    "FC104",
                    "concurrency= must be an integer known when the worker is built (a "
                    "literal or a module constant)",
                    concurrency_node,
                )
                return
            if found < 0:
                self.context.error(
                    "FC119",
                    f"concurrency={found}: Faust would start no instance of agent {name!r} "
                    "(give 1 or more)",
                    concurrency_node,
                )
                return
            concurrency = found or 1  # Faust: `concurrency or 1`
        sinks = self._sinks(decorator)
        params = node.params
        if (
            len(params.params) != 1
            or params.star_arg not in (cst.MaybeSentinel.DEFAULT, None)
            or (params.kwonly_params or params.posonly_params or params.star_kwarg)
        ):
            self.context.error(
                "FC103", f"agent {name!r} must take exactly one parameter: its stream", node.params
            )
            return
        param = params.params[0].name.value
        if not isinstance(node.body, cst.IndentedBlock):
            self.context.error(
                "FC103", f"agent {name!r} has no `async for` loop over its stream", node
            )
            return
        statements = list(node.body.body)
        loops = [
            index
            for index, statement in enumerate(statements)
            if isinstance(statement, cst.For)
            and statement.asynchronous is not None
            and root_name(statement.iter) == param
        ]
        if len(loops) != 1:
            self.context.error(
                "FC103",
                f"agent {name!r} must have exactly one top-level `async for ... in {param}...:` "
                f"loop (found {len(loops)})",
                node.name,
            )
            return
        index = loops[0]
        processors: list[Processor] = []
        for statement in statements[:index]:
            added = self._add_processor(statement, param)
            if added is not None:
                processors.append(added)
            elif mentions(statement, param):
                self.context.error(
                    "FC103",
                    f"agent {name!r} uses its stream {param!r} outside the `async for` loop; "
                    "the compiler fuses only that loop (and `stream.add_processor(f)` before it)",
                    statement,
                )
                return
        for statement in statements[index + 1 :]:
            if mentions(statement, param):
                self.context.error(
                    "FC103",
                    f"agent {name!r} uses its stream {param!r} after the `async for` loop",
                    statement,
                )
                return
        loop_node = statements[index]
        assert isinstance(loop_node, cst.For)
        loop = self._read_loop(name, param, loop_node, processors)
        if loop is None:
            return
        if concurrency > 1:
            for operation in loop.operations:
                if operation.kind in BOUNDARIES:
                    self.context.error(
                        "FC113",
                        f"an agent with concurrency={concurrency} cannot use "
                        f".{operation.kind}() (each instance would repartition on its own)",
                        loop_node.iter,
                    )
                    return
        kept = [
            statement
            for statement in statements[:index]
            if self._add_processor(statement, param) is None
        ]
        statements = [*kept, *statements[index:]]
        index = len(kept)
        topics, tables = self._named(node)
        topic_var = (
            channel.value
            if isinstance(channel, cst.Name)
            else self._own_topic(name, agent_name, decorator)
        )
        self._add_fused(
            node,
            "agent",
            topic_var,
            param,
            statements,
            index,
            loop,
            topics,
            tables,
            qualified_name=agent_name,
            concurrency=concurrency,
            sinks=sinks,
        )

    def _add_fused(
        self,
        node: cst.FunctionDef,
        kind: str,
        topic_var: str,
        param: str,
        statements: list[cst.BaseStatement],
        index: int,
        loop: StreamLoop,
        topics: tuple[str, ...],
        tables: tuple[str, ...],
        *,
        qualified_name: str | None = None,
        concurrency: int = 1,
        sinks: tuple[SinkRef, ...] = (),
    ) -> None:
        name = node.name.value
        yields = has_yield(node)
        for bad in bad_yields(node):
            self.context.error(
                "FC114",
                "`yield` in a compiled agent must be a statement of its own "
                "(`yield value`): its result goes to the agent's sinks",
                bad,
            )
        if yields and kind == "task":
            self.context.error("FC114", f"task {name!r} cannot `yield`", node.name)
        names_used = function_names(node)
        self.context.agents.append(
            AgentDef(
                name=name,
                qualified_name=qualified_name or f"{self.context.source.module}.{name}",
                topic_var=topic_var,
                param=param,
                prelude=self._block(statements[:index]),
                loop=loop,
                postlude=self._block(statements[index + 1 :]),
                names_used=names_used,
                globals_used=tuple(sorted(names_used & self.context.module_names)),
                uses_current_event=self._reaches_current_event(node),
                span=self.context.span(node.name),
                kind=kind,
                concurrency=concurrency,
                sinks=sinks,
                yields=yields,
                topics_named=topics,
                tables_named=tables,
                node=node,
            )
        )

    def _own_topic(self, name: str, agent_name: str, decorator: cst.Call) -> str:
        """Declare the topic of an agent without a channel (``@app.agent()``,
        ``@app.agent(value_type=Order)``): Faust's ``<app id>-<agent name>``, typed by the
        decorator's keywords; returns the variable the worker binds it to."""
        context = self.context
        app = context.app
        assert app is not None
        taken = set(context.module_names) | {topic.var for topic in context.topics}
        var, counter = f"{name}_topic", 1
        while var in taken:
            counter += 1
            var = f"{name}_topic_{counter}"
        topic_name = agent_topic_name(app.app_id, agent_name)
        span = context.span(decorator)
        context.topics.append(
            topic_definition(context, var, decorator, (topic_name,), app.env, span, agent=name)
        )
        return var

    def _reaches_current_event(self, function: cst.FunctionDef) -> bool:
        """Does the function, or module-level code it names (functions, classes,
        assignments, and what they name in turn), refer to ``faust.current_event``? Found
        through qualified names, so a comment or a string that mentions it does not count,
        and an alias (``from faust import current_event as now``) does."""
        statements = top_level_bindings(self.context.tree)
        seen: set[int] = set()
        todo: list[cst.CSTNode] = [function]
        while todo:
            node = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            uses = NameUses(self.context.qualified, CURRENT_EVENT_NAMES)
            node.visit(uses)
            if uses.found:
                return True
            for name in sorted(uses.names):
                todo.extend(statements.get(name, ()))
        return False

    def _sinks(self, decorator: cst.Call) -> tuple[SinkRef, ...]:
        value = self.context.keyword(decorator, "sink")
        if value is None:
            return ()
        if not isinstance(value, cst.List | cst.Tuple):
            self.context.error(
                "FC102", "sink= must be a list of topics, agents or functions", value
            )
            return ()
        sinks = []
        topic_vars = {topic.var for topic in self.context.topics}
        for element in value.elements:
            text = self.context.code(element.value)
            if isinstance(element.value, cst.Name) and text in topic_vars:
                sinks.append(SinkRef("topic", text))
            elif isinstance(element.value, cst.Name) and text in self.context.agent_functions:
                sinks.append(SinkRef("agent", text))
            elif isinstance(element.value, cst.Name) and text in self.context.module_functions:
                sinks.append(
                    SinkRef("async" if self.context.module_functions[text] else "sync", text)
                )
            else:
                sinks.append(SinkRef("callable", text))
        return tuple(sinks)

    def _add_processor(self, statement: cst.BaseStatement, param: str) -> Processor | None:
        """``<param>.add_processor(fun)`` as a statement of its own, else None."""
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        small = statement.body[0]
        if not isinstance(small, cst.Expr) or not isinstance(small.value, cst.Call):
            return None
        call = small.value
        func = call.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == param
            and func.attr.value == "add_processor"
            and len(call.args) == 1
        ):
            return Processor(self._function(call.args[0].value), self.context.span(func.attr))
        return None

    def _read_loop(
        self, agent: str, param: str | None, loop: cst.For, processors: list[Processor]
    ) -> StreamLoop | None:
        if loop.orelse is not None:
            self.context.error(
                "FC103", "an `else:` after the agent's `async for` is not supported", loop
            )
            return None
        chain: list[cst.Call] = []
        node: cst.BaseExpression = loop.iter
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if param is None and self.context.is_app_method(node, "stream"):
                break
            chain.insert(0, node)
            node = node.func.value
        root_ok = (
            isinstance(node, cst.Name) and node.value == param
            if param is not None
            else isinstance(node, cst.Call)
        )
        if not root_ok:
            self.context.error(
                "FC102",
                f"the loop must iterate {param!r} or a chain of operations on it",
                loop.iter,
            )
            return None
        operations: list[StreamOperation] = list(processors)
        terminal = Terminal("values", self.context.span(loop.iter))
        supported = ", ".join((*CHAIN_OPERATIONS, *TERMINAL_OPERATIONS))
        for position, call in enumerate(chain):
            assert isinstance(call.func, cst.Attribute)
            op = call.func.attr.value
            span = self.context.span(call.func.attr)
            if op in TERMINAL_OPERATIONS:
                if position != len(chain) - 1:
                    self.context.error("FC102", f".{op}() must end the chain", call.func.attr)
                    return None
                found = self._terminal(op, call, span)
                if found is None:
                    return None
                terminal = found
            elif op in CHAIN_OPERATIONS:
                operation = self._operation(op, call, span)
                if operation is None:
                    return None
                operations.append(operation)
            else:
                self.context.error(
                    "FC102",
                    f"unsupported stream operation {op!r} (supported: {supported})",
                    call.func.attr,
                )
                return None
        body = loop.body
        if isinstance(body, cst.IndentedBlock):
            statements = list(body.body)
            for statement in statements:
                for found_break in loop_level_breaks(statement):
                    self.context.error(
                        "FC108",
                        f"`break` out of agent {agent!r}'s stream loop is not supported; "
                        "return from the agent instead",
                        found_break,
                    )
            block = self._block(statements)
            assert block is not None
        else:
            assert isinstance(body, cst.SimpleStatementSuite)
            line = cst.SimpleStatementLine(body=body.body)
            block = Code(self.context.code(line), self.context.span(loop).line, (line,))
        return StreamLoop(
            self.context.code(loop.target),
            tuple(operations),
            terminal,
            block,
            self.context.span(loop),
            target_node=loop.target,
        )

    def _args(self, call: cst.Call, names: tuple[str, ...]) -> dict[str, cst.BaseExpression] | None:
        """Positional and keyword arguments of ``call`` by parameter name (None: bad call)."""
        found: dict[str, cst.BaseExpression] = {}
        position = 0
        for arg in call.args:
            if arg.star:
                return None
            if arg.keyword is None:
                if position >= len(names):
                    return None
                found[names[position]] = arg.value
                position += 1
            elif arg.keyword.value in names and arg.keyword.value not in found:
                found[arg.keyword.value] = arg.value
            else:
                return None
        return found

    def _terminal(self, op: str, call: cst.Call, span: Span) -> Terminal | None:
        if op in ("items", "events"):
            if call.args:
                self.context.error("FC102", f".{op}() takes no arguments", call)
                return None
            return Terminal(op, span)
        if op == "enumerate":
            args = self._args(call, ("start",))
            if args is None:
                self.context.error("FC102", ".enumerate() takes one argument, start=", call)
                return None
            start = args.get("start")
            return Terminal(op, span, start=self.context.code(start) if start is not None else "0")
        args = self._args(call, ("max_", "within"))
        if args is None or "max_" not in args:
            self.context.error("FC102", ".take(max_, within=seconds) needs max_", call)
            return None
        within = args.get("within")
        return Terminal(
            "take",
            span,
            max_=self.context.code(args["max_"]),
            within=self.context.code(within) if within is not None else None,
        )

    def _topic_ref(self, node: cst.BaseExpression) -> TopicRef | None:
        if isinstance(node, cst.Name) and node.value in {t.var for t in self.context.topics}:
            return TopicRef(node.value, None)
        name = self.context.fixed_string(node)
        if name is not None:
            return TopicRef(None, name)
        self.context.error(
            "FC104",
            "a topic in a stream chain must be a topic declared in this module or a name "
            "known when the worker is built (a string, a module constant or an f-string of "
            "constants): the worker subscribes to it before it runs any code",
            node,
        )
        return None

    def _operation(self, op: str, call: cst.Call, span: Span) -> StreamOperation | None:
        if op in ("filter", "map", "add_processor"):
            if len(call.args) != 1 or call.args[0].keyword is not None:
                self.context.error("FC102", f".{op}() takes exactly one function", call)
                return None
            function = self._function(call.args[0].value)
            if op == "filter":
                return Filter(function, span)
            return Map(function, span) if op == "map" else Processor(function, span)
        if op == "noack":
            return NoAck(span)
        if op == "echo":
            refs = []
            for arg in call.args:
                if arg.keyword is not None or arg.star:
                    self.context.error("FC102", ".echo() takes topics", arg)
                    return None
                ref = self._topic_ref(arg.value)
                if ref is None:
                    return None
                refs.append(ref)
            return Echo(tuple(refs), span)
        if op == "through":
            args = self._args(call, ("channel",))
            if args is None or "channel" not in args:
                self.context.error("FC102", ".through() takes one topic", call)
                return None
            topic_ref = self._topic_ref(args["channel"])
            return Through(topic_ref, span) if topic_ref is not None else None
        if op == "rate_limit":
            args = self._args(call, ("rate", "per"))
            if args is None or "rate" not in args:
                self.context.error("FC102", ".rate_limit(rate, per=seconds) needs a rate", call)
                return None
            per = args.get("per")
            return RateLimit(
                self.context.code(args["rate"]), self.context.code(per) if per else "1.0", span
            )
        assert op == "group_by"
        args = self._args(call, ("key", "name", "partitions"))
        if args is None or "key" not in args:
            self.context.error(
                "FC102", ".group_by(key, name=..., partitions=...) needs a key", call
            )
            return None
        key_node = args["key"]
        name_node = args.get("name")
        name = self.context.fixed_string(name_node) if name_node is not None else None
        if name_node is not None and name is None:
            self.context.error(
                "FC104",
                "group_by name= must be known when the worker is built (a string, a module "
                "constant or an f-string of constants): it names a topic",
                name_node,
            )
            return None
        partitions = None
        partitions_node = args.get("partitions")
        if partitions_node is not None:
            partitions = self.context.fixed_int(partitions_node)
            if partitions is None:
                self.context.error(
                    "FC104",
                    "group_by partitions= must be an integer known when the worker is built "
                    "(a literal or a module constant)",
                    call,
                )
                return None
        key: FieldRef | Function
        if (
            isinstance(key_node, cst.Attribute)
            and isinstance(key_node.value, cst.Name)
            and (
                key_node.value.value in self.context.class_names
                or key_node.value.value[:1].isupper()
            )
        ):
            key = FieldRef(key_node.value.value, key_node.attr.value)
            name = name or group_by_name(key.record, key.field)
        else:
            key = self._function(key_node)
            if name is None:
                self.context.error(
                    "FC112",
                    "group_by with a function key needs name=<topic suffix> "
                    "(it names the repartition topic)",
                    call.func,
                )
                return None
        return GroupBy(key, name, partitions, span)

    def _function(self, node: cst.BaseExpression) -> Function:
        text = self.context.code(node)
        if isinstance(node, cst.Lambda):
            params = node.params
            if (
                len(params.params) == 1
                and params.params[0].default is None
                and not params.posonly_params
                and not params.kwonly_params
                and not isinstance(params.star_arg, cst.Param | cst.ParamStar)
                and params.star_kwarg is None
            ):
                param = params.params[0].name.value
                return Function("lambda", text, param, self.context.code(node.body), node)
        if isinstance(node, cst.Name) and node.value in self.context.module_functions:
            kind = "async" if self.context.module_functions[node.value] else "sync"
            return Function(kind, text, node=node)
        return Function("callable", text, node=node)

    def _block(self, statements: Sequence[cst.BaseStatement]) -> Code | None:
        if not statements:
            return None
        first = statements[0]
        leading = len(getattr(first, "leading_lines", ()))
        text = "".join(self.context.code(statement) for statement in statements)
        return Code(text, self.context.span(first).line - leading, tuple(statements))
