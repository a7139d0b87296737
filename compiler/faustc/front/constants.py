"""What the compiler can evaluate when it builds: names of topics, tables and the App, and
the other values a declaration needs, written as Faust apps write them.

A value is *static* when it is a literal, a module constant (a name bound once, at module
level, to a static value; also one of another of the app's modules: ``from settings import
TOPIC``, ``settings.TOPIC``), an f-string or a ``+`` of static parts,
``os.environ.get('VAR', default)`` / ``os.getenv('VAR', default)`` with a static default,
or the App's id (``app.conf.id``, ``app.id``). A value read from the environment is known
by its default; its :class:`Static` names the variables, and whatever the worker does with
it, it reads at run time (the app module computes it again, from the same expression).
Example::

    # PREFIX = 'sensor'
    # SINK = os.environ.get('SINK', f'{PREFIX}-alerts')
    statics.evaluate(sink_node, app)      # Static(value='sensor-alerts', env=('SINK',))

Anything else (a function call, a value computed in a loop, a name bound twice) is not
static: :meth:`Statics.evaluate` returns None and the reader reports it.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable

import libcst as cst
from libcst.metadata import Assignment, ImportAssignment

from faustc.front.ir import AppDef
from faustc.front.syntax import SyntaxTree

#: the calls that read an environment variable with a default
ENVIRONMENT_READS = frozenset({"os.environ.get", "os.getenv"})
#: how deep constants may refer to constants (a cycle is not static)
_DEPTH = 20
_INT_OPERATIONS: dict[type[cst.BaseBinaryOp], Callable[[int, int], int]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
}


@dataclasses.dataclass(frozen=True, slots=True)
class Static:
    """A value known when the worker is built: ``value`` is what it is when the
    environment variables in ``env`` are unset (their defaults); with ``env`` empty it is
    the value, whatever the environment."""

    value: object
    env: tuple[str, ...] = ()

    @property
    def fixed(self) -> bool:
        """Whether the value never depends on the environment."""
        return not self.env

    def with_env(self, *others: Static) -> Static:
        env = list(self.env)
        for other in others:
            env += [name for name in other.env if name not in env]
        return dataclasses.replace(self, env=tuple(env))


class Statics:
    """Evaluates expressions of one module (see the module docstring). ``locate`` gives
    the evaluator of another local module (``from settings import TOPIC``, ``import
    settings``; None: not one of the app's own), ``package`` anchors relative imports."""

    def __init__(
        self,
        syntax: SyntaxTree,
        locate: Callable[[str], Statics | None] | None = None,
        package: str = "",
    ) -> None:
        self.syntax = syntax
        self.locate = locate
        self.package = package

    def evaluate(
        self, node: cst.BaseExpression, app: AppDef | None = None, depth: int = 0
    ) -> Static | None:
        """``node``'s static value, or None when it has none."""
        if depth > _DEPTH:
            return None
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return Static(value) if isinstance(value, str) else None
        if isinstance(node, cst.Integer | cst.Float):
            return Static(node.evaluated_value)
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
            operand = self.evaluate(node.expression, app, depth + 1)
            if operand is not None and isinstance(operand.value, int | float):
                return Static(-operand.value, operand.env)
            return None
        if isinstance(node, cst.Name):
            if node.value in ("True", "False", "None"):
                return Static({"True": True, "False": False, "None": None}[node.value])
            return self._constant(node, app, depth)
        if isinstance(node, cst.FormattedString):
            return self._f_string(node, app, depth)
        if isinstance(node, cst.BinaryOperation):
            return self._operation(node, app, depth)
        if isinstance(node, cst.Call):
            return self._environment(node, app, depth)
        if isinstance(node, cst.Attribute) and app is not None and self._is_app_id(node, app):
            return Static(app.app_id, app.env)
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            return self._module_attribute(node.value, node.attr.value, depth)
        return None

    def _constant(self, node: cst.Name, app: AppDef | None, depth: int) -> Static | None:
        """A name bound once in the module, at module level, to a static value, or
        imported from another of the app's modules where it is one."""
        imported = self._import_of(node)
        if imported is not None:
            module, name = imported
            other = self.locate(module) if self.locate is not None else None
            return other.global_value(name, depth + 1) if other is not None else None
        value = self.bound_value(node)
        return self.evaluate(value, app, depth + 1) if value is not None else None

    def global_value(self, name: str, depth: int = 0) -> Static | None:
        """The static value of this module's variable ``name`` (another module asks)."""
        scope = self.syntax.scopes.get(self.syntax.tree)
        if scope is None or depth > _DEPTH:
            return None
        for assignment in scope.assignments[name]:
            node = getattr(assignment, "node", None)
            if isinstance(node, cst.Name):
                return self._constant(node, None, depth)
            if isinstance(node, cst.ImportFrom):  # re-exported: from .base import TOPIC
                imported = self._from_import(node, name)
                other = self.locate(imported[0]) if imported and self.locate else None
                return other.global_value(imported[1], depth + 1) if other and imported else None
        return None

    def _module_attribute(self, owner: cst.Name, name: str, depth: int) -> Static | None:
        """``settings.TOPIC`` after ``import settings`` or ``from shop import settings``
        (one of the app's modules)."""
        assignment = self._single_assignment(owner)
        if not isinstance(assignment, ImportAssignment) or self.locate is None:
            return None
        statement = assignment.node
        if isinstance(statement, cst.ImportFrom):  # from shop import settings
            imported = self._from_import(statement, owner.value)
            other = self.locate(".".join(imported)) if imported is not None else None
            return other.global_value(name, depth + 1) if other is not None else None
        if not isinstance(statement, cst.Import):
            return None
        for alias in statement.names:
            module = alias.evaluated_name
            if (alias.evaluated_alias or module) == owner.value and (
                alias.asname is not None or "." not in module  # `import a.b` binds `a`
            ):
                other = self.locate(module)
                return other.global_value(name, depth + 1) if other is not None else None
        return None

    def _import_of(self, node: cst.Name) -> tuple[str, str] | None:
        """``(module, name)`` when ``node`` was bound by ``from module import name``."""
        assignment = self._single_assignment(node)
        if not isinstance(assignment, ImportAssignment):
            return None
        statement = assignment.node
        if not isinstance(statement, cst.ImportFrom):
            return None
        return self._from_import(statement, node.value)

    def _from_import(self, statement: cst.ImportFrom, bound: str) -> tuple[str, str] | None:
        if isinstance(statement.names, cst.ImportStar):
            return None
        base = self.syntax.code(statement.module) if statement.module is not None else ""
        if statement.relative:
            anchor = self.package.split(".") if self.package else []
            levels = len(statement.relative)
            anchor = anchor[: len(anchor) - (levels - 1)] if levels > 1 else anchor
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in statement.names:
            if (alias.evaluated_alias or alias.evaluated_name) == bound:
                return base, alias.evaluated_name
        return None

    def _single_assignment(self, node: cst.Name) -> object:
        """The one module-level binding ``node`` refers to (None: a local, or none, or
        more than one)."""
        scope = self.syntax.scopes.get(node)
        if scope is None or node.value not in scope:
            return None
        global_scope = self.syntax.scopes.get(self.syntax.tree)
        if global_scope is None or (scope is not global_scope and node.value in scope.assignments):
            return None
        assignments = list(global_scope.assignments[node.value])
        return assignments[0] if len(assignments) == 1 else None

    def bound_value(self, node: cst.Name) -> cst.BaseExpression | None:
        """The expression ``node`` names when it is bound once in the module, at module
        level, by a plain assignment (``ORDERS = 'orders'``); else None."""
        assignment = self._single_assignment(node)
        if not isinstance(assignment, Assignment) or isinstance(assignment, ImportAssignment):
            return None
        target = assignment.node
        statement = self.syntax.parents.get(target)
        if isinstance(statement, cst.AssignTarget):
            statement = self.syntax.parents.get(statement)
        if not isinstance(statement, cst.Assign | cst.AnnAssign) or statement.value is None:
            return None
        line = self.syntax.parents.get(statement)
        if line is None or self.syntax.parents.get(line) is not self.syntax.tree:
            return None  # bound inside an `if`, a loop, a function ...
        return statement.value

    def _f_string(self, node: cst.FormattedString, app: AppDef | None, depth: int) -> Static | None:
        parts: list[str] = []
        found: list[Static] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value.replace("{{", "{").replace("}}", "}"))
                continue
            assert isinstance(part, cst.FormattedStringExpression)
            if part.format_spec is not None or part.conversion not in (None, "s"):
                return None
            value = self.evaluate(part.expression, app, depth + 1)
            if value is None or not isinstance(value.value, str | int):
                return None
            parts.append(str(value.value))
            found.append(value)
        return Static("".join(parts)).with_env(*found)

    def _operation(
        self, node: cst.BinaryOperation, app: AppDef | None, depth: int
    ) -> Static | None:
        left = self.evaluate(node.left, app, depth + 1)
        right = self.evaluate(node.right, app, depth + 1)
        if left is None or right is None:
            return None
        a, b = left.value, right.value
        result: object
        if isinstance(a, str) and isinstance(b, str) and isinstance(node.operator, cst.Add):
            result = a + b
        elif type(a) is int and type(b) is int and type(node.operator) in _INT_OPERATIONS:
            result = _INT_OPERATIONS[type(node.operator)](a, b)
        else:
            return None
        return Static(result).with_env(left, right)

    def _environment(self, node: cst.Call, app: AppDef | None, depth: int) -> Static | None:
        """``os.environ.get('VAR', default)`` / ``os.getenv('VAR', default)``: the
        default, reading ``VAR``."""
        if not self.syntax.qualified(node.func) & ENVIRONMENT_READS:
            return None
        arguments = [arg for arg in node.args if arg.keyword is None and not arg.star]
        keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword}
        if len(arguments) == 2 and not keywords:
            name_node, default_node = arguments[0].value, arguments[1].value
        elif len(arguments) == 1 and set(keywords) == {"default"}:
            name_node, default_node = arguments[0].value, keywords["default"]
        else:
            return None
        name = self.evaluate(name_node, app, depth + 1)
        default = self.evaluate(default_node, app, depth + 1)
        if name is None or not name.fixed or not isinstance(name.value, str) or default is None:
            return None
        return Static(default.value, (name.value,)).with_env(default)

    def _is_app_id(self, node: cst.Attribute, app: AppDef) -> bool:
        """``app.id`` or ``app.conf.id`` (any of the App's names)."""
        if node.attr.value != "id":
            return False
        owner = node.value
        if isinstance(owner, cst.Attribute) and owner.attr.value == "conf":
            owner = owner.value
        return isinstance(owner, cst.Name) and owner.value in app.names
