"""``faust.Monitor``: the sensor that keeps Faust's counters (``app.monitor``).

Its attributes are Faust's Monitor's, counted from the hooks of
:class:`~faust.sensors.base.Sensor`: messages received (in total and by topic), events
by stream, messages sent (in total and by topic), commit latencies, rebalances, the
offsets read and committed per partition, HTTP status codes. ``app.monitor`` creates one
and adds it to ``app.sensors`` the first time it is read, so an app that never reads it
pays for none of its per-message hooks. Example::

    monitor = app.monitor                 # before the worker starts
    ...
    monitor.messages_received_total       # 1200
    monitor.asdict()["messages_sent_by_topic"]   # {"big-orders": 511}
"""

from __future__ import annotations

import collections
import statistics
import time
from collections.abc import Callable
from typing import Any

from faust.sensors.base import PendingMessage, Sensor

#: how many latencies (event run times, commits, rebalances, HTTP requests) are kept
MAX_HISTORY = 100


class TableState:
    """What a Monitor counts per table (Faust's names; table hooks are not called yet)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.keys_retrieved = 0
        self.keys_updated = 0
        self.keys_deleted = 0

    def asdict(self) -> dict[str, int]:
        return {
            "keys_retrieved": self.keys_retrieved,
            "keys_updated": self.keys_updated,
            "keys_deleted": self.keys_deleted,
        }


def _key(tp: Any) -> tuple[str, int]:
    return (tp.topic, tp.partition)


class Monitor(Sensor):
    """Faust's default sensor (see the module docstring)."""

    def __init__(self, *, time: Callable[[], float] = time.monotonic) -> None:
        self.time = time
        self.messages_active = 0
        self.messages_received_total = 0
        self.messages_received_by_topic: collections.Counter[str] = collections.Counter()
        self.messages_sent = 0
        self.messages_sent_by_topic: collections.Counter[str] = collections.Counter()
        self.events_active = 0
        self.events_total = 0
        self.events_by_stream: collections.Counter[str] = collections.Counter()
        self.events_runtime: collections.deque[float] = collections.deque(maxlen=MAX_HISTORY)
        self.commit_latency: collections.deque[float] = collections.deque(maxlen=MAX_HISTORY)
        self.send_errors = 0
        self.rebalances = 0
        self.rebalance_return_latency: collections.deque[float] = collections.deque(
            maxlen=MAX_HISTORY
        )
        self.rebalance_end_latency: collections.deque[float] = collections.deque(maxlen=MAX_HISTORY)
        self.http_response_codes: collections.Counter[int] = collections.Counter()
        self.http_response_latency: collections.deque[float] = collections.deque(maxlen=MAX_HISTORY)
        self.tables: dict[str, TableState] = {}
        self.metric_counts: collections.Counter[str] = collections.Counter()
        self.tp_committed_offsets: dict[tuple[str, int], int] = {}
        self.tp_read_offsets: dict[tuple[str, int], int] = {}

    # -- messages and events ---------------------------------------------------------------

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.messages_received_total += 1
        self.messages_active += 1
        self.messages_received_by_topic[tp.topic] += 1
        self.tp_read_offsets[_key(tp)] = offset

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> Any:
        self.events_total += 1
        self.events_active += 1
        self.events_by_stream[str(stream)] += 1
        return self.time()

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        self.events_active -= 1
        if state is not None:
            self.events_runtime.append(self.time() - state)

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        self.messages_active -= 1

    # -- sends, commits, rebalances, requests ------------------------------------------------

    def on_send_initiated(
        self, producer: Any, topic: str, message: PendingMessage, keysize: int, valsize: int
    ) -> Any:
        self.messages_sent += 1
        self.messages_sent_by_topic[topic] += 1
        return None

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        self.send_errors += 1

    def on_commit_initiated(self, consumer: Any) -> Any:
        return self.time()

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        self.commit_latency.append(self.time() - state)

    def on_tp_commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Offsets were committed, ``(topic, partition) -> offset`` (Faust's hook)."""
        self.tp_committed_offsets.update(offsets)

    def on_rebalance_start(self, app: Any) -> Any:
        self.rebalances += 1
        return {"time_start": self.time()}

    def on_rebalance_return(self, app: Any, state: Any) -> None:
        self.rebalance_return_latency.append(self.time() - state["time_start"])

    def on_rebalance_end(self, app: Any, state: Any) -> None:
        self.rebalance_end_latency.append(self.time() - state["time_start"])

    def on_web_request_start(self, app: Any, request: Any, *, view: Any = None) -> Any:
        return {"time_start": self.time()}

    def on_web_request_end(
        self, app: Any, request: Any, response: Any, state: Any, *, view: Any = None
    ) -> None:
        self.http_response_codes[response.status if response is not None else 500] += 1
        self.http_response_latency.append(self.time() - state["time_start"])

    def count(self, metric_name: str, count: int = 1) -> None:
        """Count an app's own metric by name (Faust's ``monitor.count``)."""
        self.metric_counts[metric_name] += count

    # -- state -----------------------------------------------------------------------------

    def asdict(self) -> dict[str, Any]:
        def median(values: collections.deque[float]) -> float:
            return statistics.median(values) if values else 0.0

        def by_topic(offsets: dict[tuple[str, int], int]) -> dict[str, dict[int, int]]:
            result: dict[str, dict[int, int]] = {}
            for (topic, partition), offset in sorted(offsets.items()):
                result.setdefault(topic, {})[partition] = offset
            return result

        return {
            "messages_active": self.messages_active,
            "messages_received_total": self.messages_received_total,
            "messages_received_by_topic": dict(self.messages_received_by_topic),
            "messages_sent": self.messages_sent,
            "messages_sent_by_topic": dict(self.messages_sent_by_topic),
            "events_active": self.events_active,
            "events_total": self.events_total,
            "events_by_stream": dict(self.events_by_stream),
            "events_runtime_avg": median(self.events_runtime),
            "commit_latency": list(self.commit_latency),
            "send_errors": self.send_errors,
            "rebalances": self.rebalances,
            "rebalance_return_avg": median(self.rebalance_return_latency),
            "rebalance_end_avg": median(self.rebalance_end_latency),
            "http_response_codes": dict(self.http_response_codes),
            "http_response_latency_avg": median(self.http_response_latency),
            "tables": {name: state.asdict() for name, state in self.tables.items()},
            "metric_counts": dict(self.metric_counts),
            "topic_committed_offsets": by_topic(self.tp_committed_offsets),
            "topic_read_offsets": by_topic(self.tp_read_offsets),
        }
