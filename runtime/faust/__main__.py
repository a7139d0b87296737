"""``python -m faust -A MODULE[:APP] COMMAND ...``: Faust's ``faust -A`` start-up, for app
modules that never call ``app.main()``.

The module is imported by name (the current directory first on ``sys.path``, as Faust's
``-A`` does), its App found (``MODULE:APP``, or the module's ``app``, or ``MODULE.APP``),
and the rest of the command line is that App's (``worker``, ``send``, ``agents`` ...: see
``faust.cli.main``). It is ``python -m faust`` rather than a ``faust`` script so that it
never stands in for faust-streaming's. Example::

    python -m faust -A wordcount worker -l INFO --broker kafka://127.0.0.1:9092
    python -m faust --app shop.app:app agents
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn

from faust.app import App

USAGE = "usage: python -m faust -A MODULE[:APP] COMMAND [OPTIONS ...]"


def split_app_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """The value of ``-A``/``--app`` (wherever it is before the command's own arguments)
    and the arguments without it."""
    rest: list[str] = []
    found: str | None = None
    args = iter(argv)
    for arg in args:
        if found is None and arg in ("-A", "--app"):
            found = next(args, "")
        elif found is None and arg.startswith("--app="):
            found = arg.split("=", 1)[1]
        elif found is None and arg.startswith("-A") and len(arg) > 2:
            found = arg[2:]
        else:
            rest.append(arg)
    return found, rest


def find_app(spec: str) -> App:
    """The App ``spec`` names (``module:attribute``, ``module`` with an ``app``, or
    ``module.attribute``); ``ImportError``/``LookupError`` with what was looked for."""
    if spec.endswith(".py"):  # a file: imported by its stem, from its folder
        path = Path(spec).resolve()
        sys.path.insert(0, str(path.parent))
        spec = path.stem
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        head, _, tail = module_name.rpartition(".")
        if attribute or not head or exc.name != module_name:
            raise
        module, attribute = importlib.import_module(head), tail
    found = getattr(module, attribute or "app", None)
    if not isinstance(found, App):
        what = f"{module.__name__}:{attribute or 'app'}"
        raise LookupError(f"{what} is not a faust.App (give -A MODULE:ATTRIBUTE)")
    return found


def main(argv: list[str] | None = None) -> NoReturn:
    spec, rest = split_app_option(list(sys.argv[1:] if argv is None else argv))
    if not spec:
        print(f"{USAGE}\nerror: -A/--app names the module of the app", file=sys.stderr)
        sys.exit(2)
    sys.path.insert(0, os.getcwd())
    try:
        app = find_app(spec)
    except (ImportError, LookupError) as exc:
        print(f"error: -A {spec}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.argv[0] = f"python -m faust -A {spec}"
    app.main(rest)


if __name__ == "__main__":
    main()
