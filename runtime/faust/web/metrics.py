"""``GET /metrics``: what a worker did, in Prometheus' text format.

:class:`WorkerMetrics` is a worker sensor (``faust.worker.sensors``): it counts per batch
(messages handed to each agent, the time each agent took over its part), per commit
(count, duration), per partition move (rebalances) and per record sent (``wants_sends``:
each agent's outputs, counted by the producer the worker lends the app, and by compiled
loops themselves in the cells :meth:`WorkerMetrics.send_cells` hands them). Everything
else is read when Prometheus scrapes (:meth:`WorkerMetrics.render`): the error policies'
counts, the consumer's positions and the fetched ends of its partitions (the lag), the
committed offsets, the tables' recovery and changelog counts, the producer's queue and
failed deliveries. Names start with ``faust_``; counters end in ``_total``. Example::

    metrics = WorkerMetrics(app)
    worker = Worker(app, sensors=[metrics])
    metrics.worker = worker
    ...
    body = metrics.render()       # b"# HELP faust_agent_messages_in_total ..."

The metrics, with their labels:

- ``faust_agent_messages_in_total{agent}``: messages handed to the agent;
- ``faust_agent_messages_out_total{agent,topic}``: records the agent sent (its sends and
  sinks; dead letters are counted apart);
- ``faust_agent_errors_total{agent,error,policy}``: messages that failed to decode
  (``error="decode"``) or raised in the agent (``error="processing"``), under the agent's
  policy; ``faust_agent_skipped_total{agent}``, ``faust_agent_dead_letters_total{agent}``;
- ``faust_agent_processing_seconds{agent}``: a summary, one observation per batch;
- ``faust_messages_processed_total``: messages every stream finished;
- ``faust_consumer_position{topic,partition}``, ``faust_consumer_end_offset``,
  ``faust_consumer_lag`` (end - position, or end - committed before the first batch),
  ``faust_consumer_committed_offset``;
- ``faust_commits_total``, ``faust_commit_seconds`` (a summary);
- ``faust_rebalances_total`` (assignments received), ``faust_assigned_partitions``;
- ``faust_table_recovery_records_total``, ``faust_table_recovery_remaining_records``,
  ``faust_table_changelog_records_total{table}``, ``faust_table_standby_records_total``
  and ``faust_table_standby_lag_records`` (standby copies: ``table_standby_replicas``);
- ``faust_producer_queued_records``, ``faust_producer_delivery_errors_total``;
- ``faust_sent_records_total{topic}``: every record the app sent, agents or not;
- ``faust_build_info{app,faust,python,librdkafka,confluent_kafka}`` (always 1).
"""

from __future__ import annotations

import functools
import platform
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import confluent_kafka
from confluent_kafka import TopicPartition
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from faust.events import TransportMessage
from faust.transport.base import SendCell
from faust.worker.sensors import DEAD_LETTERS, Sensor

if TYPE_CHECKING:
    from faust.app import App
    from faust.worker.worker import Worker

