"""What the readers of one module share: the tree and its metadata, the declarations found
so far, the diagnostics, and small helpers (spans, source text, names, App calls).

The driver (``faustc.front.reader``) makes one per module and hands it to the reader of
each kind of statement. Example::

    context = ModuleContext(source, MetadataWrapper(cst.parse_module(source.text)))
    context.span(node)              # Span('app.py', 12, 5, 12, 20)
    context.qualified(node)         # {'faust.App'}
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper

from faustc.diagnostics import Diagnostic
from faustc.front.constants import Static, Statics
from faustc.front.ir import (
    AgentDef,
    AppDef,
    EnumDef,
    RecordDef,
    Span,
    TableDef,
    TaskDef,
    TimerDef,
    TopicDef,
)
from faustc.front.syntax import SyntaxTree
from faustc.local_modules import module_file
from faustc.source import SourceFile


class ModuleContext:
    """The shared state of reading one module (see the module docstring)."""

    """What the readers of one module share: the tree and its metadata, the declarations
    found so far, the diagnostics, and small helpers (spans, source text, names)."""

    def __init__(self, source: SourceFile, wrapper: MetadataWrapper) -> None:
        self.source = source
        self.syntax = SyntaxTree(wrapper)
        module = source.module
        package = module if source.path.name == "__init__.py" else module.rpartition(".")[0]
        self.statics = Statics(self.syntax, self._local_statics, package)
        self._locals: dict[str, Statics | None] = {}
        self.tree = self.syntax.tree
        self.positions = self.syntax.positions
        self.scopes = self.syntax.scopes
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

    # -- helpers ---------------------------------------------------------------------------

    def _local_statics(self, module: str) -> Statics | None:
        """The evaluator of another of the app's modules (``settings`` of ``from settings
        import TOPIC``), read once; None when it is not one of them."""
        if module in self._locals:
            return self._locals[module]
        self._locals[module] = None  # a cycle of imports finds nothing
        file = module_file(self.source.import_root, module) if self.source.importable else None
        if file is None or file == self.source.path.resolve():
            return None
        try:
            tree = cst.parse_module(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
            return None
        package = module if file.name == "__init__.py" else module.rpartition(".")[0]
        found = Statics(SyntaxTree(MetadataWrapper(tree)), self._local_statics, package)
        self._locals[module] = found
        return found

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

    def warning(self, code: str, message: str, node: cst.CSTNode) -> None:
        """A diagnostic that does not stop the build (kept with the errors, in order)."""
        self.errors.append(Diagnostic(code, message, self.span(node), "warning"))

    def code(self, node: cst.CSTNode) -> str:
        return self.syntax.code(node)

    def qualified(self, node: cst.CSTNode) -> set[str]:
        """The qualified names ``node`` may refer to (``{"faust.App"}`` for ``App``)."""
        return self.syntax.qualified(node)

    def _module_level_names(self) -> set[str]:
        scope = self.scopes.get(self.tree)
        if scope is None:
            return set()
        return {assignment.name for assignment in scope.assignments}

    def string(self, node: cst.BaseExpression) -> str | None:
        """The value of a string literal (None: not one)."""
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            return value if isinstance(value, str) else None
        return None

    def static(self, node: cst.BaseExpression) -> Static | None:
        """``node``'s value when the compiler can know it (``faustc.front.constants``)."""
        return self.statics.evaluate(node, self.app)

    def static_string(self, node: cst.BaseExpression) -> Static | None:
        """A static str (a name), its environment variables included."""
        found = self.static(node)
        return found if found is not None and isinstance(found.value, str) else None

    def fixed_string(self, node: cst.BaseExpression) -> str | None:
        """A str the same in every environment (None: not static, or read from one)."""
        found = self.static(node)
        if found is None or not found.fixed:
            return None
        return found.value if isinstance(found.value, str) else None

    def fixed_int(self, node: cst.BaseExpression) -> int | None:
        """An int the same in every environment (None: not one)."""
        found = self.static(node)
        if found is None or not found.fixed or type(found.value) is not int:
            return None
        return found.value

    def is_app_method(self, call: cst.Call, method: str) -> bool:
        """Is ``call`` ``<app>.<method>(...)`` on this module's App?"""
        func = call.func
        return (
            self.app is not None
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in self.app.names
            and func.attr.value == method
        )

    def is_app_attribute(self, node: cst.BaseExpression, name: str) -> bool:
        """Is ``node`` ``<app>.<name>`` on this module's App?"""
        return (
            self.app is not None
            and isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value in self.app.names
            and node.attr.value == name
        )

    @staticmethod
    def keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
        """The value of ``call``'s keyword argument ``name`` (None: not given)."""
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        return None
