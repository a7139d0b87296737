"""Replies to ``agent.ask()``: the reply topic and the consumer that waits on it.

Every worker process that asks reads the whole reply topic with a consumer of its own
(a group nobody else joins, starting at the end), and keeps the replies whose correlation
id it is waiting for. The reply topic name is stable (``app.conf.reply_to``, default
``<app id>-reply``). Example::

    replies = Replies(app, transport)
    waiter = await replies.expect("c0ffee", None)   # before the request is sent
    ...send the request with waiter.topic in its headers...
    value = await waiter.result(timeout=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, Any

from faust.contract import reply_group, reply_topic_name
from faust.models.record import maybe_model
from faust.serializers.codecs import json_dumps, json_loads
from faust.transport.base import Consumer, TopicSpec, Transport

if TYPE_CHECKING:
    from confluent_kafka import TopicPartition

    from faust.app import App

log = logging.getLogger("faust.replies")

POLL_SECONDS = 0.02


def encode_reply(key: Any, value: Any, correlation_id: str) -> bytes:
    return json_dumps({"key": key, "value": value, "correlation_id": correlation_id})


class Waiter:
    def __init__(self, topic: str, future: asyncio.Future[Any]) -> None:
        self.topic = topic
        self.future = future

    async def result(self, timeout: float | None) -> Any:
        return await asyncio.wait_for(self.future, timeout)


class Replies:
    """The reply consumers of one process, one per reply topic."""

    def __init__(self, app: App, transport: Transport) -> None:
        self.app = app
        self.transport = transport
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._consumers: dict[str, Consumer] = {}
        self._assigned: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def expect(self, correlation_id: str, topic: str | None) -> Waiter:
        """Register interest in ``correlation_id``; the consumer is ready when this returns."""
        if self._closed:
            raise RuntimeError(f"app {self.app.id!r} is not running: ask() happens inside a worker")
        name = topic or reply_topic_name(self.app.id, self.app.conf.reply_to)
        if name not in self._consumers:
            self._start_consumer(name)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="faust replies")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[correlation_id] = future  # pending from now on (pending())
        await self._assigned[name].wait()
        return Waiter(name, future)

    def pending(self) -> bool:
        """Is some ``ask()`` of this process still waiting for its reply?"""
        return any(not future.done() for future in self._waiting.values())

    def _start_consumer(self, name: str) -> None:
        conf = self.app.conf
        self.transport.ensure_topics([TopicSpec(name, 1, conf.topic_replication_factor)], 15.0)
        consumer = self.transport.reply_consumer(reply_group(self.app.id, uuid.uuid4().hex[:12]))
        assigned = asyncio.Event()

        def on_assign(partitions: list[TopicPartition]) -> None:
            if partitions:
                assigned.set()

        consumer.subscribe([name], on_assign, lambda partitions: None)
        self._consumers[name] = consumer
        self._assigned[name] = assigned

    async def _poll(self) -> None:
        while self._consumers:
            for consumer in list(self._consumers.values()):
                for message in consumer.consume(500, 0):
                    self._on_reply(message.value())
            await asyncio.sleep(POLL_SECONDS)

    def _on_reply(self, raw: bytes | None) -> None:
        try:
            reply = json_loads(raw or b"null")
            correlation_id = reply["correlation_id"]
        except Exception as exc:  # a reply we cannot read is not ours to fail on
            log.warning("ignoring an unreadable reply: %s", exc)
            return
        future = self._waiting.pop(correlation_id, None)
        if future is not None and not future.done():
            future.set_result(maybe_model(reply.get("value")))

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for consumer in self._consumers.values():
            consumer.close()
        self._consumers.clear()
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()
