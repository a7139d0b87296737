"""Cut the statements the compiler replaces out of the user's code, as holes of the plan.

The agent's code is copied as written, except that module state (a module variable some
function rebinds, ``global x``) is reached on the app module (``app_module.x``), and
three kinds of statements, each replaced by a hole (:class:`faustc.plan.model.UserCode`)
that the emitter fills:

- ``yield x`` in an agent with sinks: a :class:`Deliver` (the sinks are fed directly);
- ``await topic.send(...)`` / ``topic.send_soon(...)`` on a module-level topic: a
  :class:`Send` (the passes decide how it reaches Kafka);
- ``table[k] <op>= v`` on a module-level table with a plain ``v``: a :class:`TableUpdate`
  (the passes decide whether it is one ``Table.in_place`` call);
- in the message loop, ``table[k] = v``: a :class:`TableSet`.

In the message loop (when nothing in it awaits, so the message's partition cannot change
under it), reads of a module-level table (``table.get(k)``, ``table.get(k, <literal>)``,
``table[k]``) become expressions on the store of the message's partition, bound by the
loop (:class:`faustc.plan.model.TableLocals`, ``faust.compiled.table_access``)::

    (v if (v := totals_data.get((k := order.account), _ABSENT)) is not _ABSENT
     else _table_get(totals, totals_target, totals_store, k, None))

Only statements of the agent's own function count (not those of functions it defines), and
not sends through a name the agent binds itself. Example::

    # async for o in orders:  await out.send(key=o.account, value=o)
    rewrite(body)   # UserCode(text="__faustc_hole_0\\n",
                    #          holes=(Send(topic="out", key="o.account", value="o"),))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import TypeVar

import libcst as cst

from faustc.front.ir import Code
from faustc.front.syntax import SyntaxTree
from faustc.plan.analysis import SEND_KEYWORDS
from faustc.plan.model import (
    Deliver,
    Hole,
    Send,
    TableLocals,
    TableSet,
    TableUpdate,
    UserCode,
    UserExpr,
)
from faustc.plan.names import fresh
from faustc.plan.observers import MessageReads

#: ``x <op>= y`` -> the in-place operator's name in the ``operator`` module
IN_PLACE_OPERATORS: dict[type[cst.BaseAugOp], str] = {
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


class UserCodeRewriter:
    """Cuts the holes out of one agent's code (see the module docstring)."""

    def __init__(
        self,
        syntax: SyntaxTree,
        *,
        topics: AbstractSet[str],
        tables: AbstractSet[str],
        rebound: AbstractSet[str],
        yields: bool,
        sync_sinks: bool,
        in_take: bool,
        state: Mapping[cst.Name, cst.BaseExpression] | None = None,
        taken: set[str] | None = None,
    ) -> None:
        self.syntax = syntax
        #: references to module state, reached on the app module (``module_state_renames``)
        self.state = state or {}
        #: the module-level topics and tables the agent does not bind itself
        self.topics = set(topics) - set(rebound)
        self.tables = set(tables) - set(rebound)
        #: the names the agent binds itself (not the module's, nor builtins)
        self.rebound = frozenset(rebound)
        self.yields = yields
        self.sync_sinks = sync_sinks
        self.in_take = in_take
        #: the fused function's names (fresh ones for direct table access are added);
        #: None: no direct table access
        self.taken = taken

    def rewrite(self, code: Code | None, *, in_loop: bool) -> UserCode | None:
        if code is None:
            return None
        marker = "__faustc_hole_"
        while marker in code.text:
            marker = f"_{marker}"
        direct = (
            in_loop
            and not self.in_take
            and self.taken is not None
            and not any(_suspends(statement) for statement in code.statements)
        )
        transformer = _Holes(self, marker, in_loop=in_loop, direct=direct)
        statements: list[cst.CSTNode] = []
        for statement in code.statements:
            rewritten = statement.visit(transformer)
            assert isinstance(rewritten, cst.CSTNode)
            statements.append(rewritten)
        found = MessageReads(
            tables=self.tables,
            reads={names["data"] for names in transformer.names.values()},
            rebound=self.rebound,
            allowed=transformer.hole_tables,
        )
        for node in (*statements, *transformer.hole_nodes):
            node.visit(found)
        if not transformer.holes and not transformer.renamed:
            return UserCode(
                code.text, code.line, message_read=found.why, builtins_called=found.builtins()
            )
        text = "".join(self.syntax.code(statement) for statement in statements)
        return UserCode(
            text,
            code.line,
            marker,
            tuple(transformer.holes),
            tuple(transformer.lines),
            transformer.table_locals(),
            message_read=found.why,
            builtins_called=found.builtins(),
        )

    def table_names(self, table: str) -> dict[str, str]:
        """Fresh names for direct access to ``table`` (see :class:`TableLocals`)."""
        assert self.taken is not None
        parts = {
            **{part: part for part in ("stores", "target", "store", "data", "key", "value")},
            **{"window": "size", "start": "start", "range": "range", "time": "time"},
            **{"moment": "at", "wkey": "wkey", "expires": "expires", "clock": "clock"},
            **{"hops": "hops", "limit": "limit", "ranges": "ranges", "hop": "hop"},
            **{"operand": "operand", "ends": "ends"},
        }
        # ``totals_table`` -> ``totals_store``, ``totals_data``...
        base = table.removesuffix("_table") or table
        return {part: fresh(f"{base}_{short}", self.taken) for part, short in parts.items()}


