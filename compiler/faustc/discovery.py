"""The agents a build does not compile, found so that the build can say so: never a worker
that silently runs its agents uncompiled.

faustc fuses the agents the app module declares with ``@app.agent`` on a module-level
``async def``. Other agents of the app still run, uncompiled (the worker imports the app
module, which registers them): those registered inside a function or by a call
(``app.agent(topic)(fun)``), those of the app's other modules that the app module imports
(``from billing import agents``), and those of the packages ``autodiscover`` scans. Each
is a warning (FC115) at the line that registers it. Example::

    # billing/agents.py:  @app.agent(invoices_topic)  async def remind(invoices): ...
    uncompiled_agents(module, source)
    # [Diagnostic('FC115', "agent 'remind' is registered in billing/agents.py ...", ...)]

Other modules are read with ``ast`` (they are not compiled): an agent there is a call
``X.agent(...)`` (a decorator or not) on a name ``X`` imported from the app module that
is one of the App's names.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import libcst as cst

from faust.contract import scanned
from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.ir import AppModule, Span
from faustc.front.syntax import SyntaxTree
from faustc.local_modules import app_modules, module_file
from faustc.source import SourceFile, decode_source


def uncompiled_agents(module: AppModule, source: SourceFile) -> list[Diagnostic]:
    """A warning (FC115) for every agent of the app this build does not compile."""
    found = list(_in_functions(module)) if module.syntax is not None else []
    if source.importable:
        found += _in_other_modules(module, source)
    return found


def _in_functions(module: AppModule) -> Iterator[Diagnostic]:
    """``app.agent(...)`` calls of the app module other than the decorator of a
    module-level function (those are the agents the build compiles)."""
    syntax = module.syntax
    assert syntax is not None
    app_names = set(module.app.names)
    compiled = {
        id(decorator.decorator)
        for statement in syntax.tree.body
        if isinstance(statement, cst.FunctionDef)
        for decorator in statement.decorators
    }

    class Calls(cst.CSTVisitor):
        def __init__(self) -> None:
            self.calls: list[cst.Call] = []

        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.value.value in app_names
                and func.attr.value == "agent"
                and id(node) not in compiled
            ):
                self.calls.append(node)

    calls = Calls()
    syntax.tree.visit(calls)
    for call in calls.calls:
        name, where = _registered(syntax, call)
        position = syntax.positions[call]
        span = Span(
            module.source_path,
            position.start.line,
            position.start.column + 1,
            position.end.line,
            position.end.column + 1,
        )
        yield Diagnostic(
            "FC115",
            f"agent {name} is registered {where}, not by @{module.app.var}.agent on a "
            "module-level `async def`: it runs uncompiled",
            span,
            "warning",
        )


def _registered(syntax: SyntaxTree, call: cst.Call) -> tuple[str, str]:
    """How the agent ``call`` registers is named (``'mirror'``), and where it is
    registered (``inside make_mirror()``, ``by a call``)."""
    parent = syntax.parents.get(call)
    name = "?"
    if isinstance(parent, cst.Decorator):
        function = syntax.parents.get(parent)
        if isinstance(function, cst.FunctionDef):
            name = function.name.value
    elif isinstance(parent, cst.Call) and parent.func is call and parent.args:
        argument = parent.args[0].value  # app.agent(topic)(fun)
        if isinstance(argument, cst.Name):
            name = argument.value
    where = "by a call"
    node: cst.CSTNode | None = parent
    while node is not None:
        if isinstance(node, cst.FunctionDef) and not (
            isinstance(parent, cst.Decorator) and syntax.parents.get(parent) is node
        ):
            where = f"inside {node.name.value}()"
            break
        node = syntax.parents.get(node)
    return f"{name!r}", where


def _in_other_modules(module: AppModule, source: SourceFile) -> list[Diagnostic]:
    """Agents registered on this App in the local modules the app module imports, and in
    the packages ``autodiscover`` scans."""
    root = source.import_root.resolve()
    files = {
        file
        for _, file in app_modules(source.path, source.module, source.import_root)
        if file != source.path.resolve()
    }
    discovered: set[Path] = set()
    for package in module.app.discover:
        init = module_file(root, package)
        if init is None:
            continue
        directory = init.parent if init.name == "__init__.py" else None
        discovered |= set(directory.rglob("*.py")) if directory is not None else {init}
    found: list[Diagnostic] = []
    for file in sorted(files | (discovered - {source.path.resolve()})):
        name = ".".join(file.relative_to(root).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        if file not in files and not scanned(name):
            continue  # the worker's discovery does not import it either
        how = "found by autodiscover" if file in discovered - files else "imported by the app"
        for span, agent in _agents_in(file, name, module, source):
            found.append(
                Diagnostic(
                    "FC115",
                    f"agent {agent!r} is registered in {span.file} ({how}), not in "
                    f"{source.display_name}, the module faustc builds: it runs uncompiled",
                    span,
                    "warning",
                )
            )
    return found


def _agents_in(
    file: Path, name: str, module: AppModule, source: SourceFile
) -> Iterator[tuple[Span, str]]:
    """Where each agent ``file`` (module ``name``) registers on the app of ``module`` is
    registered (its decorator), and its name."""
    try:
        text, _ = decode_source(file, file.read_bytes())
        tree = ast.parse(text, str(file))
    except (CompileError, SyntaxError, ValueError, RecursionError, MemoryError, OSError):
        return  # a module Python cannot read registers no agent
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    app_names: set[str] = set()  # names bound to the App here
    modules: set[str] = set()  # names bound to the app module here
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:
                if base == source.module and alias.name in module.app.names:
                    app_names.add(alias.asname or alias.name)
                elif f"{base}.{alias.name}" == source.module:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == source.module and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _is_agent(decorator, app_names, modules):
                line, column = decorator.lineno, decorator.col_offset + 1
                end_line = decorator.end_lineno or line
                end_column = (decorator.end_col_offset or column) + 1
                yield Span(_display(file), line, column, end_line, end_column), node.name


def _is_agent(call: ast.Call, app_names: set[str], modules: set[str]) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr != "agent":
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        return owner.id in app_names
    return (
        isinstance(owner, ast.Attribute)
        and isinstance(owner.value, ast.Name)
        and owner.value.id in modules
    )


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an ``ImportFrom`` imports from, relative imports resolved."""
    base = node.module or ""
    if not node.level:
        return base
    anchor = package.split(".") if package else []
    anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
    return ".".join([*anchor, *([base] if base else [])])


def _display(file: Path) -> str:
    """``file`` as diagnostics print it: relative to the working directory when below it."""
    relative = os.path.relpath(file)
    return file.as_posix() if relative.startswith("..") else relative
