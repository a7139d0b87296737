"""Read a Faust module with libcst into the IR (``faustc.ir``).

``read_module(source)`` finds the App, its topics, tables, timers, the Records, and each
agent's ``async for`` loop with its chain of stream operations. Everything it cannot
compile is reported as a diagnostic with the exact span; all of them are raised together
in one :class:`CompileError`. Example::

    module = read_module(SourceFile.load(Path("examples/wordcount.py")))
    module.agents[0].loop.target        # 'word'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import libcst as cst
from libcst._metadata_dependent import LazyValue
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from faust.contract import group_by_name
from faustc.diagnostics import CompileError, Diagnostic
from faustc.ir import (
    BOUNDARIES,
    AgentDef,
    AppDef,
    AppModule,
    Code,
    Echo,
    EnumDef,
    FieldDef,
    FieldRef,
    Filter,
    Function,
    GroupBy,
    Map,
    NoAck,
    Processor,
    RateLimit,
    RecordDef,
    SinkRef,
    Span,
    StreamLoop,
    StreamOperation,
    TableDef,
    TaskDef,
    Terminal,
    Through,
    TimerDef,
    TopicDef,
    TopicRef,
)
from faustc.records import ENUM_NAMES, read_enum, read_field
from faustc.source import SourceFile

APP_NAMES = frozenset({"faust.App", "faust.app.App"})
RECORD_NAMES = frozenset({"faust.Record", "faust.models.Record", "faust.models.record.Record"})
#: stream operations the compiler fuses; a terminal one ends the chain
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


def read_module(source: SourceFile) -> AppModule:
    """Parse ``source`` and build its IR, or raise CompileError with every problem found."""
    module, errors = read_module_partially(source)
    if errors or module is None:
        raise CompileError(errors)
    return module


def read_module_partially(source: SourceFile) -> tuple[AppModule | None, list[Diagnostic]]:
    """The IR of everything that reads fine (None without an App), and the diagnostics of
    the rest, so later checks can report their findings in the same run."""
    try:
        tree = cst.parse_module(source.text)
    except cst.ParserSyntaxError as exc:
        line, column = exc.raw_line, exc.raw_column + 1
        span = Span(str(source.path), line, column, line, column + 1)
        return None, [Diagnostic("FC001", f"invalid syntax: {exc.message}", span)]
    reader = _ModuleReader(source, MetadataWrapper(tree))
    return reader.read(), reader.errors


#: the App methods that declare a table
TABLE_KINDS = ("Table", "GlobalTable", "SetTable", "SetGlobalTable")


class _ModuleReader:
    def __init__(self, source: SourceFile, wrapper: MetadataWrapper) -> None:
        self.source = source
        self.tree = wrapper.module
        self.positions = wrapper.resolve(PositionProvider)
        self.qualified_names = wrapper.resolve(QualifiedNameProvider)
        self.scopes = wrapper.resolve(ScopeProvider)
        self.errors: list[Diagnostic] = []
        self.app: AppDef | None = None
        self.records: list[RecordDef] = []
        self.enums: list[EnumDef] = []
        self.topics: list[TopicDef] = []
        self.tables: list[TableDef] = []
        self.agents: list[AgentDef] = []
        self.timers: list[TimerDef] = []
        self.tasks: list[TaskDef] = []
        self.module_names = frozenset(self._module_level_names())
        self.module_functions: dict[str, bool] = {}  # name -> is async
        self.agent_functions: set[str] = set()
        self.class_names: set[str] = set()

    # -- driver ----------------------------------------------------------------------------

    def read(self) -> AppModule | None:
        body = self.tree.body
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                self.module_functions[statement.name.value] = statement.asynchronous is not None
            elif isinstance(statement, cst.ClassDef):
                self.class_names.add(statement.name.value)
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                self._read_assignment(statement)
            elif isinstance(statement, cst.ClassDef):
                self._read_class(statement)
        for statement in body:
            if isinstance(statement, cst.FunctionDef) and any(
                isinstance(d.decorator, cst.Call) and self._is_app_method(d.decorator, "agent")
                for d in statement.decorators
            ):
                self.agent_functions.add(statement.name.value)
                self.module_functions.pop(statement.name.value, None)
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                self._read_function(statement)
        if self.app is None and not self.errors:
            self.error("FC100", "no `faust.App(...)` is created at module level", self.tree)
        if self.app is None:
            return None
        return AppModule(
            module=self.source.module,
            display_name=self.source.display_name,
            app=self.app,
            records=tuple(self.records),
            topics=tuple(self.topics),
            tables=tuple(self.tables),
            agents=tuple(self.agents),
            timers=tuple(self.timers),
            module_names=self.module_names,
            tasks=tuple(self.tasks),
            class_names=frozenset(self.class_names),
            source_path=str(self.source.path),
            enums=tuple(self.enums),
        )

    # -- helpers ---------------------------------------------------------------------------

    def span(self, node: cst.CSTNode) -> Span:
        position: CodeRange = self.positions[node]
        return Span(
            str(self.source.path),
            position.start.line,
            position.start.column + 1,
            position.end.line,
            position.end.column + 1,
        )

    def error(self, code: str, message: str, node: cst.CSTNode) -> None:
        self.errors.append(Diagnostic(code, message, self.span(node)))

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    def qualified(self, node: cst.CSTNode) -> set[str]:
        """The qualified names ``node`` may refer to (``{"faust.App"}`` for ``App``)."""
        found: Any = self.qualified_names.get(node, ())
        if isinstance(found, LazyValue):  # newer libcst computes these on demand
            found = found()
        return {name.name for name in found}

    def _module_level_names(self) -> set[str]:
        scope = self.scopes.get(self.tree)
        if scope is None:
            return set()
        return {assignment.name for assignment in scope.assignments}

    def _string(self, node: cst.BaseExpression) -> str | None:
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return value if isinstance(value, str) else None
        return None

    def _is_app_method(self, call: cst.Call, method: str) -> bool:
        func = call.func
        return (
            self.app is not None
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.app.var
            and func.attr.value == method
        )

    @staticmethod
    def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        return None

    # -- module-level declarations ---------------------------------------------------------

    def _read_assignment(self, line: cst.SimpleStatementLine) -> None:
        for statement in line.body:
            if not isinstance(statement, cst.Assign | cst.AnnAssign):
                continue
            value = statement.value
            if not isinstance(value, cst.Call):
                continue
            if isinstance(statement, cst.Assign):
                if len(statement.targets) != 1:
                    continue
                target = statement.targets[0].target
            else:
                target = statement.target
            if not isinstance(target, cst.Name):
                continue
            var = target.value
            if self.qualified(value.func) & APP_NAMES:
                self._read_app(var, value)
            elif self._is_app_method(value, "topic"):
                self._read_topic(var, value)
            else:
                table_call = self._table_declaration(value)
                if table_call is not None:
                    self._read_table(var, table_call)

    def _read_app(self, var: str, call: cst.Call) -> None:
        if self.app is not None:
            self.error("FC106", f"a second faust.App ({var!r}); one module holds one app", call)
            return
        positional = [arg for arg in call.args if arg.keyword is None and arg.star == ""]
        id_node = positional[0].value if positional else self._keyword(call, "id")
        app_id = self._string(id_node) if id_node is not None else None
        if app_id is None:
            self.error(
                "FC105",
                "the App id must be a string literal: it names the consumer group and "
                "every internal topic, so it has to be known when the worker is built",
                id_node if id_node is not None else call,
            )
            app_id = "<unknown>"
        self.app = AppDef(var, app_id, self.span(call))

    def _read_topic(self, var: str, call: cst.Call) -> None:
        names: list[str] = []
        for arg in call.args:
            if arg.keyword is not None:
                continue
            name = self._string(arg.value)
            if name is None:
                self.error(
                    "FC104",
                    "topic names must be string literals (the worker creates and subscribes "
                    "to them before it runs any code)",
                    arg.value,
                )
                return
            names.append(name)
        partitions_node = self._keyword(call, "partitions")
        partitions = None
        if isinstance(partitions_node, cst.Integer):
            partitions = int(partitions_node.evaluated_value)
        key_type = self._keyword(call, "key_type")
        value_type = self._keyword(call, "value_type")
        self.topics.append(
            TopicDef(
                var,
                tuple(names),
                self.code(key_type) if key_type is not None else None,
                self.code(value_type) if value_type is not None else None,
                partitions,
                self.span(call),
                *(  # key_serializer, value_serializer (records.topic_codec reads them)
                    self.code(node) if node is not None else None
                    for node in (
                        self._keyword(call, "key_serializer"),
                        self._keyword(call, "value_serializer"),
                    )
                ),
            )
        )

    def _table_declaration(self, call: cst.Call) -> cst.Call | None:
        """The ``app.Table(...)`` (or GlobalTable, SetTable, SetGlobalTable) call of a table
        declaration, also under chained calls: ``app.Table(...).tumbling(60)``."""
        node: cst.BaseExpression = call
        while isinstance(node, cst.Call):
            if any(self._is_app_method(node, kind) for kind in TABLE_KINDS):
                return node
            func = node.func
            node = func.value if isinstance(func, cst.Attribute) else func
        return None

    def _read_table(self, var: str, call: cst.Call) -> None:
        positional = [arg for arg in call.args if arg.keyword is None]
        name_node = positional[0].value if positional else self._keyword(call, "name")
        name = self._string(name_node) if name_node is not None else None
        if name is None:
            self.error(
                "FC104",
                "table names must be string literals (they name the changelog topic)",
                name_node if name_node is not None else call,
            )
            return
        default = self._keyword(call, "default")
        self.tables.append(
            TableDef(
                var, name, self.code(default) if default is not None else None, self.span(call)
            )
        )

    def _read_class(self, node: cst.ClassDef) -> None:
        record_names = {record.name for record in self.records}
        bases = []
        is_record = False
        for base in node.bases:
            if base.keyword is not None:
                continue
            bases.append(self.code(base.value))
            if self.qualified(base.value) & RECORD_NAMES or (
                isinstance(base.value, cst.Name) and base.value.value in record_names
            ):
                is_record = True
        if not is_record:
            if any(self.qualified(base.value) & ENUM_NAMES for base in node.bases):
                self.enums.append(read_enum(node, self.code, self.span(node)))
            return
        options = [(kw.keyword.value, self.code(kw.value)) for kw in node.keywords if kw.keyword]
        fields: list[FieldDef] = []
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        for statement in body:
            if isinstance(statement, cst.ClassDef) and statement.name.value == "Meta":
                for meta_line in statement.body.body:
                    if isinstance(meta_line, cst.SimpleStatementLine):
                        for small in meta_line.body:
                            if (
                                isinstance(small, cst.Assign)
                                and len(small.targets) == 1
                                and isinstance(small.targets[0].target, cst.Name)
                            ):
                                name = small.targets[0].target.value
                                options.append((name, self.code(small.value)))
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                    continue
                annotation = self.code(small.annotation.annotation)
                name = small.target.value
                if name.startswith("_") or annotation.startswith(("ClassVar", "typing.ClassVar")):
                    continue
                fields.append(
                    read_field(
                        small,
                        code=self.code,
                        qualified=self.qualified,
                        span=self.span(small.target),
                        annotation_span=self.span(small.annotation.annotation),
                    )
                )
        has_methods = any(isinstance(statement, cst.FunctionDef) for statement in body)
        self.records.append(
            RecordDef(
                node.name.value,
                tuple(bases),
                tuple(fields),
                tuple(options),
                self.span(node),
                has_methods=has_methods,
            )
        )

    # -- functions: agents, tasks, timers --------------------------------------------------

    def _read_function(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expression = decorator.decorator
            if self._is_app_attribute(expression, "task"):
                self._read_task(node)
                continue
            if not isinstance(expression, cst.Call):
                continue
            call = expression
            if self._is_app_method(call, "agent"):
                self._read_agent(node, call)
            elif self._is_app_method(call, "task"):
                self._read_task(node)
            elif self._is_app_method(call, "timer"):
                interval = self._keyword(call, "interval") or self._keyword(call, "seconds")
                if interval is None:
                    positional = [arg for arg in call.args if arg.keyword is None]
                    interval = positional[0].value if positional else None
                self.timers.append(
                    TimerDef(
                        node.name.value,
                        self.code(interval) if interval is not None else "?",
                        None,
                        self.span(node.name),
                    )
                )
            elif self._is_app_method(call, "crontab"):
                positional = [arg for arg in call.args if arg.keyword is None]
                cron_node = (
                    positional[0].value if positional else self._keyword(call, "cron_format")
                )
                cron = self._string(cron_node) if cron_node is not None else None
                if cron is None:
                    self.error(
                        "FC104",
                        "the crontab expression must be a string literal",
                        cron_node if cron_node is not None else call,
                    )
                    continue
                self.timers.append(TimerDef(node.name.value, None, cron, self.span(node.name)))

    def _is_app_attribute(self, node: cst.BaseExpression, name: str) -> bool:
        return (
            self.app is not None
            and isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == self.app.var
            and node.attr.value == name
        )

    def _named(self, node: cst.FunctionDef) -> tuple[tuple[str, ...], tuple[str, ...]]:
        names = _function_names(node)
        topics = tuple(sorted(names & {topic.var for topic in self.topics}))
        tables = tuple(sorted(names & {table.var for table in self.tables}))
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
            self.tasks.append(TaskDef(name, self.span(node.name), topics, tables))
            return
        index = loops[0]
        loop_node = statements[index]
        assert isinstance(loop_node, cst.For)
        stream_call = self._app_stream_call(loop_node.iter)
        assert stream_call is not None
        positional = [arg for arg in stream_call.args if arg.keyword is None]
        channel = positional[0].value if positional else self._keyword(stream_call, "channel")
        if not isinstance(channel, cst.Name) or channel.value not in {t.var for t in self.topics}:
            self.error(
                "FC101",
                f"task {name!r} streams {self.code(channel) if channel else 'nothing'!r}, which "
                "is not a topic declared in this module",
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
            if self._is_app_method(node, "stream"):
                return node
            node = node.func.value
        return None

    def _processors_keyword(self, call: cst.Call) -> list[Processor]:
        value = self._keyword(call, "processors")
        if value is None:
            return []
        if not isinstance(value, cst.List | cst.Tuple):
            self.error("FC102", "processors= must be a list of functions", value)
            return []
        return [
            Processor(self._function(element.value), self.span(element.value))
            for element in value.elements
        ]

    def _read_agent(self, node: cst.FunctionDef, decorator: cst.Call) -> None:
        name = node.name.value
        if node.asynchronous is None:
            self.error("FC107", f"agent {name!r} must be an `async def` function", node.name)
            return
        positional = [arg for arg in decorator.args if arg.keyword is None]
        channel = positional[0].value if positional else self._keyword(decorator, "channel")
        topic_vars = {topic.var for topic in self.topics}
        if channel is None:
            self.error(
                "FC101", f"agent {name!r} names no topic: write @app.agent(<topic>)", decorator
            )
            return
        if not isinstance(channel, cst.Name) or channel.value not in topic_vars:
            self.error(
                "FC101",
                f"agent {name!r} consumes {self.code(channel)!r}, which is not a topic declared "
                f"with {self.app.var if self.app else 'app'}.topic(...) in this module",
                channel,
            )
            return
        agent_name = f"{self.source.module}.{name}"
        name_node = self._keyword(decorator, "name")
        if name_node is not None:
            explicit = self._string(name_node)
            if explicit is None:
                self.error("FC104", "the agent name= must be a string literal", name_node)
                return
            agent_name = explicit
        concurrency = 1
        concurrency_node = self._keyword(decorator, "concurrency")
        if concurrency_node is not None:
            if not isinstance(concurrency_node, cst.Integer):
                self.error("FC104", "concurrency= must be an integer literal", concurrency_node)
                return
            concurrency = int(concurrency_node.evaluated_value)
        sinks = self._sinks(decorator)
        params = node.params
        if (
            len(params.params) != 1
            or params.star_arg not in (cst.MaybeSentinel.DEFAULT, None)
            or (params.kwonly_params or params.posonly_params or params.star_kwarg)
        ):
            self.error(
                "FC103", f"agent {name!r} must take exactly one parameter: its stream", node.params
            )
            return
        param = params.params[0].name.value
        if not isinstance(node.body, cst.IndentedBlock):
            self.error("FC103", f"agent {name!r} has no `async for` loop over its stream", node)
            return
        statements = list(node.body.body)
        loops = [
            index
            for index, statement in enumerate(statements)
            if isinstance(statement, cst.For)
            and statement.asynchronous is not None
            and _root_name(statement.iter) == param
        ]
        if len(loops) != 1:
            self.error(
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
            elif _mentions(statement, param):
                self.error(
                    "FC103",
                    f"agent {name!r} uses its stream {param!r} outside the `async for` loop; "
                    "the compiler fuses only that loop (and `stream.add_processor(f)` before it)",
                    statement,
                )
                return
        for statement in statements[index + 1 :]:
            if _mentions(statement, param):
                self.error(
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
                    self.error(
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
        self._add_fused(
            node,
            "agent",
            channel.value,
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
        yields = _yields(node)
        for bad in _bad_yields(node):
            self.error(
                "FC114",
                "`yield` in a compiled agent must be a statement of its own "
                "(`yield value`): its result goes to the agent's sinks",
                bad,
            )
        if yields and kind == "task":
            self.error("FC114", f"task {name!r} cannot `yield`", node.name)
        names_used = _function_names(node)
        self.agents.append(
            AgentDef(
                name=name,
                qualified_name=qualified_name or f"{self.source.module}.{name}",
                topic_var=topic_var,
                param=param,
                prelude=self._block(statements[:index]),
                loop=loop,
                postlude=self._block(statements[index + 1 :]),
                names_used=names_used,
                globals_used=tuple(sorted(names_used & self.module_names)),
                uses_current_event="current_event" in self.source.text,
                span=self.span(node.name),
                kind=kind,
                concurrency=concurrency,
                sinks=sinks,
                yields=yields,
                topics_named=topics,
                tables_named=tables,
            )
        )

    def _sinks(self, decorator: cst.Call) -> tuple[SinkRef, ...]:
        value = self._keyword(decorator, "sink")
        if value is None:
            return ()
        if not isinstance(value, cst.List | cst.Tuple):
            self.error("FC102", "sink= must be a list of topics, agents or functions", value)
            return ()
        sinks = []
        topic_vars = {topic.var for topic in self.topics}
        for element in value.elements:
            text = self.code(element.value)
            if isinstance(element.value, cst.Name) and text in topic_vars:
                sinks.append(SinkRef("topic", text))
            elif isinstance(element.value, cst.Name) and text in self.agent_functions:
                sinks.append(SinkRef("agent", text))
            elif isinstance(element.value, cst.Name) and text in self.module_functions:
                sinks.append(SinkRef("async" if self.module_functions[text] else "sync", text))
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
            return Processor(self._function(call.args[0].value), self.span(func.attr))
        return None

    def _read_loop(
        self, agent: str, param: str | None, loop: cst.For, processors: list[Processor]
    ) -> StreamLoop | None:
        if loop.orelse is not None:
            self.error("FC103", "an `else:` after the agent's `async for` is not supported", loop)
            return None
        chain: list[cst.Call] = []
        node: cst.BaseExpression = loop.iter
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            if param is None and self._is_app_method(node, "stream"):
                break
            chain.insert(0, node)
            node = node.func.value
        root_ok = (
            isinstance(node, cst.Name) and node.value == param
            if param is not None
            else isinstance(node, cst.Call)
        )
        if not root_ok:
            self.error(
                "FC102",
                f"the loop must iterate {param!r} or a chain of operations on it",
                loop.iter,
            )
            return None
        operations: list[StreamOperation] = list(processors)
        terminal = Terminal("values", self.span(loop.iter))
        supported = ", ".join((*CHAIN_OPERATIONS, *TERMINAL_OPERATIONS))
        for position, call in enumerate(chain):
            assert isinstance(call.func, cst.Attribute)
            op = call.func.attr.value
            span = self.span(call.func.attr)
            if op in TERMINAL_OPERATIONS:
                if position != len(chain) - 1:
                    self.error("FC102", f".{op}() must end the chain", call.func.attr)
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
                self.error(
                    "FC102",
                    f"unsupported stream operation {op!r} (supported: {supported})",
                    call.func.attr,
                )
                return None
        body = loop.body
        if isinstance(body, cst.IndentedBlock):
            statements = list(body.body)
            for statement in statements:
                for found_break in _loop_level_breaks(statement):
                    self.error(
                        "FC108",
                        f"`break` out of agent {agent!r}'s stream loop is not supported; "
                        "return from the agent instead",
                        found_break,
                    )
            block = self._block(statements)
            assert block is not None
        else:
            assert isinstance(body, cst.SimpleStatementSuite)
            text = self.code(cst.SimpleStatementLine(body=body.body))
            block = Code(text, self.span(loop).line)
        return StreamLoop(
            self.code(loop.target), tuple(operations), terminal, block, self.span(loop)
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
                self.error("FC102", f".{op}() takes no arguments", call)
                return None
            return Terminal(op, span)
        if op == "enumerate":
            args = self._args(call, ("start",))
            if args is None:
                self.error("FC102", ".enumerate() takes one argument, start=", call)
                return None
            start = args.get("start")
            return Terminal(op, span, start=self.code(start) if start is not None else "0")
        args = self._args(call, ("max_", "within"))
        if args is None or "max_" not in args:
            self.error("FC102", ".take(max_, within=seconds) needs max_", call)
            return None
        within = args.get("within")
        return Terminal(
            "take",
            span,
            max_=self.code(args["max_"]),
            within=self.code(within) if within is not None else None,
        )

    def _topic_ref(self, node: cst.BaseExpression) -> TopicRef | None:
        if isinstance(node, cst.Name) and node.value in {t.var for t in self.topics}:
            return TopicRef(node.value, None)
        name = self._string(node)
        if name is not None:
            return TopicRef(None, name)
        self.error(
            "FC104",
            "a topic in a stream chain must be a topic declared in this module or a string "
            "literal (the worker subscribes to it before it runs any code)",
            node,
        )
        return None

    def _operation(self, op: str, call: cst.Call, span: Span) -> StreamOperation | None:
        if op in ("filter", "map", "add_processor"):
            if len(call.args) != 1 or call.args[0].keyword is not None:
                self.error("FC102", f".{op}() takes exactly one function", call)
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
                    self.error("FC102", ".echo() takes topics", arg)
                    return None
                ref = self._topic_ref(arg.value)
                if ref is None:
                    return None
                refs.append(ref)
            return Echo(tuple(refs), span)
        if op == "through":
            args = self._args(call, ("channel",))
            if args is None or "channel" not in args:
                self.error("FC102", ".through() takes one topic", call)
                return None
            topic_ref = self._topic_ref(args["channel"])
            return Through(topic_ref, span) if topic_ref is not None else None
        if op == "rate_limit":
            args = self._args(call, ("rate", "per"))
            if args is None or "rate" not in args:
                self.error("FC102", ".rate_limit(rate, per=seconds) needs a rate", call)
                return None
            per = args.get("per")
            return RateLimit(self.code(args["rate"]), self.code(per) if per else "1.0", span)
        assert op == "group_by"
        args = self._args(call, ("key", "name", "partitions"))
        if args is None or "key" not in args:
            self.error("FC102", ".group_by(key, name=..., partitions=...) needs a key", call)
            return None
        key_node = args["key"]
        name_node = args.get("name")
        name = self._string(name_node) if name_node is not None else None
        if name_node is not None and name is None:
            self.error(
                "FC104", "group_by name= must be a string literal (it names a topic)", name_node
            )
            return None
        partitions = None
        partitions_node = args.get("partitions")
        if partitions_node is not None:
            if not isinstance(partitions_node, cst.Integer):
                self.error("FC104", "group_by partitions= must be an integer literal", call)
                return None
            partitions = int(partitions_node.evaluated_value)
        key: FieldRef | Function
        if (
            isinstance(key_node, cst.Attribute)
            and isinstance(key_node.value, cst.Name)
            and (key_node.value.value in self.class_names or key_node.value.value[:1].isupper())
        ):
            key = FieldRef(key_node.value.value, key_node.attr.value)
            name = name or group_by_name(key.record, key.field)
        else:
            key = self._function(key_node)
            if name is None:
                self.error(
                    "FC112",
                    "group_by with a function key needs name=<topic suffix> "
                    "(it names the repartition topic)",
                    call.func,
                )
                return None
        return GroupBy(key, name, partitions, span)

    def _function(self, node: cst.BaseExpression) -> Function:
        text = self.code(node)
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
                return Function("lambda", text, params.params[0].name.value, self.code(node.body))
        if isinstance(node, cst.Name) and node.value in self.module_functions:
            return Function("async" if self.module_functions[node.value] else "sync", text)
        return Function("callable", text)

    def _block(self, statements: Sequence[cst.BaseStatement]) -> Code | None:
        if not statements:
            return None
        first = statements[0]
        leading = len(getattr(first, "leading_lines", ()))
        text = "".join(self.code(statement) for statement in statements)
        return Code(text, self.span(first).line - leading)


def _root_name(node: cst.BaseExpression) -> str | None:
    while True:
        if isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Name):
            return node.value
        else:
            return None


class _NameCollector(cst.CSTVisitor):
    """Identifiers used as variables (not attribute names or keyword-argument names)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def _names_in(node: cst.CSTNode) -> frozenset[str]:
    collector = _NameCollector()
    node.visit(collector)
    return frozenset(collector.names)


