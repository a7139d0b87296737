"""The contract every transport meets: a consumer, a producer, and topic administration.

The shapes follow confluent-kafka's so the Kafka transport is a thin wrapper and the memory
transport can be checked against it with one contract test suite (tests/test_transport.py).
Offsets and assignments use ``confluent_kafka.TopicPartition`` on both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Protocol

from confluent_kafka import TopicPartition

from faust.events import TransportMessage

Rebalance = Callable[[list[TopicPartition]], None]


@dataclasses.dataclass(frozen=True)
class TopicSpec:
    """A topic the app needs: created when missing, checked when present."""

    name: str
    partitions: int
    replicas: int = 1
    config: tuple[tuple[str, str], ...] = ()


class Consumer(Protocol):
    def subscribe(self, topics: list[str], on_assign: Rebalance, on_revoke: Rebalance) -> None:
        """Join the group for ``topics``; callbacks run inside :meth:`consume`."""

    def consume(self, max_messages: int, timeout: float) -> list[TransportMessage]:
        """Up to ``max_messages``: what is buffered now, else the first to arrive within
        ``timeout`` seconds plus whatever came with it. Never waits to fill a batch."""
        ...

    def assignment(self) -> list[TopicPartition]: ...

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Offset after the last message :meth:`consume` returned, per partition."""
        ...

    def committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]: ...

    def commit(self, offsets: list[TopicPartition]) -> None:
        """Commit synchronously (raises on failure)."""

    def close(self) -> None: ...


class Producer(Protocol):
    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Queue one record (returns at once)."""

    def poll(self) -> None:
        """Serve delivery reports without waiting."""

    def flush(self, timeout: float) -> None:
        """Wait until every queued record is acknowledged; raise DeliveryError otherwise."""

    def close(self) -> None: ...


class Transport(Protocol):
    description: str

    def check_connection(self, timeout: float) -> None:
        """Raise BrokerUnavailable with a one-line reason when no broker answers."""

    def ensure_topics(self, specs: list[TopicSpec], timeout: float) -> dict[str, int]:
        """Create the missing topics, wait until the broker shows them all, and return
        each topic's partition count."""
        ...

    def consumer(self, group_id: str, config: dict[str, object]) -> Consumer: ...

    def producer(self, config: dict[str, object]) -> Producer: ...
