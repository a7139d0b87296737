"""What the user's code does with a name: questions the plan asks of the kept syntax tree.

Every answer comes from the module's one syntax tree and its scope metadata
(``AppModule.syntax``), never from parsing text again. Example::

    # async for o in stream.filter(lambda o: o.amount > 1):  print(o.account)
    inline_lambda(syntax, filter_lambda, "value")   # 'value.amount > 1'
    lambda_use(syntax, filter_lambda)               # ValueUse(reads={'amount'}, ...)
    target_use(syntax, agent, topics)               # ValueUse(reads={'account'}, ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet

import libcst as cst
from libcst.metadata import ExpressionContext

from faustc.front.ir import AgentDef
from faustc.front.syntax import SyntaxTree
from faustc.plan.model import ValueUse

#: the keyword arguments of ``Topic.send``/``send_soon``
SEND_KEYWORDS = ("key", "value", "partition", "timestamp", "headers")


#: what the worker calls the app module (``import shop as app_module``)
APP_MODULE = "app_module"


def module_state_renames(
    syntax: SyntaxTree, names: frozenset[str]
) -> dict[cst.Name, cst.BaseExpression]:
    """``x`` -> ``app_module.x`` for every reference to one of the module variables
    ``names`` (those a function rebinds at run time: the worker's imported copy would be
    stale, and a write would land in the worker module)."""
    return {
        node: cst.Attribute(value=cst.Name(APP_MODULE), attr=cst.Name(node.value))
        for node in syntax.global_references(names)
    }


class _Rename(cst.CSTTransformer):
    """Replaces the given ``Name`` nodes (by identity) with expressions."""

    def __init__(self, replacements: Mapping[cst.Name, cst.BaseExpression]) -> None:
        self.replacements = replacements

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.replacements.get(original_node, updated_node)


def _renames(
    syntax: SyntaxTree,
    node: cst.Lambda,
    replacement: str,
    state: Mapping[cst.Name, cst.BaseExpression],
) -> dict[cst.Name, cst.BaseExpression]:
    renames: dict[cst.Name, cst.BaseExpression] = dict(state)
    renames.update({name: cst.Name(replacement) for name in _references(syntax, node)})
    return renames


def _param(node: cst.Lambda) -> str:
    return node.params.params[0].name.value


def _references(syntax: SyntaxTree, node: cst.Lambda) -> set[cst.Name]:
    """The references to the lambda's parameter (a nested lambda or comprehension that
    binds the same name keeps its own)."""
    scope = syntax.scopes[node.body]
    assert scope is not None
    found: set[cst.Name] = set()
    for assignment in scope.assignments[_param(node)]:
        for access in assignment.references:
            if isinstance(access.node, cst.Name):
                found.add(access.node)
    return found


def inline_lambda(
    syntax: SyntaxTree,
    node: cst.Lambda,
    replacement: str,
    state: Mapping[cst.Name, cst.BaseExpression] | None = None,
) -> str:
    """The body of ``lambda param: body`` with every reference to ``param`` renamed to
    ``replacement`` (on one line), and module state reached on the app module
    (``state``: :func:`module_state_renames`)."""
    renamed = node.body.visit(_Rename(_renames(syntax, node, replacement, state or {})))
    assert isinstance(renamed, cst.BaseExpression)
    text = syntax.code(renamed)
    return " ".join(text.split()) if "\n" in text else text


def inline_call(
    syntax: SyntaxTree,
    node: cst.Lambda,
    replacement: str,
    state: Mapping[cst.Name, cst.BaseExpression] | None = None,
) -> tuple[str, tuple[str, ...]] | None:
    """When ``lambda param: f(...)``'s body is a call of plain arguments: ``f`` and the
    arguments, each with ``param`` renamed (a keyword argument as ``name=value``); else
    None."""
    if not isinstance(node.body, cst.Call) or any(arg.star for arg in node.body.args):
        return None
    renamed = node.body.visit(_Rename(_renames(syntax, node, replacement, state or {})))
    assert isinstance(renamed, cst.Call)
    found = []
    for part in (renamed.func, *(arg.value for arg in renamed.args)):
        text = syntax.code(part)
        found.append(" ".join(text.split()) if "\n" in text else text)
    function, *values = found
    arguments = [
        f"{arg.keyword.value}={value}" if arg.keyword is not None else value
        for arg, value in zip(renamed.args, values, strict=True)
    ]
    return function, tuple(arguments)


def lambda_use(syntax: SyntaxTree, node: cst.Lambda) -> ValueUse:
    """How ``lambda param: body`` uses its parameter."""
    reads: set[str] = set()
    other = False
    for reference in _references(syntax, node):
        parent = syntax.parents.get(reference)
        if isinstance(parent, cst.Attribute) and parent.value is reference:
            reads.add(parent.attr.value)
        else:
            other = True
    return ValueUse(frozenset(reads), frozenset(), other)


def target_use(syntax: SyntaxTree, agent: AgentDef, topics: AbstractSet[str]) -> ValueUse | None:
    """How the agent's function uses its loop variable (None: the target is not one name),
    counting as sent only statement-level sends on ``topics`` in the function itself."""
    function, target = agent.node, agent.loop.target_node
    if function is None or not isinstance(target, cst.Name):
        return None
    body = function.body
    assert isinstance(body, cst.IndentedBlock)
    scope = syntax.scopes[body.body[0]]
    assert scope is not None
    assignments = list(scope.assignments[target.value])
    if len(assignments) != 1:
        return ValueUse(other=True)  # the loop variable is bound again (or deleted)
    reads: set[str] = set()
    sent: set[str] = set()
    other = False
    for access in assignments[0].references:
        node = access.node
        parent = syntax.parents.get(node)
        if (
            isinstance(parent, cst.Attribute)
            and parent.value is node
            and syntax.contexts.get(parent) is ExpressionContext.LOAD
        ):
            reads.add(parent.attr.value)
            continue
        topic = _sent_on(node, syntax.parents, topics) if access.scope is scope else None
        if topic is None:
            other = True
        else:
            sent.add(topic)
    return ValueUse(frozenset(reads), frozenset(sent), other)


def _sent_on(
    node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode], topics: AbstractSet[str]
) -> str | None:
    """The topic when ``node`` is the ``value=`` of a statement-level send on one of
    ``topics``, in the form the plan turns into a direct produce (else None)."""
    arg = parents.get(node)
    if not (isinstance(arg, cst.Arg) and arg.keyword is not None and arg.keyword.value == "value"):
        return None
    call = parents.get(arg)
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.value.value in topics
        and all(a.keyword is not None and not a.star for a in call.args)
        and all(a.keyword.value in SEND_KEYWORDS for a in call.args if a.keyword)
    ):
        return None
    holder = parents.get(call)
    awaited = isinstance(holder, cst.Await)
    if holder is None or call.func.attr.value != ("send" if awaited else "send_soon"):
        return None
    statement = parents.get(holder) if awaited else holder
    if not isinstance(statement, cst.Expr):
        return None
    line = parents.get(statement)
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        return call.func.value.value
    return None


def record_built(node: cst.Lambda, fields: Mapping[str, Iterable[str]]) -> str | None:
    """The Record ``lambda x: R(...)`` builds from all of its fields (positional ones
    first, the rest by keyword, none left to its default), if that is what it does."""
    call = node.body
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)):
        return None
    record = call.func.value
    if record not in fields:
        return None
    names = list(fields[record])
    positional = [arg for arg in call.args if arg.keyword is None]
    keywords = [arg.keyword.value for arg in call.args if arg.keyword is not None]
    if any(arg.star for arg in call.args) or len(positional) > len(names):
        return None
    if sorted(names[len(positional) :]) != sorted(keywords):
        return None  # a field left to its default, or not a field
    return record


def names_bound(agent: AgentDef) -> frozenset[str]:
    """Every name the agent's function binds: its parameter, the loop target, and what its
    code assigns, imports or defines (a module-level name bound there is not the module's)."""
    names = {agent.param} if agent.param else set()
    if agent.loop.target_node is not None:
        names |= _targets(agent.loop.target_node)
    for block in (agent.prelude, agent.loop.body, agent.postlude):
        if block is not None:
            for statement in block.statements:
                names |= _bound_names(statement)
    return frozenset(names)


def _targets(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class Names(cst.CSTVisitor):
        def visit_Name(self, inner: cst.Name) -> None:
            names.add(inner.value)

        def visit_Attribute(self, inner: cst.Attribute) -> bool:
            return False

        def visit_Subscript(self, inner: cst.Subscript) -> bool:
            return False

    node.visit(Names())
    return names


def _bound_names(tree: cst.CSTNode) -> set[str]:
    """Every name the code binds: assignments, loop and ``with`` targets, walrus,
    ``global``/``nonlocal``, imports, nested definitions, comprehension targets."""
    names: set[str] = set()

    class Finder(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            names.update(_targets(node.target))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            names.update(_targets(node.target))

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            names.update(_targets(node.target))

        def visit_For(self, node: cst.For) -> None:
            names.update(_targets(node.target))

        def visit_CompFor(self, node: cst.CompFor) -> None:
            names.update(_targets(node.target))

        def visit_AsName(self, node: cst.AsName) -> None:
            names.update(_targets(node.name))

        def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
            names.update(_targets(node.target))

        def visit_Global(self, node: cst.Global) -> None:
            names.update(item.name.value for item in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            names.update(item.name.value for item in node.names)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            names.add(node.name.value)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            names.add(node.name.value)

        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            if node.asname is None:
                names.add(cst.Module(body=[]).code_for_node(node.name).split(".")[0])

    tree.visit(Finder())
    return names
