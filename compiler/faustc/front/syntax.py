"""Small questions about libcst syntax trees that the readers ask.

Which names a function uses, whether a statement mentions a name, the ``break`` statements
that would leave a loop, the ``yield`` expressions of a function. Example::

    names_in(cst.parse_expression("f(x, key=y.z)"))     # frozenset({'f', 'x', 'y'})
"""

from __future__ import annotations

import libcst as cst


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
