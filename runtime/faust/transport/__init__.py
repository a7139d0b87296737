"""Transports: how the worker reaches a broker.

``kafka.py`` wraps confluent-kafka (librdkafka); ``memory.py`` is an in-process broker with
the same contract, for tests and ``agent.test_context()``. ``open_transport(settings)``
picks one from the App's broker setting (``kafka://...`` or ``memory://name``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faust.transport.base import Consumer, Producer, TopicSpec, Transport

if TYPE_CHECKING:
    from faust.settings import Settings


def open_transport(settings: Settings) -> Transport:
    """The transport for the App's ``broker`` setting."""
    from faust.settings import is_memory_url

    if is_memory_url(settings.broker):
        from faust.transport.memory import MemoryTransport

        return MemoryTransport.named(settings.broker[len("memory://") :] or "default")
    from faust.transport.kafka import KafkaTransport

    return KafkaTransport(settings)


__all__ = ["Consumer", "Producer", "TopicSpec", "Transport", "open_transport"]
