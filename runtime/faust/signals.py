"""App signals: functions called when something happens to a running app, as in Faust.

A signal is an attribute of the App; connect a function to it with ``.connect`` (a
decorator). Faust's signals come from ``mode``: a receiver is called as
``receiver(sender, *args, signal=<the signal>, **kwargs)`` where the sender is the App.
:class:`Signal` receivers may be ``async def`` (they are awaited in order);
:class:`SyncSignal` receivers are plain functions. Example::

    @app.on_partitions_assigned.connect
    async def on_assigned(app, assigned, **kwargs):
        print("now holding", sorted(assigned))

    @app.on_worker_init.connect
    def on_worker_init(app, **kwargs):
        logging.getLogger("orders").info("worker for %s", app.id)

Which signals an App has and when the worker sends them: ``faust.app`` (README,
"Operating a worker").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

Receiver = Callable[..., Any]
ReceiverT = TypeVar("ReceiverT", bound=Receiver)


class BaseSignal:
    """The receivers of one signal of one sender (see the module docstring)."""

    def __init__(self, name: str = "", *, sender: Any = None) -> None:
        self.name = name
        self.default_sender = sender
        self.receivers: list[Receiver] = []

    def connect(self, fun: ReceiverT) -> ReceiverT:
        """Call ``fun`` whenever the signal is sent (usable as a decorator)."""
        if fun not in self.receivers:
            self.receivers.append(fun)
        return fun

    def disconnect(self, fun: Receiver) -> None:
        """Stop calling ``fun``."""
        if fun in self.receivers:
            self.receivers.remove(fun)

    def __bool__(self) -> bool:
        """True when some receiver is connected (a signal nobody listens to costs nothing)."""
        return bool(self.receivers)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name} ({len(self.receivers)} receiver(s))>"


class Signal(BaseSignal):
    """A signal whose receivers may be coroutine functions, awaited in order."""

    async def send(self, *args: Any, **kwargs: Any) -> None:
        for receiver in list(self.receivers):
            result = receiver(self.default_sender, *args, signal=self, **kwargs)
            if inspect.isawaitable(result):
                await result


class SyncSignal(BaseSignal):
    """A signal whose receivers are plain functions."""

    def send(self, *args: Any, **kwargs: Any) -> None:
        for receiver in list(self.receivers):
            receiver(self.default_sender, *args, signal=self, **kwargs)
