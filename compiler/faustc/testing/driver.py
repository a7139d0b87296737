"""TestDriver: a user's app built like ``faustc build`` and run on the in-memory broker.

A :class:`TestDriver` is a :class:`faust.testing.AppDriver` (send, run, records, tables,
dead letters, time by hand) whose worker is the *built* one: the generated module ``faustc
build`` writes, with its fused agents and generated codecs. ``compiled=False`` runs the
app's own agents on the reference runtime behind the same API, so a test can check that
both agree. Example::

    with TestDriver("shop/app.py") as driver:
        driver.send("orders", key="acct-1", value=Order("o1", "acct-1", 1500.0))
        driver.run()
        compiled = driver.records("big-orders")
    with TestDriver("shop/app.py", compiled=False) as driver:
        ...                                       # the same records, the reference way

Builds are cached, so a test suite builds each app once: in this process, and on disk (a
directory under the system's temporary directory, per user) by the app's path and text,
the compiler (its version and its own source) and the options, so the next run of the
suite does not build (nor type-check) again. The app module the worker imports is the one
the test imports (by the name faustc gives it: ``shop.app`` for ``shop/app.py`` in a
package).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from faust.app import App
from faust.testing import AppDriver
from faust.testing.driver import DEFAULT_TIMEOUT
from faustc import __version__
from faustc.build import build_worker
from faustc.diagnostics import CompileError
from faustc.source import SourceFile

#: built worker modules of this process, by (app file, build key)
_workers: dict[tuple[Path, str], ModuleType] = {}


class TestDriver(AppDriver):
    """The app in ``app_file``, built and driven (see the module docstring).

    ``compiled``: run the built worker (True) or the app's own agents (False).
    ``typecheck``: run mypy as ``faustc build`` does (its findings fail the build).
    ``store``: the tables' store (``memory://``, or ``rocksdb://`` in a temporary data
    directory). ``start_time``: the clock's time at the start (default: now).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app_file: str | os.PathLike[str],
        *,
        compiled: bool = True,
        typecheck: bool = True,
        store: str | None = "memory://",
        start_time: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        path = Path(app_file)
        source = SourceFile.load(path)
        agents: dict[str, Any] | None = None
        if compiled:
            agents = build_for_test(path, typecheck=typecheck).COMPILED_AGENTS
        #: the app file, as given, and its module (the one the built worker imports)
        self.app_file = path
        self.app_module = import_app_module(source)
        app = find_app(self.app_module)
        super().__init__(
            app, compiled_agents=agents, store=store, start_time=start_time, timeout=timeout
        )


def build_for_test(path: Path, *, typecheck: bool = True) -> ModuleType:
    """The built worker module of the app at ``path``, built once (module docstring).

    Raises CompileError with faustc's diagnostics when the app does not build.
    """
    source = SourceFile.load(path)
    key = _build_key(source, typecheck)
    found = _workers.get((source.path.resolve(), key))
    if found is not None:
        return found
    worker_path = _cached_build(source, key, typecheck)
    import_app_module(source)  # the test's module object, whatever it imported it as
    name = f"faustc_test_worker_{source.stem}_{key[:12]}"
    spec = importlib.util.spec_from_file_location(name, worker_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _workers[(source.path.resolve(), key)] = module
    return module


def import_app_module(source: SourceFile) -> ModuleType:
    """The app module, imported by the name a built worker imports it by (found by
    walking up the packages' ``__init__.py`` files), so the test and the worker share one
    App, its Records and its tables. Raises ImportError when the test already imported
    the file under another name: agents are named after their module, so the built
    worker's agents would not be the app's."""
    wanted = source.path.resolve()
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if name != source.module and filename and Path(filename).resolve() == wanted:
            raise ImportError(
                f"{source.path} is imported as {name!r}, but faustc builds it as module "
                f"{source.module!r} and names its agents after that: import it as "
                f"{source.module!r} ({source.import_root} on sys.path)"
            )
    root = str(source.import_root)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module(source.module)


def find_app(module: ModuleType) -> App:
    """The one ``faust.App`` the module declares."""
    apps = {id(v): v for v in vars(module).values() if isinstance(v, App)}
    if len(apps) != 1:
        raise ValueError(
            f"{module.__name__}: expected one faust.App at module level, found {len(apps)}"
        )
    return next(iter(apps.values()))


def _build_key(source: SourceFile, typecheck: bool) -> str:
    text = "\0".join(
        [_compiler_fingerprint(), str(source.path.resolve()), source.text, f"{typecheck=}"]
    )
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _compiler_fingerprint() -> str:
    """faustc's version and the hash of its own source: a changed compiler (a development
    checkout, an upgrade that kept the version) never reuses an old build."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_root() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"faustc-test-builds-{uid}"


def _cached_build(source: SourceFile, key: str, typecheck: bool) -> Path:
    """The worker file for ``key``: built before (by this or an earlier test run), or now.

    A build goes into a fresh directory that is then renamed into place, so a concurrent
    test process never sees half of one; the two directories are siblings, so the
    worker's path back to the app (relative) stays right.
    """
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    final = root / key
    worker = final / f"{source.stem}_worker.py"
    if worker.exists():
        return worker
    scratch = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=root))
    try:
        try:
            build_worker(source.path, scratch, typecheck=typecheck)
        except CompileError as exc:
            raise BuildFailed(source, exc) from None
        try:
            scratch.rename(final)
        except OSError:  # another process built it first
            if not worker.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return worker


class BuildFailed(Exception):
    """The app does not build; the message is faustc's diagnostics, as ``faustc build``
    prints them."""

    def __init__(self, source: SourceFile, error: CompileError) -> None:
        lines = source.lines
        text = "\n".join(diagnostic.render(lines) for diagnostic in error.diagnostics)
        super().__init__(f"{source.path} does not build:\n{text}")
        self.diagnostics = error.diagnostics
