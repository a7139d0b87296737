"""Cut the statements the compiler replaces out of the user's code, as holes of the plan.

The agent's code is copied as written, except that module state (a module variable some
function rebinds, ``global x``) is reached on the app module (``app_module.x``), and
three kinds of statements, each replaced by a hole (:class:`faustc.plan.model.UserCode`)
that the emitter fills:

- ``yield x`` in an agent with sinks: a :class:`Deliver` (the sinks are fed directly);
- ``await topic.send(...)`` / ``topic.send_soon(...)`` on a module-level topic: a
  :class:`Send` (the passes decide how it reaches Kafka);
- ``table[k] <op>= v`` on a module-level table with a plain ``v``: a :class:`TableUpdate`
  (the passes decide whether it is one ``Table.in_place`` call).

Only statements of the agent's own function count (not those of functions it defines), and
not sends through a name the agent binds itself. Example::

    # async for o in orders:  await out.send(key=o.account, value=o)
    rewrite(body)   # UserCode(text="__faustc_hole_0\\n",
                    #          holes=(Send(topic="out", key="o.account", value="o"),))
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet

import libcst as cst

from faustc.front.ir import Code
from faustc.front.syntax import SyntaxTree
from faustc.plan.analysis import SEND_KEYWORDS
from faustc.plan.model import Deliver, Hole, Send, TableUpdate, UserCode, UserExpr

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
    ) -> None:
        self.syntax = syntax
        #: references to module state, reached on the app module (``module_state_renames``)
        self.state = state or {}
        #: the module-level topics and tables the agent does not bind itself
        self.topics = set(topics) - set(rebound)
        self.tables = set(tables) - set(rebound)
        self.yields = yields
        self.sync_sinks = sync_sinks
        self.in_take = in_take

    def rewrite(self, code: Code | None, *, in_loop: bool) -> UserCode | None:
        if code is None:
            return None
        marker = "__faustc_hole_"
        while marker in code.text:
            marker = f"_{marker}"
        transformer = _Holes(self, marker, in_loop=in_loop)
        statements: list[cst.CSTNode] = []
        for statement in code.statements:
            rewritten = statement.visit(transformer)
            assert isinstance(rewritten, cst.CSTNode)
            statements.append(rewritten)
        if not transformer.holes and not transformer.renamed:
            return UserCode(code.text, code.line)
        text = "".join(self.syntax.code(statement) for statement in statements)
        return UserCode(
            text,
            code.line,
            marker,
            tuple(transformer.holes),
            tuple(transformer.lines),
        )


class _Holes(cst.CSTTransformer):
    def __init__(self, rewriter: UserCodeRewriter, marker: str, *, in_loop: bool) -> None:
        self.rewriter = rewriter
        self.marker = marker
        self.in_loop = in_loop
        self.holes: list[Hole] = []
        self.lines: list[tuple[int, int]] = []
        self.depth = 0
        self.renamed = False

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
            # the statement's own line: its comments above and beside it stay
            return updated_node.with_changes(body=[self._hole(update, original_node)])
        if not isinstance(small, cst.Expr):
            return updated_node
        value = small.value
        if isinstance(value, cst.Yield) and rewriter.yields:
            yielded = value.value
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
    if not (
        isinstance(target, cst.Subscript)
        and isinstance(target.value, cst.Name)
        and target.value.value in tables
        and len(target.slice) == 1
        and isinstance(target.slice[0].slice, cst.Index)
        and target.slice[0].slice.star is None
        and _is_plain_operand(statement.value)
    ):
        return None
    return TableUpdate(
        table=target.value.value,
        key=code(target.slice[0].slice.value),
        operator=IN_PLACE_OPERATORS[type(statement.operator)],
        operand=code(statement.value),
        statement=code(statement),
    )


def _is_plain_operand(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer | cst.Float | cst.SimpleString | cst.Name):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, cst.Integer | cst.Float)
    if isinstance(node, cst.Attribute):
        return _is_plain_operand(node.value) and not isinstance(node.value, cst.SimpleString)
    return False
