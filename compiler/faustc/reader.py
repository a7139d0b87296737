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

from faustc.diagnostics import CompileError, Diagnostic
from faustc.ir import (
    AgentDef,
    AppDef,
    AppModule,
    Code,
    FieldDef,
    Function,
    Operation,
    RecordDef,
    Span,
    StreamLoop,
    TableDef,
    TimerDef,
    TopicDef,
)
from faustc.source import SourceFile

APP_NAMES = frozenset({"faust.App", "faust.app.App"})
RECORD_NAMES = frozenset({"faust.Record", "faust.models.Record", "faust.models.record.Record"})
#: stream operations the compiler fuses; a terminal one ends the chain
CHAIN_OPERATIONS = ("filter", "map")
TERMINAL_OPERATIONS = ("items", "events")


def read_module(source: SourceFile) -> AppModule:
    """Parse ``source`` and build its IR, or raise CompileError with every problem found."""
    try:
        tree = cst.parse_module(source.text)
    except cst.ParserSyntaxError as exc:
        line, column = exc.raw_line, exc.raw_column + 1
        span = Span(str(source.path), line, column, line, column + 1)
        raise CompileError([Diagnostic("FC001", f"invalid syntax: {exc.message}", span)]) from None
    return _ModuleReader(source, MetadataWrapper(tree)).read()


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
        self.topics: list[TopicDef] = []
        self.tables: list[TableDef] = []
        self.agents: list[AgentDef] = []
        self.timers: list[TimerDef] = []
        self.module_names = frozenset(self._module_level_names())
        self.module_functions: dict[str, bool] = {}  # name -> is async

    # -- driver ----------------------------------------------------------------------------

    def read(self) -> AppModule:
        body = self.tree.body
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                self.module_functions[statement.name.value] = statement.asynchronous is not None
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                self._read_assignment(statement)
            elif isinstance(statement, cst.ClassDef):
                self._read_class(statement)
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                self._read_function(statement)
        if self.app is None and not self.errors:
            self.error("FC100", "no `faust.App(...)` is created at module level", self.tree)
        if self.errors or self.app is None:
            raise CompileError(self.errors)
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
                    FieldDef(name, annotation, small.value is not None, self.span(small.target))
                )
        self.records.append(
            RecordDef(node.name.value, tuple(bases), tuple(fields), tuple(options), self.span(node))
        )

    # -- functions: agents and timers ------------------------------------------------------

    def _read_function(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call):
                continue
            if self._is_app_method(call, "agent"):
                self._read_agent(node, call)
            elif self._is_app_method(call, "timer"):
                interval = self._keyword(call, "interval")
                if interval is None:
                    positional = [arg for arg in call.args if arg.keyword is None]
                    interval = positional[0].value if positional else None
                self.timers.append(
                    TimerDef(
                        node.name.value,
                        self.code(interval) if interval is not None else "?",
                        self.span(node.name),
                    )
                )

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
        loop_node = statements[index]
        assert isinstance(loop_node, cst.For)
        loop = self._read_loop(name, param, loop_node)
        if loop is None:
            return
        for statement in statements[:index] + statements[index + 1 :]:
            if _mentions(statement, param):
                self.error(
                    "FC103",
                    f"agent {name!r} uses its stream {param!r} outside the `async for` loop; "
                    "the compiler fuses only that loop",
                    statement,
                )
                return
        names_used = _function_names(node)
        self.agents.append(
            AgentDef(
                name=name,
                qualified_name=f"{self.source.module}.{name}",
                topic_var=channel.value,
                param=param,
                prelude=self._block(statements[:index]),
                loop=loop,
                postlude=self._block(statements[index + 1 :]),
                names_used=names_used,
                globals_used=tuple(sorted(names_used & self.module_names)),
                uses_current_event="current_event" in self.source.text,
                span=self.span(node.name),
            )
        )

    def _read_loop(self, agent: str, param: str, loop: cst.For) -> StreamLoop | None:
        if loop.orelse is not None:
            self.error("FC103", "an `else:` after the agent's `async for` is not supported", loop)
            return None
        chain: list[cst.Call] = []
        node: cst.BaseExpression = loop.iter
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            chain.insert(0, node)
            node = node.func.value
        if not (isinstance(node, cst.Name) and node.value == param):
            self.error(
                "FC102",
                f"the loop must iterate {param!r} or a chain of operations on it",
                loop.iter,
            )
            return None
        operations: list[Operation] = []
        mode = "values"
        for position, call in enumerate(chain):
            assert isinstance(call.func, cst.Attribute)
            op = call.func.attr.value
            supported = ", ".join((*CHAIN_OPERATIONS, *TERMINAL_OPERATIONS))
            if op in TERMINAL_OPERATIONS:
                if call.args or position != len(chain) - 1:
                    self.error("FC102", f".{op}() takes no arguments and must end the chain", call)
                    return None
                mode = op
            elif op in CHAIN_OPERATIONS:
                if len(call.args) != 1 or call.args[0].keyword is not None:
                    self.error("FC102", f".{op}() takes exactly one function", call)
                    return None
                operations.append(
                    Operation(op, self._function(call.args[0].value), self.span(call.func.attr))
                )
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
                for found in _loop_level_breaks(statement):
                    self.error(
                        "FC108",
                        f"`break` out of agent {agent!r}'s stream loop is not supported; "
                        "return from the agent instead",
                        found,
                    )
            block = self._block(statements)
            assert block is not None
        else:
            assert isinstance(body, cst.SimpleStatementSuite)
            text = self.code(cst.SimpleStatementLine(body=body.body))
            block = Code(text, self.span(loop).line)
        return StreamLoop(self.code(loop.target), tuple(operations), mode, block, self.span(loop))

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
