"""Services: code that starts and stops with the worker (``@app.service``, ``faust.Service``).

Faust's ``Service`` is mode's (a large base class); this is the small lifecycle Faust apps
use with ``@app.service``: ``on_start``, ``on_started``, ``on_stop``, ``on_shutdown``,
background coroutines marked ``@Service.task``, periodic ones marked
``@Service.timer(interval)``, and ``self.sleep()``. Example::

    @app.service
    class Heartbeat(faust.Service):
        async def on_start(self) -> None:
            print("started")

        @faust.Service.task
        async def _warm_up(self) -> None:
            await self.sleep(0.1)

        @faust.Service.timer(1.0)
        async def _beat(self) -> None:
            print("beat")

The worker starts each service after its agents, timers and tasks (``start()``: on_start,
the tasks and timers, on_started) and stops it when it stops (``stop()``: on_stop, the
tasks and timers cancelled, on_shutdown). An exception in a task or timer is logged, as
an ``@app.timer``'s is; a timer goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

log = logging.getLogger("faust.services")

ServiceMethod = TypeVar("ServiceMethod", bound=Callable[..., Awaitable[Any]])

_TASK = "_faust_service_task"
_TIMER = "_faust_service_timer"


class Service:
    """A service started and stopped with the worker (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        # ``loop=``/``beacon=`` as mode takes them: accepted, not used
        self._running: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._started = False

    # -- marking methods --------------------------------------------------------------------

    @classmethod
    def task(cls, fun: ServiceMethod) -> ServiceMethod:
        """Decorator: run ``async def fun(self)`` in the background once the service
        starts (cancelled when it stops)."""
        setattr(fun, _TASK, True)
        return fun

    @classmethod
    def timer(cls, interval: float | timedelta) -> Callable[[ServiceMethod], ServiceMethod]:
        """Decorator: call ``async def fun(self)`` every ``interval`` seconds while the
        service runs (the first time one interval after it started)."""
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval

        def mark(fun: ServiceMethod) -> ServiceMethod:
            setattr(fun, _TIMER, float(seconds))
            return fun

        return mark

    # -- the lifecycle -----------------------------------------------------------------------

    async def on_start(self) -> None:
        """Called when the service starts, before its tasks and timers."""

    async def on_started(self) -> None:
        """Called once its tasks and timers run."""

    async def on_stop(self) -> None:
        """Called when the service stops, before its tasks and timers are cancelled."""

    async def on_shutdown(self) -> None:
        """Called once its tasks and timers are gone."""

    @property
    def should_stop(self) -> bool:
        return self._stopping.is_set()

    async def sleep(self, seconds: float | timedelta) -> None:
        """Sleep ``seconds``, or less when the service stops meanwhile."""
        delay = seconds.total_seconds() if isinstance(seconds, timedelta) else seconds
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, delay))

    def add_future(self, coroutine: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run ``coroutine`` in the background until the service stops."""
        task = asyncio.ensure_future(coroutine)
        self._running.append(task)
        return task

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._stopping.clear()
        await self.on_start()
        for name in dir(type(self)):
            method = getattr(type(self), name, None)
            if getattr(method, _TASK, False):
                self._running.append(asyncio.create_task(self._run_task(name)))
            interval = getattr(method, _TIMER, None)
            if interval is not None:
                self._running.append(asyncio.create_task(self._run_timer(name, interval)))
        await self.on_started()

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._stopping.set()
        await self.on_stop()
        for task in self._running:
            task.cancel()
        for task in self._running:
            with contextlib.suppress(BaseException):  # cancelled, or failed and logged
                await task
        self._running = []
        await self.on_shutdown()

    async def _run_task(self, name: str) -> None:
        try:
            await getattr(self, name)()
        except Exception:
            log.exception("service %s: task %s raised", type(self).__name__, name)

    async def _run_timer(self, name: str, interval: float) -> None:
        while not self.should_stop:
            await self.sleep(interval)
            if self.should_stop:
                return
            try:
                await getattr(self, name)()
            except Exception:
                log.exception("service %s: timer %s raised", type(self).__name__, name)

    def __repr__(self) -> str:
        state = "running" if self._started else "stopped"
        return f"<{type(self).__name__}: {state}>"
