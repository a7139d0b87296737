"""The ``worker`` command: run the app's agents against its broker until a signal.

Usage::

    python app.py worker --broker kafka://127.0.0.1:9092 -l INFO --datadir /var/lib/app
    python build/app_worker.py worker --json --logfile worker.log

Its options are :data:`WORKER_OPTIONS`; :func:`apply_worker_options` writes them into the
app's settings (a flag beats the environment and the App's keywords). The log options
(``-l``, ``--logfile``, ``--json``, ``--datadir``) are also accepted before the command, as
Faust accepts them; given in both places, the one after ``worker`` wins.
"""

from __future__ import annotations

from typing import Any

from faust.cli.base import AppCommand
from faust.cli.logs import setup_logging
from faust.cli.params import LOG_LEVEL_CHOICE, log_level, option
from faust.worker.cli import run_worker

#: the worker's log level unless -l says otherwise (Faust's is WARN: see README)
DEFAULT_LOGLEVEL = "INFO"

#: the worker's own options (``--help`` order)
WORKER_OPTIONS: list[Any] = [
    option("-b", "--broker", help="Kafka URL, e.g. kafka://127.0.0.1:9092"),
    option(
        "-l",
        "--loglevel",
        type=LOG_LEVEL_CHOICE,
        callback=log_level,
        default=None,
        show_default=False,
        help="Logging level: debug, info, warn, error, crit (any case). [default: info]",
    ),
    option("-f", "--logfile", default=None, help="Write the log to this file (default: stderr)."),
    option("--json", "json_logs", is_flag=True, default=False, help="Log one JSON object a line."),
    option(
        "-D",
        "--datadir",
        default=None,
        help="this worker's state: RocksDB tables, its lock and id (default: <app id>-data); "
        "give each worker process its own",
    ),
    option(
        "--web-port",
        type=int,
        default=None,
        help="port of the web server (default 6066; 0: any free port)",
    ),
    option("--web-host", default=None, help="host name the web server is reached by"),
    option("--web-bind", default=None, help="interface the web server listens on (0.0.0.0)"),
    option(
        "--with-web/--without-web",
        "web_enabled",
        default=None,
        help="serve the web server (pages, /health, /ready, /metrics) or not",
    ),
]


def apply_worker_options(command: AppCommand, options: dict[str, Any]) -> None:
    """Write the worker's options into the app's settings."""
    conf = command.app.conf
    if options.get("broker"):
        conf.broker = options["broker"]
    datadir = options.get("datadir") or command.datadir
    if datadir:
        conf.datadir = datadir
    if options.get("web_port") is not None:
        conf.web_port = options["web_port"]
        conf.validate()
    if options.get("web_host"):
        conf.web_host = options["web_host"]
    if options.get("web_bind"):
        conf.web_bind = options["web_bind"]
    if options.get("web_enabled") is not None:
        conf.web_enabled = options["web_enabled"]


class worker(AppCommand):
    """Start worker instance for given app."""

    options = WORKER_OPTIONS

    def run(self, **options: Any) -> int:
        setup_logging(
            options.get("loglevel") or self.loglevel or DEFAULT_LOGLEVEL,
            logfile=options.get("logfile") or self.logfile,
            json=bool(options.get("json_logs")) or self.json,
        )
        apply_worker_options(self, options)
        return run_worker(
            self.app, self.state.compiled_agents or None, built_from=self.state.built_from
        )
