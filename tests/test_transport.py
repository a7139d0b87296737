"""One contract, two transports: the in-memory broker behaves like Kafka where the worker
relies on it. The promises are the named tests of ``tests/transport_contract.py``; each
runs against the memory transport and against the Kafka transport on the embedded broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from transport_contract import TransportContract, fresh

from faust.settings import Settings
from faust.transport.base import Transport
from faust.transport.kafka import KafkaTransport
from faust.transport.memory import MemoryTransport
from faustc.broker import EmbeddedBroker


class TestMemoryTransport(TransportContract):
    @pytest.fixture
    def transport(self) -> Iterator[Transport]:
        yield MemoryTransport.named(fresh("contract"))


class TestKafkaTransport(TransportContract):
    @pytest.fixture
    def transport(self, broker: EmbeddedBroker) -> Iterator[Transport]:
        settings = Settings(
            id="contract", broker=broker.url, broker_session_timeout=6, broker_heartbeat_interval=1
        )
        kafka = KafkaTransport(settings)
        yield kafka
        kafka.close()