class _Suspends(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Await(self, node: cst.Await) -> bool:
        self.found = True
        return False

    def visit_Yield(self, node: cst.Yield) -> bool:
        self.found = True
        return False

    def visit_For(self, node: cst.For) -> bool:
        self.found = self.found or node.asynchronous is not None
        return True

    def visit_With(self, node: cst.With) -> bool:
        self.found = self.found or node.asynchronous is not None
        return True


def _suspends(statement: cst.CSTNode) -> bool:
    """Can ``statement`` give the event loop a turn (``await``, ``yield``, ``async for``,
    ``async with``)? Then a rebalance may move the message's partition away mid-message,
    and tables are accessed through their methods."""
    visitor = _Suspends()
    statement.visit(visitor)
    return visitor.found


_Node = TypeVar("_Node", bound=cst.CSTNode)

#: where a read is not made an expression with ``:=``: its value may be used later
#: (lambda), the walrus is not allowed or scoped otherwise (comprehensions, classes), or
#: the text would have to be quoted again (f-strings)
_OPAQUE = (
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.ClassDef,
    cst.FormattedString,
)


class _Holes(cst.CSTTransformer):
    def __init__(
        self, rewriter: UserCodeRewriter, marker: str, *, in_loop: bool, direct: bool = False
    ) -> None:
        self.rewriter = rewriter
        self.marker = marker
        self.in_loop = in_loop
        self.holes: list[Hole] = []
        self.lines: list[tuple[int, int]] = []
        self.depth = 0
        self.renamed = False
        #: tables are read and written directly (see the module docstring)
        self.direct = direct
        #: inside code where reads stay as written (_OPAQUE)
        self.opaque = 0
        #: subscripts that are assigned, deleted or bound (not reads)
        self.targets: set[int] = set()
        #: table -> its names and how the code uses it ("read", "set", "update")
        self.names: dict[str, dict[str, str]] = {}
        #: the code the holes run (faustc.plan.observers), and the table of each write
        self.hole_nodes: list[cst.CSTNode] = []
        self.hole_tables: set[int] = set()
        self.uses: dict[str, set[str]] = {}

    def table_locals(self) -> tuple[TableLocals, ...]:
        return tuple(
            TableLocals(table=table, **names, windows=self.uses[table] == {"update"})
            for table, names in self.names.items()
        )

    def _use(self, table: str, how: str) -> dict[str, str]:
        names = self.names.get(table)
        if names is None:
            names = self.names[table] = self.rewriter.table_names(table)
            self.uses[table] = set()
        self.uses[table].add(how)
        return names

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _OPAQUE):
            self.opaque += 1
        elif isinstance(node, cst.Assign):
            self.targets.update(id(target.target) for target in node.targets)
        elif isinstance(node, cst.AugAssign | cst.AnnAssign | cst.For | cst.CompFor):
            self.targets.add(id(node.target))
        elif isinstance(node, cst.Del):
            self.targets.add(id(node.target))
            if isinstance(node.target, cst.Tuple):
                self.targets.update(id(element.value) for element in node.target.elements)
        elif isinstance(node, cst.AsName):
            self.targets.add(id(node.name))
        return super().on_visit(node)

    def on_leave(
        self, original_node: _Node, updated_node: _Node
    ) -> _Node | cst.RemovalSentinel | cst.FlattenSentinel[_Node]:
        if isinstance(original_node, _OPAQUE):
            self.opaque -= 1
        return super().on_leave(original_node, updated_node)

    def _reads_directly(self) -> bool:
        return self.direct and not self.depth and not self.opaque

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        """``table.get(k)`` / ``table.get(k, <literal>)`` -> a direct read."""
        func = updated_node.func
        if not (
            self._reads_directly()
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.rewriter.tables
            and func.attr.value == "get"
            and 1 <= len(updated_node.args) <= 2
            and all(arg.keyword is None and not arg.star for arg in updated_node.args)
            and (len(updated_node.args) == 1 or _is_literal(updated_node.args[1].value))
        ):
            return updated_node
        code = self.rewriter.syntax.code
        key = code(updated_node.args[0].value)
        default = code(updated_node.args[1].value) if len(updated_node.args) == 2 else "None"
        table = func.value.value
        names = self._use(table, "read")
        return self._read(names, table, key, f"_table_get({{}}, {{}}, {{}}, {{}}, {default})")

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        """``table[k]`` read -> a direct read."""
        if not (
            self._reads_directly()
            and id(original_node) not in self.targets
            and isinstance(updated_node.value, cst.Name)
            and updated_node.value.value in self.rewriter.tables
            and len(updated_node.slice) == 1
            and isinstance(updated_node.slice[0].slice, cst.Index)
            and updated_node.slice[0].slice.star is None
        ):
            return updated_node
        table = updated_node.value.value
        key = self.rewriter.syntax.code(updated_node.slice[0].slice.value)
        names = self._use(table, "read")
        return self._read(names, table, key, "_table_item({}, {}, {}, {})")

    def _read(self, names: dict[str, str], table: str, key: str, miss: str) -> cst.BaseExpression:
        self.renamed = True
        value, key_local = names["value"], names["key"]
        missed = miss.format(table, names["target"], names["store"], key_local)
        text = (
            f"({value} if ({value} := {names['data']}.get(({key_local} := {key}), _ABSENT))"
            f" is not _ABSENT else {missed})"
        )
        return cst.parse_expression(text)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        replacement = self.rewriter.state.get(original_node)
        if replacement is None:
            return updated_node
        self.renamed = True
        return replacement

    def leave_Global(
        self, original_node: cst.Global, updated_node: cst.Global
    ) -> cst.BaseSmallStatement:
        """``global x`` for module state reached on the app module says nothing any more
        (``pass`` when it named only such variables: the line stays). In the agent's own
        code every ``global`` goes: a name it declares and never assigns is global anyway,
        and the fused function reads some (the App, the topics) before the user's line,
        which Python refuses ("name 'app' is used prior to global declaration")."""
        state = {name.value for name in self.rewriter.state}
        kept = [
            item for item in updated_node.names if item.name.value not in state and self.depth > 0
        ]
        if len(kept) == len(updated_node.names):
            return updated_node
        self.renamed = True
        if not kept:
            return cst.Pass()
        last = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(names=[*kept[:-1], last])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return True

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node

    def _hole_code(self, statement: cst.CSTNode, target: cst.BaseExpression) -> None:
        """The code a table write's hole runs (its key and value), its table allowed."""
        self.hole_nodes.append(statement)
        if isinstance(target, cst.Subscript):
            self.hole_tables.add(id(target.value))

    def _hole(self, hole: Hole, original: cst.SimpleStatementLine) -> cst.Expr:
        position = self.rewriter.syntax.positions.get(original)
        if position is not None:
            self.lines.append((position.start.line, position.end.line))
        else:  # pragma: no cover - a statement the reader made up
            self.lines.append((0, 0))
        self.holes.append(hole)
        return cst.Expr(cst.Name(f"{self.marker}{len(self.holes) - 1}"))

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement:
        if self.depth or len(updated_node.body) != 1:
            return updated_node
        small = updated_node.body[0]
        rewriter = self.rewriter
        code = rewriter.syntax.code
        if isinstance(small, cst.AugAssign):
            update = _table_update(small, rewriter.tables, code)
            if update is None:
                return updated_node
            self._hole_code(small, small.target)
            if self.direct:
                self._use(update.table, "update")
                update = dataclasses.replace(update, direct=True)
            # the statement's own line: its comments above and beside it stay
            return updated_node.with_changes(body=[self._hole(update, original_node)])
        if isinstance(small, cst.Assign) and self.direct:
            assigned = _table_set(small, rewriter.tables, code)
            if assigned is None:
                return updated_node
            self._hole_code(small, small.targets[0].target)
            self._use(assigned.table, "set")
            return updated_node.with_changes(body=[self._hole(assigned, original_node)])
        if not isinstance(small, cst.Expr):
            return updated_node
        value = small.value
        if isinstance(value, cst.Yield) and rewriter.yields:
            yielded = value.value
            self.hole_nodes.append(small)  # a delivery runs the sinks' code
            deliver = Deliver(
                code(yielded) if yielded is not None else "None",
                with_context=self.in_loop and not rewriter.in_take,
                awaited=not rewriter.sync_sinks,
            )
            hole = self._hole(deliver, original_node)
            if rewriter.sync_sinks:  # one call: the comment beside it stays
                return updated_node.with_changes(body=[hole])
            return cst.SimpleStatementLine(body=[hole], leading_lines=updated_node.leading_lines)
        # ``await topic.send(...)`` or ``topic.send_soon(...)`` as a statement
        awaited = isinstance(value, cst.Await)
        call = value.expression if isinstance(value, cst.Await) else value
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and isinstance(call.func.value, cst.Name)
            and call.func.attr.value == ("send" if awaited else "send_soon")
            and call.func.value.value in rewriter.topics
        ):
            return updated_node
        arguments: dict[str, UserExpr] = {}
        for arg in call.args:
            if arg.keyword is None or arg.star or arg.keyword.value not in SEND_KEYWORDS:
                return updated_node
            arguments[arg.keyword.value] = UserExpr(code(arg.value))
        self.hole_nodes.extend(arg.value for arg in call.args)
        send = Send(
            call.func.value.value,
            key=arguments.get("key"),
            value=arguments.get("value"),
            partition=arguments.get("partition"),
            timestamp=arguments.get("timestamp"),
            headers=arguments.get("headers"),
        )
        hole = self._hole(send, original_node)
        return cst.SimpleStatementLine(body=[hole], leading_lines=updated_node.leading_lines)


