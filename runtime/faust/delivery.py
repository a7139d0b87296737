"""Delivery reports of single sends: ``Topic.send(..., callback=fun)``, as in Faust.

A send given a ``callback`` returns a :class:`FutureMessage` (an asyncio future) that the
producer resolves with the record's :class:`RecordMetadata` once the broker acknowledged
it, and then calls ``callback(fut)``. Example::

    def on_delivered(fut: faust.FutureMessage) -> None:
        metadata = fut.result()           # RecordMetadata(topic, partition, ..., offset)
        print(metadata.topic, metadata.partition, metadata.offset)

    fut = await shipped.send(value=order, callback=on_delivered)
    metadata = await fut                  # waits for the acknowledgement

Sends without a callback return None and cost no report: the worker flushes the producer
before every commit, so a committed message's outputs are durable (README "Choices").
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

log = logging.getLogger("faust.delivery")


class TP(NamedTuple):
    """A topic partition."""

    topic: str
    partition: int


class RecordMetadata(NamedTuple):
    """Where the broker wrote a record (Faust's ``RecordMetadata``)."""

    topic: str
    partition: int
    topic_partition: TP
    offset: int
    timestamp: float | None = None
    timestamp_type: int | None = None


class PendingMessage(NamedTuple):
    """What was sent (Faust's ``PendingMessage``, as ``fut.message``)."""

    channel: Any
    key: Any
    value: Any
    partition: int | None
    timestamp: float | None
    headers: list[tuple[str, bytes]] | None
    callback: Callable[[FutureMessage], Any] | None
    topic: str | None = None


class FutureMessage(asyncio.Future[RecordMetadata]):
    """A sent record's delivery: resolved with its :class:`RecordMetadata`."""

    message: PendingMessage

    def __init__(self, message: PendingMessage) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.message = message

    def delivered(self, topic: str, partition: int, offset: int, timestamp_ms: int | None) -> None:
        """The broker acknowledged the record: resolve the future, call the callback
        (a coroutine callback is scheduled on the loop; an error in it is logged, as the
        producer's other reports must still be served)."""
        if self.done():
            return
        timestamp = None if timestamp_ms is None or timestamp_ms < 0 else timestamp_ms / 1000
        self.set_result(
            RecordMetadata(topic, partition, TP(topic, partition), offset, timestamp, None)
        )
        callback = self.message.callback
        if callback is None:
            return
        try:
            result = callback(self)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                _running_callbacks.add(task)
                task.add_done_callback(_callback_done)
        except Exception:
            log.exception("the delivery callback %r of a send to %s raised", callback, topic)


#: coroutine callbacks still running (a task nobody holds may be collected)
_running_callbacks: set[asyncio.Future[Any]] = set()


def _callback_done(task: asyncio.Future[Any]) -> None:
    _running_callbacks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("a delivery callback raised", exc_info=task.exception())


#: what a producer calls once a reported send is acknowledged:
#: ``(topic, partition, offset, timestamp in ms or None)``
DeliveryReport = Callable[[str, int, int, "int | None"], None]

#: what a producer calls for each record the brokers did not take (the failed delivery
#: reports of ``Producer.report_failures``): ``(topic, partition, reason)``
DeliveryFailure = Callable[[str, int, str], None]


_CALLBACK = re.compile(r"\bcallback\s*=")


def sends_with_callbacks(functions: Iterable[Callable[..., Any]]) -> bool:
    """Whether a module defining one of ``functions`` (the app's agents, timers, tasks)
    writes ``callback=``: its worker's producer then reports successful deliveries, which
    ``Topic.send(callback=)`` needs (other producers report failures only; a healthy send
    then costs no Python call). Read once at start; a false positive only costs reports."""
    files: set[str] = set()
    for function in functions:
        module = sys.modules.get(getattr(function, "__module__", None) or "")
        path = getattr(module, "__file__", None)
        if path:
            files.add(path)
    for path in sorted(files):
        try:
            with open(path, encoding="utf-8") as source:
                if _CALLBACK.search(source.read()):
                    return True
        except (OSError, UnicodeDecodeError):
            continue
    return False
