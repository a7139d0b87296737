"""Options and arguments of commands, as Faust spells them (``faust.cli.option``).

``option`` and ``argument`` take click's parameters (they are click's, with Faust's one
change: options show their default in ``--help``). A custom command lists them in
``@app.command(...)``; the built-in commands list theirs the same way. Example::

    @app.command(option("--count", type=int, default=1), argument("name"))
    async def greet(self: AppCommand, name: str, count: int) -> None:
        self.say(f"hello {name}" * count)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

#: a function with click parameters attached (what option/argument decorate)
Decorated = Callable[..., Any]

#: the log levels ``-l/--loglevel`` takes, in any case (Faust's names and Python's)
LOG_LEVELS = {
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "crit": "CRITICAL",
    "critical": "CRITICAL",
}


class argument:
    """A positional argument (``click.argument``'s parameters)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __call__(self, fun: Decorated) -> Decorated:
        decorated: Decorated = click.argument(*self.args, **self.kwargs)(fun)
        return decorated

    def __repr__(self) -> str:
        return f"argument{_call_text(self.args, self.kwargs)}"


class option:
    """An option (``click.option``'s parameters; the default shows in ``--help``)."""

    def __init__(self, *args: Any, show_default: bool = True, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = {"show_default": show_default, **kwargs}

    def __call__(self, fun: Decorated) -> Decorated:
        decorated: Decorated = click.option(*self.args, **self.kwargs)(fun)
        return decorated

    def __repr__(self) -> str:
        return f"option{_call_text(self.args, self.kwargs)}"


def _call_text(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"({', '.join(parts)})"


def log_level(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``-l`` in any case, as Python's level name (``warn`` -> ``WARNING``)."""
    return None if value is None else LOG_LEVELS[value.lower()]


#: the type of ``-l/--loglevel`` (with ``callback=log_level``)
LOG_LEVEL_CHOICE = click.Choice(list(LOG_LEVELS), case_sensitive=False)


def apply(options: list[Any], fun: Decorated) -> Decorated:
    """Attach ``options`` to ``fun`` so that they show in ``--help`` in the order given."""
    for decorator in reversed(options):
        fun = decorator(fun)
    return fun