def _function_names(node: cst.FunctionDef) -> frozenset[str]:
    """Names the function's code uses: its parameters and its body (not annotations)."""
    params = {param.name.value for param in node.params.params}
    return _names_in(node.body) | params


def _mentions(node: cst.CSTNode, name: str) -> bool:
    return name in _names_in(node)


class _BreakFinder(cst.CSTVisitor):
    """``break`` statements that would leave the stream loop (not an inner loop's)."""

    def __init__(self) -> None:
        self.found: list[cst.Break] = []

    def visit_Break(self, node: cst.Break) -> None:
        self.found.append(node)

    def visit_For(self, node: cst.For) -> bool:
        return False

    def visit_While(self, node: cst.While) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _loop_level_breaks(statement: cst.CSTNode) -> list[cst.Break]:
    finder = _BreakFinder()
    statement.visit(finder)
    return finder.found


class _YieldFinder(cst.CSTVisitor):
    """``yield`` expressions of a function (not of functions nested in it); ``bad`` are
    those that are not a statement of their own."""

    def __init__(self) -> None:
        self.found: list[cst.Yield] = []
        self.statements: set[cst.Yield] = set()

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Yield):
            self.statements.add(node.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def _find_yields(node: cst.FunctionDef) -> _YieldFinder:
    finder = _YieldFinder()
    node.body.visit(finder)
    return finder


def _yields(node: cst.FunctionDef) -> bool:
    return bool(_find_yields(node).found)


def _bad_yields(node: cst.FunctionDef) -> list[cst.Yield]:
    finder = _find_yields(node)
    return [
        found
        for found in finder.found
        if found not in finder.statements or isinstance(found.value, cst.From)
    ]
