"""The command line of an app: ``python app.py <command>``, and every built worker.

``run_cli(app)`` parses the arguments with click, runs the command and exits. The
commands: ``worker`` (``faust.cli.worker``), the built-in ones (``faust.cli.commands``:
``send``, ``agents``, ``tables``, ``models``, ``model``, ``reset``), and the app's own
(``@app.command()``, which win over a built-in of the same name). Options before the
command, as in Faust: ``--json``, ``-l/--loglevel``, ``-f/--logfile``, ``-D/--datadir``,
``-W/--workdir``, ``-q/--quiet``, ``--debug``, ``-b/--broker``, ``--version``. Example::

    python app.py --json agents
    python app.py worker -l INFO
    python app.py greet --count 2 Ada          # an @app.command()

Errors are one line on stderr: a usage error (an unknown option, a bad value, a missing
argument) exits 2, as click and Faust do; an error of the settings, the broker or the
command's work exits 1.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from faust.cli.base import Command, State, execute
from faust.cli.commands import COMMANDS
from faust.cli.logs import setup_logging
from faust.cli.params import LOG_LEVEL_CHOICE, apply, log_level, option
from faust.cli.worker import worker
from faust.exceptions import (
    BrokerUnavailable,
    DeliveryError,
    FaustError,
    ImproperlyConfigured,
    NotAuthorized,
    TransactionFailed,
)

if TYPE_CHECKING:
    from faust.agents import AgentFun
    from faust.app import App

#: what a command other than ``worker`` logs unless -l says otherwise (Faust's default)
COMMAND_LOGLEVEL = "WARNING"

#: the options before the command
GLOBAL_OPTIONS: list[Any] = [
    option("--json", is_flag=True, default=False, help="Machine-readable (JSON) output."),
    option("-l", "--loglevel", type=LOG_LEVEL_CHOICE, callback=log_level, default=None,
           show_default=False, help="Logging level: debug, info, warn, error, crit (any case)."),
    option("-f", "--logfile", default=None, help="Path to logfile (default is <stderr>)."),
    option("-D", "--datadir", default=None, help="Directory to keep application state."),
    option("-W", "--workdir", default=None, help="Working directory to change to first."),
    option("-q", "--quiet/--no-quiet", default=False, show_default=False,
           help="Silence output to stdout/stderr."),
    option("--debug/--no-debug", default=False, show_default=False,
           help="Enable debugging output."),
    option("-b", "--broker", default=None, help="Kafka URL, e.g. kafka://127.0.0.1:9092"),
]  # fmt: skip

#: what click (8.2 and later) raises for a group called without a command
NO_ARGS_IS_HELP: tuple[type[click.UsageError], ...] = tuple(
    error
    for error in [getattr(click.exceptions, "NoArgsIsHelpError", None)]
    if isinstance(error, type) and issubclass(error, click.UsageError)
)

#: errors of the settings, the broker or the work: one line, exit 1
ONE_LINE_ERRORS = (
    BrokerUnavailable,
    ImproperlyConfigured,
    DeliveryError,
    TransactionFailed,
    NotAuthorized,
    FaustError,
)


def make_cli(
    app: App,
    *,
    compiled_agents: Mapping[str, AgentFun] | None = None,
    built_from: tuple[str | None, str] | None = None,
) -> click.Group:
    """The click group of ``app``'s commands."""

    def prepare(ctx: click.Context, **options: Any) -> None:
        state = State(
            app,
            quiet=options["quiet"],
            debug=options["debug"],
            json=options["json"],
            datadir=options["datadir"],
            workdir=options["workdir"],
            loglevel=options["loglevel"],
            logfile=options["logfile"],
            prog_name=ctx.find_root().info_name or "",
            built_from=built_from,
            compiled_agents=dict(compiled_agents or {}),
        )
        ctx.obj = state
        if options["workdir"]:
            os.chdir(Path(options["workdir"]).absolute())
        if options["broker"]:
            app.conf.broker = options["broker"]
        if options["datadir"]:
            app.conf.datadir = options["datadir"]

    group = click.Group(
        name=None,
        callback=click.pass_context(prepare),
        help=f"Commands of the Faust app {app.id!r}.",
        params=_params(GLOBAL_OPTIONS),
    )
    click.version_option(package_name="faustc", message="faustc %(version)s")(group)
    for command in (worker, *COMMANDS, *getattr(app, "commands", ())):
        group.add_command(as_click_command(command))
    return group


def as_click_command(command: type[Command]) -> click.Command:
    """``command`` as a click command named after its class (``_`` becomes ``-``)."""

    def callback(**kwargs: Any) -> Any:
        state = click.get_current_context().find_object(State)
        assert state is not None
        if command is not worker:
            setup_logging(state.loglevel or COMMAND_LOGLEVEL, logfile=state.logfile)
        return execute(command(state), kwargs)

    name = command.__name__.replace("_", "-")
    doc = (command.__doc__ or "").strip()
    return click.Command(
        name,
        callback=callback,
        params=_params(list(command.options or [])),
        help=doc,
        short_help=doc.splitlines()[0] if doc else None,
    )


def _params(options: list[Any]) -> list[click.Parameter]:
    """The click parameters that ``options`` (option/argument decorators) attach."""

    def target() -> None: ...

    decorated = apply(options, target)
    params: list[click.Parameter] = list(reversed(getattr(decorated, "__click_params__", [])))
    return params


def run_cli(
    app: App,
    compiled_agents: Mapping[str, AgentFun] | None = None,
    argv: list[str] | None = None,
    *,
    built_from: tuple[str | None, str] | None = None,
) -> NoReturn:
    """Run the command ``argv`` names (default: ``sys.argv[1:]``) and exit with its status."""
    group = make_cli(app, compiled_agents=compiled_agents, built_from=built_from)
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else app.id
    try:
        status = group.main(args=argv, prog_name=prog, standalone_mode=False)
    except NO_ARGS_IS_HELP as exc:  # no command: the help, as click prints it
        print(exc.format_message(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else prog
        print(f"{command}: error: {exc.format_message()} (see --help)", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        print(f"{prog}: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.Abort:
        print(f"{prog}: aborted", file=sys.stderr)
        sys.exit(1)
    except ONE_LINE_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        logging.shutdown()
    sys.exit(status if isinstance(status, int) else 0)
