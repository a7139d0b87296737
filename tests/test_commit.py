"""The commit protocol (``faust.worker.commit``) on the memory transport: when a commit is
due, what it commits, and what a failure leaves committed, under both guarantees."""

from __future__ import annotations

import itertools
from typing import Any

from clocks import HandClock
from confluent_kafka import TopicPartition

from faust.settings import Settings
from faust.transport.base import TopicSpec
from faust.transport.memory import MemoryConsumer, MemoryTransport
from faust.worker.commit import AtLeastOnce, ExactlyOnce, commit_protocol

_ids = itertools.count()


def setup(
    guarantee: str = "at_least_once", **settings: Any
) -> tuple[MemoryTransport, MemoryConsumer, HandClock, Settings]:
    """Ten messages on two partitions of ``in``, and a consumer subscribed to them."""
    transport = MemoryTransport.named(f"commit-{next(_ids)}")
    transport.ensure_topics([TopicSpec("in", 2), TopicSpec("out", 1)], 1)
    producer = transport.producer()
    for i in range(10):
        producer.send("in", None, str(i).encode(), i % 2)
    consumer = transport.consumer("commit-test")
    consumer.subscribe(["in"], lambda partitions: None, lambda partitions: None)
    conf = Settings.from_app_kwargs(
        "commit-test", "memory://", {"processing_guarantee": guarantee, **settings}
    )
    return transport, consumer, HandClock(100.0), conf


def committed(consumer: MemoryConsumer) -> dict[int, int]:
    found = consumer.committed([TopicPartition("in", 0), TopicPartition("in", 1)])
    return {tp.partition: tp.offset for tp in found if tp.offset >= 0}


def test_a_commit_is_due_after_commit_every_messages_or_the_interval() -> None:
    transport, consumer, clock, conf = setup(broker_commit_every=5, broker_commit_interval=2.0)
    commits = commit_protocol(conf, transport.producer(), clock=clock)
    assert isinstance(commits, AtLeastOnce)
    commits.attach(consumer, tables=None, held=dict)
    assert not commits.due()
    commits.count(5)
    assert commits.due()
    commits.commit()
    commits.count(1)
    assert not commits.due()
    clock.now += 2.0
    assert commits.due()
    commits.commit()
    clock.now += 2.0
    assert not commits.due()  # nothing processed since: nothing to commit


def test_a_commit_stops_below_what_streams_hold_and_commits_again_once_released() -> None:
    transport, consumer, clock, conf = setup()
    commits = commit_protocol(conf, transport.producer(), clock=clock)
    held = {("in", 1): 2}
    commits.attach(consumer, tables=None, held=lambda: held)
    consumer.consume(100, 0)
    commits.count(10)
    commits.commit()
    assert committed(consumer) == {0: 5, 1: 2}
    held.clear()
    clock.now += 10
    assert commits.due()  # nothing new was processed, but the last commit was held back
    commits.commit()
    assert committed(consumer) == {0: 5, 1: 5}
    clock.now += 10
    assert not commits.due()


def test_after_a_failure_at_least_once_commits_up_to_the_failed_batch() -> None:
    transport, consumer, clock, conf = setup()
    commits = commit_protocol(conf, transport.producer(), clock=clock)
    commits.attach(consumer, tables=None, held=dict)
    batch = consumer.consume(100, 0)
    failed = [m for m in batch if m.offset() >= 3]  # the batch from offset 3 on failed
    commits.abandon(failed)
    assert committed(consumer) == {0: 3, 1: 3}


def test_exactly_once_publishes_outputs_and_offsets_together() -> None:
    transport, consumer, clock, conf = setup("exactly_once")
    producer = transport.producer(transactional_id="commit-test-w1")
    commits = commit_protocol(conf, producer, clock=clock)
    assert isinstance(commits, ExactlyOnce)
    commits.begin()
    commits.attach(consumer, tables=None, held=dict)
    consumer.consume(100, 0)
    producer.send("out", None, b"result")
    assert transport.broker.records("out") == []  # inside the open transaction
    clock.now += 1.0
    assert commits.due()  # at every interval under exactly-once, even with nothing counted
    commits.commit()
    assert [m.value() for m in transport.broker.records("out")] == [b"result"]
    assert committed(consumer) == {0: 5, 1: 5}


def test_after_a_failure_exactly_once_aborts_the_open_transaction() -> None:
    transport, consumer, clock, conf = setup("exactly_once")
    producer = transport.producer(transactional_id="commit-test-w2")
    commits = commit_protocol(conf, producer, clock=clock)
    commits.begin()
    commits.attach(consumer, tables=None, held=dict)
    batch = consumer.consume(100, 0)
    producer.send("out", None, b"never published")
    commits.abandon(batch)
    assert transport.broker.records("out") == []
    assert committed(consumer) == {}
