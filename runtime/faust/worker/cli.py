"""Running a worker in this process until a signal, for the ``worker`` command.

``run_worker_cli(app, ...)`` is the whole command line of an app (``faust.cli``: ``worker``,
``send``, ``agents`` ...), kept here under the name built workers call. Example::

    status = run_worker(app, compiled_agents)   # until SIGINT/SIGTERM

SIGINT and SIGTERM stop the worker cleanly: it finishes the batch in hand, flushes, commits
and exits 0. A broker that cannot be reached, or a configuration error, is one line on
stderr and exit status 1 (so is a table store or data directory that cannot be written:
``faust.exceptions.StoreFailed``); so is an agent failure under the ``fail`` policy (after the log
line that names the message).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import signal
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

from faust.agents import AgentFun
from faust.exceptions import (
    BrokerUnavailable,
    DeliveryError,
    ImproperlyConfigured,
    NotAuthorized,
    StoreFailed,
    TransactionFailed,
)
from faust.web.directory import WorkerDirectory
from faust.worker.app_module import read_source
from faust.worker.errors import AgentFailure
from faust.worker.worker import Worker

if TYPE_CHECKING:
    from faust.app import App
    from faust.web.metrics import WorkerMetrics


def check_source(built_from: tuple[str | None, str]) -> None:
    """Refuse to run a built worker whose source module changed since it was built.

    ``built_from`` is the module's file and the SHA-256 of its text at build time.
    """
    source_file, expected_sha256 = built_from
    if source_file is None:
        return
    actual = hashlib.sha256(read_source(source_file)).hexdigest()
    if actual != expected_sha256:
        raise ImproperlyConfigured(
            f"{source_file} changed since its worker was built; "
            f"rebuild it with `faustc build {source_file}`"
        )


def run_worker_cli(
    app: App,
    compiled_agents: Mapping[str, AgentFun] | None = None,
    argv: list[str] | None = None,
    *,
    built_from: tuple[str | None, str] | None = None,
) -> NoReturn:
    """The app's command line (``faust.cli.main``): parse ``argv``, run, exit.

    Built workers pass ``built_from`` (see :func:`check_source`).
    """
    from faust.cli.main import run_cli

    run_cli(app, compiled_agents, argv, built_from=built_from)


def run_worker(
    app: App,
    compiled_agents: Mapping[str, AgentFun] | None = None,
    *,
    built_from: tuple[str | None, str] | None = None,
) -> int:
    """Run a worker in this process until SIGINT/SIGTERM; return the exit status."""
    try:
        return _run_worker(app, compiled_agents, built_from)
    finally:
        # Destroy the Kafka clients now, while Python is whole: one still referenced from a
        # reference cycle (an exception's traceback holds the frame that holds it) would be
        # destroyed during interpreter shutdown, where librdkafka's last log and error
        # callbacks into Python can crash the process after its exit status was decided.
        # Unfreeze first: a cycle through an object frozen at start-up (the worker itself)
        # is invisible to the collector, and a client it holds would outlive Python (a
        # refused worker then died of SIGSEGV after its one line, now and then).
        gc.unfreeze()
        gc.collect()


def _run_worker(
    app: App,
    compiled_agents: Mapping[str, AgentFun] | None,
    built_from: tuple[str | None, str] | None,
) -> int:
    try:
        if built_from is not None:
            check_source(built_from)
        metrics = None
        if app.conf.web_enabled:  # prometheus-client (~2.7 MB): imported only when serving
            from faust.web.metrics import WorkerMetrics

            metrics = WorkerMetrics(app)
        # where the other workers are, for table routes (faust.web.directory)
        directory = WorkerDirectory(app) if app.conf.web_enabled else None
        sensors = [sensor for sensor in (metrics, directory) if sensor is not None]
        worker = Worker(app, compiled_agents=compiled_agents, sensors=sensors)
        if metrics is not None:
            metrics.worker = worker
        asyncio.run(_run_until_signal(worker, metrics, directory))
    except (
        BrokerUnavailable,
        ImproperlyConfigured,
        DeliveryError,
        TransactionFailed,
        NotAuthorized,
        StoreFailed,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except AgentFailure as exc:
        logging.getLogger("faust.worker").error(
            "stopped by the fail policy: %s", exc, exc_info=exc.__cause__
        )
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


async def _run_until_signal(
    worker: Worker, metrics: WorkerMetrics | None, directory: WorkerDirectory | None
) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.request_stop)
    if not worker.app.conf.web_enabled:
        gc.freeze()  # see below
        await worker.run()
        return
    from faust.web.server import WebServer  # aiohttp: imported only when serving

    server = WebServer(worker.app, worker, metrics, directory)
    await server.start()  # first: /health and /ready answer while the worker starts
    # What exists by now (modules, the app, the server) lives as long as the process: keep
    # the cyclic GC from scanning it at every full collection (aiohttp's modules made
    # those cost ~0.1 us a message: bench/README.md, "The web server")
    gc.freeze()
    try:
        await worker.run()
    finally:
        await server.stop()