def _table_update(
    statement: cst.AugAssign, tables: AbstractSet[str], code: object
) -> TableUpdate | None:
    """``table[k] <op>= v`` on one of ``tables``, for a ``v`` whose evaluation cannot touch
    the table (a literal, a name, an attribute of a name): the statement reads the key
    before it evaluates ``v``, ``Table.in_place`` after."""
    assert callable(code)
    target = statement.target
    if not (_is_table_item(target, tables) and _is_plain_operand(statement.value)):
        return None
    assert isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name)
    assert isinstance(target.slice[0].slice, cst.Index)
    return TableUpdate(
        table=target.value.value,
        key=code(target.slice[0].slice.value),
        operator=IN_PLACE_OPERATORS[type(statement.operator)],
        operand=code(statement.value),
        statement=code(statement),
    )


def _is_table_item(target: cst.BaseExpression, tables: AbstractSet[str]) -> bool:
    """``target`` is ``table[k]`` (one plain key, no star) on one of ``tables``."""
    return (
        isinstance(target, cst.Subscript)
        and isinstance(target.value, cst.Name)
        and target.value.value in tables
        and len(target.slice) == 1
        and isinstance(target.slice[0].slice, cst.Index)
        and target.slice[0].slice.star is None
    )


def _table_set(statement: cst.Assign, tables: AbstractSet[str], code: object) -> TableSet | None:
    """``table[k] = v`` (one target) on one of ``tables``."""
    assert callable(code)
    if len(statement.targets) != 1:
        return None
    target = statement.targets[0].target
    if not _is_table_item(target, tables):
        return None
    assert isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name)
    assert isinstance(target.slice[0].slice, cst.Index)
    return TableSet(
        table=target.value.value,
        key=code(target.slice[0].slice.value),
        value=code(statement.value),
        statement=code(statement),
    )


def _is_literal(node: cst.BaseExpression) -> bool:
    """A number, a string, ``None``, ``True`` or ``False`` (evaluating it does nothing)."""
    if isinstance(node, cst.Integer | cst.Float | cst.SimpleString):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer | cst.Float)
    return False


def _is_plain_operand(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer | cst.Float | cst.SimpleString | cst.Name):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer | cst.Float)
    if isinstance(node, cst.Attribute):
        return _is_plain_operand(node.value) and not isinstance(node.value, cst.SimpleString)
    return False
