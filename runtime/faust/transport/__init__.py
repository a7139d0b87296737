"""Transports: how the worker reaches a broker.

``kafka.py`` wraps confluent-kafka (librdkafka); ``memory.py`` is an in-process broker with
the same contract, for tests and ``agent.test_context()``. ``open_transport(url)`` picks one
from the App's broker URL (``kafka://...`` or ``memory://name``).
"""

from __future__ import annotations

from faust.transport.base import Consumer, Producer, TopicSpec, Transport


def open_transport(broker_url: str) -> Transport:
    """The transport for ``broker_url``."""
    if broker_url.startswith("memory://"):
        from faust.transport.memory import MemoryTransport

        return MemoryTransport.named(broker_url[len("memory://") :] or "default")
    from faust.transport.kafka import KafkaTransport

    return KafkaTransport(broker_url)


__all__ = ["Consumer", "Producer", "TopicSpec", "Transport", "open_transport"]