#: what ``/metrics`` answers with (Prometheus' text format, version 0.0.4)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class WorkerMetrics(Sensor, Collector):
    """The counts behind ``/metrics`` (see the module docstring)."""

    wants_sends = True

    def __init__(self, app: App) -> None:
        self.app = app
        #: the worker measured (set before it runs; read when scraped)
        self.worker: Worker | None = None
        self.messages_in: dict[str, int] = {}
        self.batches: dict[str, int] = {}
        self.batch_seconds: dict[str, float] = {}
        #: agent or None -> topic -> the one-item list counting the records it sent
        #: (compiled loops add to it: :meth:`send_cells`; see :attr:`sent`)
        self._sent_by: dict[str | None, dict[str, list[int]]] = {}
        self.processed = 0
        self.commits = 0
        self.commit_seconds = 0.0
        self.rebalances = 0
        self._commit_started = 0.0
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    # -- the worker's events ---------------------------------------------------------------

    def on_stream_batch(
        self, stream: str, messages: list[TransportMessage], seconds: float
    ) -> None:
        self.messages_in[stream] = self.messages_in.get(stream, 0) + len(messages)
        self.batches[stream] = self.batches.get(stream, 0) + 1
        self.batch_seconds[stream] = self.batch_seconds.get(stream, 0.0) + seconds

    def on_batch(self, messages: int) -> None:
        self.processed += messages

    def on_send(
        self, agent: str | None, topic: str, key: bytes | None, value: bytes | None
    ) -> None:
        self._cell(agent, topic)[0] += 1

    def send_cells(self, agent: str | None) -> SendCell:
        return functools.partial(self._cell, agent)

    def _cell(self, agent: str | None, topic: str) -> list[int]:
        cells = self._sent_by.get(agent)
        if cells is None:
            cells = self._sent_by[agent] = {}
        cell = cells.get(topic)
        if cell is None:
            cell = cells[topic] = [0]
        return cell

    @property
    def sent(self) -> dict[tuple[str | None, str], int]:
        """``(agent or None, topic) -> records sent`` (a cell a compiled loop bound but
        has not added to yet is not shown: as for an agent that has not sent yet)."""
        return {
            (agent, topic): cell[0]
            for agent, cells in list(self._sent_by.items())
            for topic, cell in list(cells.items())
            if cell[0]
        }

    def on_commit_start(self) -> None:
        self._commit_started = time.perf_counter()

    def on_commit(self, offsets: list[TopicPartition]) -> None:
        self.commits += 1
        self.commit_seconds += time.perf_counter() - self._commit_started

    def on_assigned(self, partitions: list[TopicPartition]) -> None:
        self.rebalances += 1

    # -- scraping --------------------------------------------------------------------------

    def render(self) -> bytes:
        """The metrics, in Prometheus' text format."""
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Any]:
        yield from self._agents()
        yield from self._partitions()
        yield from self._worker()
        yield self._build_info()

    def _agents(self) -> Iterator[Any]:
        worker = self.worker
        policies = worker.policies if worker is not None else {}
        names = sorted(set(self.app.agents) | set(self.messages_in))
        messages_in = CounterMetricFamily(
            "faust_agent_messages_in", "Messages handed to the agent", labels=["agent"]
        )
        out = CounterMetricFamily(
            "faust_agent_messages_out",
            "Records the agent sent (outputs and sinks; dead letters apart)",
            labels=["agent", "topic"],
        )
        errors = CounterMetricFamily(
            "faust_agent_errors",
            "Messages that failed to decode or raised in the agent, under its error policy",
            labels=["agent", "error", "policy"],
        )
        skipped = CounterMetricFamily(
            "faust_agent_skipped", "Failed messages the skip policy went past", labels=["agent"]
        )
        dead = CounterMetricFamily(
            "faust_agent_dead_letters",
            "Failed messages sent to the dead-letter topic",
            labels=["agent"],
        )
        seconds = SummaryMetricFamily(
            "faust_agent_processing_seconds",
            "Time the agent took over each batch handed to it",
            labels=["agent"],
        )
        for name in names:
            messages_in.add_metric([name], self.messages_in.get(name, 0))
            seconds.add_metric([name], self.batches.get(name, 0), self.batch_seconds.get(name, 0.0))
            policy = policies.get(name)
            if policy is None:
                continue
            errors.add_metric([name, "decode", policy.mode], policy.decode_errors)
            errors.add_metric([name, "processing", policy.mode], policy.agent_errors)
            skipped.add_metric([name], policy.skipped)
            dead.add_metric([name], policy.dead_lettered)
        for (agent, topic), count in sorted(self.sent.items(), key=_sent_order):
            if agent is not None and agent != DEAD_LETTERS:
                out.add_metric([agent, topic], count)
        yield from (messages_in, out, errors, skipped, dead, seconds)
        processed = CounterMetricFamily(
            "faust_messages_processed", "Messages every stream on their topic finished"
        )
        processed.add_metric([], self.processed)
        yield processed
        sent = CounterMetricFamily(
            "faust_sent_records", "Records the app sent (agents, timers, tasks)", labels=["topic"]
        )
        by_topic: dict[str, int] = {}
        for (_, topic), count in self.sent.items():
            by_topic[topic] = by_topic.get(topic, 0) + count
        for topic, count in sorted(by_topic.items()):
            sent.add_metric([topic], count)
        yield sent

    def _partitions(self) -> Iterator[Any]:
        worker = self.worker
        offsets = worker.offsets() if worker is not None else []
        labels = ["topic", "partition"]
        position = GaugeMetricFamily(
            "faust_consumer_position", "The next offset the worker consumes", labels=labels
        )
        end = GaugeMetricFamily(
            "faust_consumer_end_offset",
            "The partition's end as the last fetch response reported it",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            "faust_consumer_lag",
            "Messages between the worker's position and the end",
            labels=labels,
        )
        committed = GaugeMetricFamily(
            "faust_consumer_committed_offset", "The offset last committed", labels=labels
        )
        for topic, partition, at, done, high in sorted(offsets):
            key = [topic, str(partition)]
            if at is not None:
                position.add_metric(key, at)
            if done is not None:
                committed.add_metric(key, done)
            if high is not None:
                end.add_metric(key, high)
                start = at if at is not None else done
                if start is not None:
                    lag.add_metric(key, max(0, high - start))
        assigned = GaugeMetricFamily(
            "faust_assigned_partitions", "Partitions the group gave this worker"
        )
        assigned.add_metric([], len(offsets))
        yield from (position, end, lag, committed, assigned)

    def _worker(self) -> Iterator[Any]:
        commits = CounterMetricFamily("faust_commits", "Commits made")
        commits.add_metric([], self.commits)
        commit_seconds = SummaryMetricFamily(
            "faust_commit_seconds", "Time each commit took (flush, tables, offsets)"
        )
        commit_seconds.add_metric([], self.commits, self.commit_seconds)
        rebalances = CounterMetricFamily(
            "faust_rebalances", "Assignments the group gave this worker"
        )
        rebalances.add_metric([], self.rebalances)
        yield from (commits, commit_seconds, rebalances)
        worker = self.worker
        tables = worker.tables if worker is not None else None
        if tables is not None:
            restored = CounterMetricFamily(
                "faust_table_recovery_records", "Changelog records applied by recovery"
            )
            restored.add_metric([], tables.recovery_records())
            remaining = GaugeMetricFamily(
                "faust_table_recovery_remaining_records",
                "Changelog records the partitions being restored still have to read",
            )
            remaining.add_metric([], tables.recovery_remaining() or 0)
            written = CounterMetricFamily(
                "faust_table_changelog_records",
                "Changelog records the worker wrote (one per key changed between commits)",
                labels=["table"],
            )
            for name in sorted(self.app.tables):
                written.add_metric([name], tables.changelog_records.get(name, 0))
            standby = CounterMetricFamily(
                "faust_table_standby_records",
                "Changelog records applied to standby copies of partitions owned elsewhere",
            )
            standby.add_metric([], tables.standby_records())
            standby_lag = GaugeMetricFamily(
                "faust_table_standby_lag_records",
                "Changelog records the standby copies have still to apply",
            )
            lag = tables.standby_lag()
            if lag is not None:  # (unknown until the first fetch of every partition)
                standby_lag.add_metric([], lag)
            yield from (restored, remaining, written, standby, standby_lag)
        producer = worker.producer if worker is not None else None
        queued = GaugeMetricFamily(
            "faust_producer_queued_records", "Records queued or in flight, not yet acknowledged"
        )
        failed = CounterMetricFamily(
            "faust_producer_delivery_errors", "Records the brokers did not take"
        )
        queued.add_metric([], producer.queued() if producer is not None else 0)
        failed.add_metric([], producer.delivery_errors() if producer is not None else 0)
        yield from (queued, failed)

    def _build_info(self) -> Any:
        import faust

        info = InfoMetricFamily("faust_build", "Versions of the worker's runtime")
        info.add_metric(
            [],
            {
                "app": self.app.id,
                "faust": faust.__version__,
                "python": platform.python_version(),
                "confluent_kafka": _confluent_kafka_version(),
                "librdkafka": confluent_kafka.libversion()[0],
            },
        )
        return info


def _sent_order(item: tuple[tuple[str | None, str], int]) -> tuple[str, str]:
    (agent, topic), _ = item
    return (agent or "", topic)


def _confluent_kafka_version() -> str:
    version: Any = confluent_kafka.version()  # ("2.16.1", 0x021001ff) or the text alone
    return str(version[0] if isinstance(version, tuple) else version)
