"""The module's syntax tree with its metadata, and small questions the readers ask of it.

:class:`SyntaxTree` is the module parsed once, with libcst's metadata resolved once
(qualified names, scopes, parents, expression contexts); the front IR keeps it, and the
nodes of the user's code it copies, so later phases ask their questions of the same tree
instead of parsing text again. The functions answer small questions: which names a
function uses, the ``break`` statements that would leave a loop, the ``yield``
expressions of a function. Example::

    syntax = SyntaxTree(MetadataWrapper(cst.parse_module("import faust\nfaust.App('x')\n")))
    syntax.qualified(call.func)                          # {'faust.App'}
    names_in(cst.parse_expression("f(x, key=y.z)"))     # frozenset({'f', 'x', 'y'})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import libcst as cst
from libcst.metadata import (
    CodeRange,
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    Scope,
    ScopeProvider,
)


class SyntaxTree:
    """The module's libcst tree and the metadata every phase reads (resolved once)."""

    def __init__(self, wrapper: MetadataWrapper) -> None:
        self.tree = wrapper.module
        self.positions: Mapping[cst.CSTNode, CodeRange] = wrapper.resolve(PositionProvider)
        self.qualified_names: Mapping[cst.CSTNode, Any] = wrapper.resolve(QualifiedNameProvider)
        self.scopes: Mapping[cst.CSTNode, Scope | None] = wrapper.resolve(ScopeProvider)
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = wrapper.resolve(ParentNodeProvider)
        self.contexts: Mapping[cst.CSTNode, ExpressionContext] = wrapper.resolve(
            ExpressionContextProvider
        )

    def code(self, node: cst.CSTNode) -> str:
        """The source text of ``node`` (a statement's with its leading comment lines)."""
        return self.tree.code_for_node(node)

    def qualified(self, node: cst.CSTNode) -> set[str]:
        """The qualified names ``node`` may refer to (``{"faust.App"}`` for ``App``)."""
        found: Any = self.qualified_names.get(node, ())
        if callable(found):  # newer libcst computes these on demand
            found = found()
        return {name.name for name in found}

    def rebound_globals(self) -> frozenset[str]:
        """Module variables a function rebinds at run time (``global x; x += 1``): their
        value is the module's own, not one an importer copied."""
        scope = self.scopes.get(self.tree)
        if scope is None:
            return frozenset()
        found = set()
        for assignment in scope.assignments:
            node = getattr(assignment, "node", None)
            if node is not None and self._inside_function(node):
                found.add(assignment.name)
        return frozenset(found)

    def global_references(self, names: frozenset[str]) -> set[cst.Name]:
        """Every ``Name`` node that reads or binds one of the module variables ``names``
        (in functions too; a local of the same name is not one)."""
        scope = self.scopes.get(self.tree)
        found: set[cst.Name] = set()
        if scope is None:
            return found
        for name in names:
            for assignment in scope.assignments[name]:
                node = getattr(assignment, "node", None)
                if isinstance(node, cst.Name):
                    found.add(node)
                found.update(
                    access.node
                    for access in assignment.references
                    if isinstance(access.node, cst.Name)
                )
        return found

    def _inside_function(self, node: cst.CSTNode) -> bool:
        parent = self.parents.get(node)
        while parent is not None:
            if isinstance(parent, cst.FunctionDef | cst.Lambda):
                return True
            parent = self.parents.get(parent)
        return False


def root_name(node: cst.BaseExpression) -> str | None:
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


def names_in(node: cst.CSTNode) -> frozenset[str]:
    collector = _NameCollector()
    node.visit(collector)
    return frozenset(collector.names)


def function_names(node: cst.FunctionDef) -> frozenset[str]:
    """Names the function's code uses: its parameters and its body (not annotations)."""
    params = {param.name.value for param in node.params.params}
    return names_in(node.body) | params


def mentions(node: cst.CSTNode, name: str) -> bool:
    return name in names_in(node)


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


def loop_level_breaks(statement: cst.CSTNode) -> list[cst.Break]:
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


def has_yield(node: cst.FunctionDef) -> bool:
    return bool(_find_yields(node).found)


def bad_yields(node: cst.FunctionDef) -> list[cst.Yield]:
    finder = _find_yields(node)
    return [
        found
        for found in finder.found
        if found not in finder.statements or isinstance(found.value, cst.From)
    ]


class NameUses(cst.CSTVisitor):
    """The names a piece of code uses (``names``), and whether any name or attribute in it
    refers to one of ``wanted`` by its qualified name (``found``)."""

    def __init__(
        self, qualified: Callable[[cst.CSTNode], set[str]], wanted: frozenset[str]
    ) -> None:
        self.qualified = qualified
        self.wanted = wanted
        self.names: set[str] = set()
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)
        if self.qualified(node) & self.wanted:
            self.found = True

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.qualified(node) & self.wanted:
            self.found = True


def top_level_bindings(tree: cst.Module) -> dict[str, list[cst.CSTNode]]:
    """The module-level statements that bind each name: functions, classes, assignments."""
    bindings: dict[str, list[cst.CSTNode]] = {}
    for statement in tree.body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            bindings.setdefault(statement.name.value, []).append(statement)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                targets: list[cst.BaseExpression] = []
                if isinstance(small, cst.Assign):
                    targets = [target.target for target in small.targets]
                elif isinstance(small, cst.AnnAssign | cst.AugAssign):
                    targets = [small.target]
                for target in targets:
                    if isinstance(target, cst.Name):
                        bindings.setdefault(target.value, []).append(statement)
    return bindings
