"""Finding and importing the app module of a built worker, wherever the build was moved.

A built worker replaces the agents of the user's module, so it imports that module first.
The build directory may have been copied into an image at another path or depth, or packed
into a zipapp with the app's modules (``faustc build --pyz``). The generated worker calls::

    app_module = load_app_module(__file__, "shop.orders", "../src")

and the module is looked for, in this order:

1. inside the zipapp, when the worker runs from one (the modules travel with it);
2. where it was at build time, relative to the worker (``../src`` above);
3. wherever ``sys.path`` already finds it (next to the worker, ``PYTHONPATH``, installed);
4. in the worker's directory and each directory above it.

A module found nowhere, or an App whose settings are wrong, is one line on stderr and exit
status 1, as any configuration error of a worker.

An app file whose name is no module name (``log-relay.py``, ``exercise6.4.py``: Python runs
them as scripts) cannot be imported; it is found by the same rules as ``<name>.py`` and
loaded from its path under its name (``"log-relay"``), the name its agents carry when it
runs as ``python log-relay.py worker`` (``faust.models.record.canonical_module_name``)::

    app_module = load_app_module(__file__, "log-relay", "../apps")
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

from faust.contract import importable
from faust.exceptions import ImproperlyConfigured


def load_app_module(worker_file: str, module: str, import_root: str) -> ModuleType:
    """Import ``module`` (dotted) for the worker at ``worker_file``, or load it from its
    file when its name is no module name (see module docstring)."""
    try:
        if not importable(module):
            return _load_by_path(Path(worker_file), module, import_root)
        root = find_import_root(Path(worker_file), module, import_root)
        if root is not None and root not in sys.path:
            sys.path.insert(0, root)
        return importlib.import_module(module)
    except ImproperlyConfigured as exc:  # the app's settings (App(...), FAUST_* variables)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _load_by_path(worker: Path, module: str, import_root: str) -> ModuleType:
    """Load the script ``<module>.py``, found as :func:`find_import_root` finds modules
    (inside the zipapp first), under the name ``module``, once."""
    if module in sys.modules:
        return sys.modules[module]
    file, archived = _find_script(worker, module, import_root)
    source = file.read_bytes() if archived is None else archived
    loaded = ModuleType(module)
    loaded.__file__ = str(file)  # tracebacks and linecache read the file (or the member)
    code = compile(source, str(file), "exec")
    sys.modules[module] = loaded
    try:
        exec(code, loaded.__dict__)
    except BaseException:
        del sys.modules[module]
        raise
    return loaded


def _find_script(worker: Path, module: str, import_root: str) -> tuple[Path, bytes | None]:
    """The file ``<module>.py`` (with its bytes when it lives in the zipapp)."""
    here = worker.resolve().parent
    built_at = (here / import_root).resolve()
    if _inside_archive(worker):
        for entry in sys.path:
            if entry and zipfile.is_zipfile(entry):
                member = Path(entry) / f"{module}.py"
                try:
                    return member, read_source(str(member))
                except (FileNotFoundError, KeyError):
                    continue
    for directory in (built_at, *map(Path, sys.path), here, *here.parents):
        file = directory / f"{module}.py"
        if file.is_file():
            return file, None
    raise ImproperlyConfigured(
        f"cannot find the app file {module}.py of this worker: not at its build place "
        f"({built_at}), not on sys.path, not in {here} or a directory above it; copy it "
        "next to the worker (or above it)"
    )


def find_import_root(worker: Path, module: str, import_root: str) -> str | None:
    """The ``sys.path`` entry that makes ``module`` importable for ``worker``; None when no
    entry needs adding. Raises ImproperlyConfigured when the module is nowhere."""
    relative = Path(*module.split("."))
    if _inside_archive(worker):
        return None
    here = worker.resolve().parent
    built_at = (here / import_root).resolve()
    if _holds(built_at, relative):
        return str(built_at)
    top = module.split(".")[0]
    if importlib.machinery.PathFinder.find_spec(top, sys.path) is not None:
        return None
    for directory in (here, *here.parents):
        if _holds(directory, relative):
            return str(directory)
    source = f"{relative}.py"
    raise ImproperlyConfigured(
        f"cannot find the app module {module!r} ({source}) of this worker: not at its build "
        f"place ({built_at}), not on sys.path, not in {here} or a directory above it; copy "
        "the app's modules next to the worker (or above it), or set PYTHONPATH"
    )


def _holds(directory: Path, relative: Path) -> bool:
    target = directory / relative
    return target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()


def _inside_archive(path: Path) -> bool:
    """Whether ``path`` names a member of a zip archive (a zipapp)."""
    for parent in path.parents:
        if parent.is_file():
            return zipfile.is_zipfile(parent)
    return False


def read_source(path: str) -> bytes:
    """The bytes of a module's source file, also when it lives inside a zipapp."""
    file = Path(path)
    if file.is_file():
        return file.read_bytes()
    for archive in file.parents:
        if archive.is_file() and zipfile.is_zipfile(archive):
            member = file.relative_to(archive).as_posix()
            with zipfile.ZipFile(archive) as bundle:
                return bundle.read(member)
    raise FileNotFoundError(path)
