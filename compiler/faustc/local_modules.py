"""The app's own modules: the app module, the packages it lives in, and every module under
its import root that it imports, transitively (found with ``ast``, not imported).

``faustc build --pyz`` packs them (``faustc.package``); the build looks in them for agents
it does not compile (``faustc.discovery``). Example::

    app_modules(Path("src/shop/app.py"), "shop.app", Path("src"))
    # {('shop/__init__.py', ...), ('shop/app.py', ...), ('shop/agents.py', ...)}
"""

from __future__ import annotations

import ast
from pathlib import Path

from faustc.diagnostics import CompileError
from faustc.source import decode_source


def app_modules(path: Path, module: str, root: Path) -> set[tuple[str, Path]]:
    """``(archive name, file)`` of the app module and the local modules it needs."""
    root = root.resolve()
    found: dict[str, Path] = {}
    pending = [(module, path.resolve())]
    while pending:
        name, file = pending.pop()
        if name in found:
            continue
        found[name] = file
        for package in _parents(name):
            init = module_file(root, package)
            if init is not None and package not in found:
                pending.append((package, init))
        for imported in _imports(file, name):
            local = module_file(root, imported)
            if local is not None:
                pending.append((imported, local))
    return {(file.relative_to(root).as_posix(), file) for file in found.values()}


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def module_file(root: Path, name: str) -> Path | None:
    """The file of module ``name`` under ``root`` (a module or a package), if any."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def _imports(file: Path, name: str) -> set[str]:
    """Every module name ``file`` (module ``name``) may import, with its parents."""
    try:
        text, _ = decode_source(file, file.read_bytes())
        tree = ast.parse(text, str(file))
    except (CompileError, SyntaxError, ValueError, RecursionError, MemoryError, OSError):
        return set()  # a module Python cannot read imports nothing
    is_package = file.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, *([base] if base else [])])
            if base:
                names.add(base)
            names.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    expanded = set(names)
    for imported in names:
        expanded.update(_parents(imported))
    return expanded
