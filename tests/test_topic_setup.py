"""Topic set-up (``faust.worker.topic_setup``): what a worker creates before it subscribes,
on the memory transport (the Kafka transport keeps the same contract:
tests/transport_contract.py)."""

from __future__ import annotations

import itertools

import pytest

import faust
from faust import contract
from faust.exceptions import ImproperlyConfigured
from faust.transport.base import TopicSpec
from faust.transport.memory import MemoryTransport
from faust.worker.topic_setup import TopicSetup

_ids = itertools.count()


def transport() -> MemoryTransport:
    return MemoryTransport.named(f"topic-setup-{next(_ids)}")


def test_declared_topics_are_created_with_their_partitions_or_the_apps() -> None:
    app = faust.App("setup", topic_partitions=3)
    app.topic("orders", partitions=4)
    app.topic("audit")
    memory = transport()
    leader = contract.leader_topic_name("setup")  # one partition: the group elects a leader
    assert TopicSetup(app, memory).declared() == {"orders": 4, "audit": 3, leader: 1}
    assert memory.broker.end_offsets("orders") == [0, 0, 0, 0]


def test_a_dead_letter_agent_gets_a_dead_letter_topic_as_wide_as_its_source() -> None:
    app = faust.App("setup-dlq", error_policy="dead-letter")
    orders = app.topic("orders", partitions=4)

    @app.agent(orders)
    async def process(stream: faust.Stream[bytes]) -> None:
        async for _ in stream:
            pass

    declared = TopicSetup(app, transport()).declared()
    assert {name: n for name, n in declared.items() if "__leader" not in name} == {
        "orders": 4,
        "orders-dlq": 4,
    }


def test_a_declared_partition_count_that_differs_from_the_broker_is_an_error() -> None:
    app = faust.App("setup-mismatch")
    app.topic("orders", partitions=4)
    memory = transport()
    memory.ensure_topics([TopicSpec("orders", 2)], 1)
    with pytest.raises(ImproperlyConfigured, match="declared with partitions=4 but has 2"):
        TopicSetup(app, memory).declared()


def test_nothing_is_created_when_the_app_may_not_declare_topics() -> None:
    app = faust.App("setup-no-declare", topic_allow_declare=False)
    app.topic("orders", partitions=4)
    memory = transport()
    assert TopicSetup(app, memory).declared() == {}
    assert "orders" not in memory.broker.topics


class Consuming:
    """A stream consumer as topic set-up sees it."""

    def __init__(self, name: str, topics: list[str]) -> None:
        self.name = name
        self.topics = topics


def test_without_declaring_the_consumed_topics_must_exist_as_declared() -> None:
    app = faust.App("setup-no-declare-sources", topic_allow_declare=False)
    app.topic("orders", partitions=4)
    memory = transport()
    setup = TopicSetup(app, memory)
    consumers = [Consuming("shop.process", ["orders"])]
    with pytest.raises(ImproperlyConfigured, match=r"topic 'orders' \(consumed by shop.process"):
        setup.ensure(consumers)
    assert "orders" not in memory.broker.topics
    memory.broker.create_topic("orders", 2)
    with pytest.raises(ImproperlyConfigured, match="declared with partitions=4 but has 2"):
        setup.declared()  # the broker's count, looked up rather than created
    memory.broker.topics.pop("orders")
    memory.broker.create_topic("orders", 4)
    assert setup.ensure(consumers) == {"orders": 4}


def test_without_declaring_an_undeclared_consumed_topic_is_looked_up_too() -> None:
    app = faust.App("setup-no-declare-undeclared", topic_allow_declare=False)
    memory = transport()
    memory.broker.create_topic("clicks", 3)
    consumers = [Consuming("shop.clicks", ["clicks"])]
    assert TopicSetup(app, memory).ensure(consumers) == {"clicks": 3}
