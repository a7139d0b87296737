"""``faust.Sensor``: Faust's hooks, each doing nothing; and ``app.sensors``, the set of
sensors an app has.

The arguments are Faust's where the runtime has the same thing: ``tp`` is a
``confluent_kafka.TopicPartition`` (``tp.topic``, ``tp.partition``), ``message`` a
``faust.events.Message``, ``stream`` the name of the stream consumer (an agent's name),
``producer`` and ``consumer`` the worker's transport objects, ``message`` of a send a
:class:`PendingMessage`. Example::

    class Commits(faust.Sensor):
        def on_commit_initiated(self, consumer):
            return time.monotonic()

        def on_commit_completed(self, consumer, state):
            print("commit took", time.monotonic() - state)

    app.sensors.add(Commits())
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, NamedTuple


class PendingMessage(NamedTuple):
    """A record being sent (what ``on_send_initiated`` gets)."""

    topic: str
    key: bytes | None
    value: bytes | None


class Sensor:
    """Base class for sensors: every hook does nothing (see the module docstring)."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        """A message was received by the consumer (before any stream has it)."""

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> Any:
        """A stream starts processing a message; the result is handed to
        :meth:`on_stream_event_out` as ``state``."""
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        """A stream finished processing a message."""

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        """Every stream finished processing the message."""

    def on_topic_buffer_full(self, tp: Any) -> None:
        """Never called here: the worker hands whole batches to streams (no buffers)."""

    def on_table_get(self, table: Any, key: Any) -> None:
        """A key of ``table`` is read (``table[key]``, ``table.get(key)``; a windowed
        table's ``key`` is ``(key, (start, end))``), before it is looked up."""

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        """``table[key] = value`` (also the write of ``table[key] += v``), before it is
        stored."""

    def on_table_del(self, table: Any, key: Any) -> None:
        """``del table[key]`` (or ``pop``) of a key the table has, before it is deleted."""

    def on_commit_initiated(self, consumer: Any) -> Any:
        """A commit begins; the result is handed to :meth:`on_commit_completed`."""
        return None

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        """A commit made everything processed durable and committed its offsets."""

    def on_send_initiated(
        self, producer: Any, topic: str, message: PendingMessage, keysize: int, valsize: int
    ) -> Any:
        """A record was queued for sending."""
        return None

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        """Not called: the producer reports failed deliveries only (README)."""

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        """A record the worker sent was not delivered (a failed delivery report): ``exc``
        is a DeliveryError naming the topic, partition and reason, ``state`` None. The
        worker still stops at its next flush (README, "Errors lose nothing")."""

    def on_assignment_start(self, assignor: Any) -> Any:
        """Not called: Kafka's own group protocol assigns partitions (no Faust assignor)."""
        return {"time_start": time.monotonic()}

    def on_assignment_error(self, assignor: Any, state: Any, exc: BaseException) -> None:
        """Not called (see :meth:`on_assignment_start`)."""

    def on_assignment_completed(self, assignor: Any, state: Any) -> None:
        """Not called (see :meth:`on_assignment_start`)."""

    def on_rebalance_start(self, app: Any) -> Any:
        """A rebalance began (partitions were revoked, or the first assignment is
        awaited); the result is the ``state`` of the next two hooks."""
        return {"time_start": time.monotonic()}

    def on_rebalance_return(self, app: Any, state: Any) -> None:
        """The group gave this worker its new assignment."""

    def on_rebalance_end(self, app: Any, state: Any) -> None:
        """The assignment's tables are restored: every assigned partition flows."""

    def on_web_request_start(self, app: Any, request: Any, *, view: Any = None) -> Any:
        """The web server started on a request."""
        return {"time_start": time.monotonic()}

    def on_web_request_end(
        self, app: Any, request: Any, response: Any, state: Any, *, view: Any = None
    ) -> None:
        """The web server answered a request (``response`` None: it raised)."""

    def asdict(self) -> dict[str, Any]:
        """The sensor's state as a dictionary."""
        return {}


class TableHooks(NamedTuple):
    """The sensors that override each table hook (tables call only those)."""

    get: tuple[Sensor, ...]
    set: tuple[Sensor, ...]
    delete: tuple[Sensor, ...]


def overrides(sensor: Sensor, hook: str) -> bool:
    """Does ``sensor``'s class define ``hook`` itself (not :class:`Sensor`'s no-op)?"""
    return getattr(type(sensor), hook, None) is not getattr(Sensor, hook)


class SensorDelegate:
    """``app.sensors``: the sensors of an app (``add``, ``remove``, iteration)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._sensors: list[Sensor] = []
        #: the sensors that override a table hook; None when none does, so that a table
        #: access asks one ``is None`` and a compiled loop reads its stores directly
        #: (``faust.compiled.table_access``)
        self.table_hooks: TableHooks | None = None

    def add(self, sensor: Sensor) -> None:
        """Tell ``sensor`` of what workers of this app do from now on (a worker takes
        the app's sensors when it starts; tables call its table hooks at once)."""
        if sensor not in self._sensors:
            self._sensors.append(sensor)
            self._find_table_hooks()

    def remove(self, sensor: Sensor) -> None:
        self._sensors.remove(sensor)
        self._find_table_hooks()

    def _find_table_hooks(self) -> None:
        def using(hook: str) -> tuple[Sensor, ...]:
            return tuple(sensor for sensor in self._sensors if overrides(sensor, hook))

        hooks = TableHooks(using("on_table_get"), using("on_table_set"), using("on_table_del"))
        self.table_hooks = hooks if any(hooks) else None

    def __iter__(self) -> Iterator[Sensor]:
        return iter(list(self._sensors))

    def __len__(self) -> int:
        return len(self._sensors)

    def __repr__(self) -> str:
        return f"<SensorDelegate: {self._sensors!r}>"
