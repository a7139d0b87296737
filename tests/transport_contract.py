"""The transport contract: what the worker relies on from a broker, one test per promise.

Every promise of ``faust.transport.base`` the worker, the tables and ``agent.ask()`` rest on
is a named test of :class:`TransportContract`; ``tests/test_transport.py`` runs the whole
class against each transport (the in-memory broker and the real Kafka transport on the
embedded broker), as arroyo's ``tests/backends/mixins.py`` runs one suite against its local
and Kafka backends. A transport that breaks a promise fails the test that names it.
Example::

    class TestMemoryTransport(TransportContract):
        @pytest.fixture
        def transport(self) -> Iterator[Transport]:
            yield MemoryTransport.named("contract-1")
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from faust.exceptions import TransactionFailed
from faust.transport.base import Consumer, Producer, TopicSpec, Transport
from faust.transport.partitioner import partition_for_key

_ids = itertools.count()

#: seconds any wait for the broker gives up after (a bound, never an assertion)
PATIENCE = 30.0


def fresh(prefix: str) -> str:
    """A topic or group name no other test (or earlier run) used."""
    return f"{prefix}-{next(_ids)}-{uuid.uuid4().hex[:6]}"


def ignore(partitions: list[TopicPartition]) -> None:
    return None


def consume_until(consumer: Consumer, count: int, *, max_messages: int = 500) -> list[Any]:
    """Consume until ``count`` messages arrived (or PATIENCE ran out)."""
    messages: list[Any] = []
    deadline = time.monotonic() + PATIENCE
    while len(messages) < count and time.monotonic() < deadline:
        messages += consumer.consume(max_messages, 0.2)
    return messages


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.05)


class TransportContract:
    """The promises; a subclass provides the ``transport`` fixture."""

    @pytest.fixture
    def transport(self) -> Iterator[Transport]:
        raise NotImplementedError("a subclass provides the transport")

    # -- helpers ----------------------------------------------------------------------------

    def topic(self, transport: Transport, partitions: int = 1) -> str:
        name = fresh("contract")
        transport.ensure_topics([TopicSpec(name, partitions)], 15)
        return name

    def produce(
        self, producer: Producer, topic: str, count: int, *, keyed: bool = True
    ) -> list[bytes | None]:
        keys: list[bytes | None] = [
            f"key-{i % 17}".encode() if keyed else None for i in range(count)
        ]
        for i, key in enumerate(keys):
            producer.send(topic, key, str(i).encode())
        producer.flush(PATIENCE)
        return keys

    def subscribed(
        self, transport: Transport, topic: str, group: str | None = None
    ) -> tuple[Consumer, list[TopicPartition]]:
        """A consumer of ``topic`` in ``group`` (a fresh one by default), and the list
        its ``on_assign`` callback fills."""
        assigned: list[TopicPartition] = []
        consumer = transport.consumer(group or fresh("contract-group"))
        consumer.subscribe([topic], assigned.extend, ignore)
        return consumer, assigned

    # -- topics -------------------------------------------------------------------------

    def test_ensure_topics_creates_missing_topics_and_returns_their_partitions(
        self, transport: Transport
    ) -> None:
        first, second = fresh("contract"), fresh("contract")
        specs = [TopicSpec(first, 3), TopicSpec(second, 1)]
        assert transport.ensure_topics(specs, 15) == {first: 3, second: 1}

    def test_ensure_topics_leaves_existing_topics_as_they_are(self, transport: Transport) -> None:
        topic = self.topic(transport, 3)
        assert transport.ensure_topics([TopicSpec(topic, 5)], 15) == {topic: 3}

    def test_ensure_topics_without_creating_reports_only_those_that_exist(
        self, transport: Transport
    ) -> None:
        topic, absent = self.topic(transport, 3), fresh("contract")
        specs = [TopicSpec(topic, 5), TopicSpec(absent, 2)]
        assert transport.ensure_topics(specs, 15, create=False) == {topic: 3}
        assert transport.ensure_topics(specs[1:], 15, create=False) == {}  # still absent

    # -- producing and consuming ------------------------------------------------------------

    def test_a_keyed_record_lands_in_the_murmur2_partition_of_its_key(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport, 3)
        producer = transport.producer()
        self.produce(producer, topic, 60)
        consumer, _ = self.subscribed(transport, topic)
        messages = consume_until(consumer, 60)
        assert len(messages) == 60
        for message in messages:
            assert message.partition() == partition_for_key(message.key(), 3)
        consumer.close()
        producer.close()

    def test_each_partition_is_consumed_in_order_without_gaps(self, transport: Transport) -> None:
        topic = self.topic(transport, 3)
        producer = transport.producer()
        self.produce(producer, topic, 300)
        consumer, _ = self.subscribed(transport, topic)
        messages = consume_until(consumer, 300)
        offsets: dict[int, list[int]] = {}
        values: dict[int, list[int]] = {}
        for message in messages:
            offsets.setdefault(message.partition(), []).append(message.offset())
            values.setdefault(message.partition(), []).append(int(message.value()))
        assert sum(map(len, offsets.values())) == 300
        for partition, seen in offsets.items():
            assert seen == list(range(len(seen)))
            assert values[partition] == sorted(values[partition])  # the order they were sent
        consumer.close()
        producer.close()

    def test_consume_returns_at_most_max_messages(self, transport: Transport) -> None:
        topic = self.topic(transport)
        producer = transport.producer()
        self.produce(producer, topic, 50)
        consumer, _ = self.subscribed(transport, topic)
        batches: list[list[Any]] = []
        deadline = time.monotonic() + PATIENCE
        while sum(map(len, batches)) < 50 and time.monotonic() < deadline:
            batches.append(consumer.consume(7, 0.2))
        assert sum(map(len, batches)) == 50
        assert max(map(len, batches)) <= 7
        consumer.close()
        producer.close()

    def test_headers_and_a_given_timestamp_travel_with_the_record(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport)
        producer = transport.producer()
        producer.send(topic, b"k", b"v", None, 1_700_000_000.5, [("trace", b"abc")])
        producer.flush(PATIENCE)
        consumer, _ = self.subscribed(transport, topic)
        (message,) = consume_until(consumer, 1)
        assert list(message.headers()) == [("trace", b"abc")]
        assert message.timestamp()[1] == 1_700_000_000_500
        consumer.close()
        producer.close()

    def test_a_direct_produce_sends_what_send_sends(self, transport: Transport) -> None:
        topic = self.topic(transport, 3)
        producer = transport.producer()
        produce, _retry = producer.direct()
        produce(topic, b"direct", b"key-1", headers=[("h", b"1")])
        producer.flush(PATIENCE)
        consumer, _ = self.subscribed(transport, topic)
        (message,) = consume_until(consumer, 1)
        assert (message.key(), message.value()) == (b"key-1", b"direct")
        assert message.partition() == partition_for_key(b"key-1", 3)
        assert list(message.headers()) == [("h", b"1")]
        consumer.close()
        producer.close()

    # -- groups, positions, commits ---------------------------------------------------------

    def test_a_subscriber_is_assigned_every_partition_through_on_assign(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport, 3)
        consumer, assigned = self.subscribed(transport, topic)
        deadline = time.monotonic() + PATIENCE
        while len(assigned) < 3 and time.monotonic() < deadline:
            consumer.consume(10, 0.2)
        assert sorted((tp.topic, tp.partition) for tp in assigned) == [
            (topic, 0),
            (topic, 1),
            (topic, 2),
        ]
        assert sorted(tp.partition for tp in consumer.assignment()) == [0, 1, 2]
        consumer.close()

    def test_the_position_is_the_offset_after_the_last_message_consumed(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport, 3)
        producer = transport.producer()
        self.produce(producer, topic, 120)
        consumer, _ = self.subscribed(transport, topic)
        messages = consume_until(consumer, 120)
        ends: dict[int, int] = {}
        for message in messages:
            ends[message.partition()] = message.offset() + 1
        positions = consumer.position(consumer.assignment())
        assert {tp.partition: tp.offset for tp in positions if tp.offset >= 0} == ends
        consumer.close()
        producer.close()

    def test_committed_offsets_are_read_back(self, transport: Transport) -> None:
        topic = self.topic(transport, 2)
        producer = transport.producer()
        self.produce(producer, topic, 40)
        consumer, _ = self.subscribed(transport, topic)
        consume_until(consumer, 40)
        positions = consumer.position(consumer.assignment())
        consumer.commit(positions)
        committed = consumer.committed(consumer.assignment())
        assert {tp.partition: tp.offset for tp in committed} == {
            tp.partition: tp.offset for tp in positions
        }
        consumer.close()
        producer.close()

    def test_a_new_member_of_the_group_resumes_after_the_committed_offsets(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport, 3)
        group = fresh("contract-group")
        producer = transport.producer()
        self.produce(producer, topic, 30)
        consumer, _ = self.subscribed(transport, topic, group)
        consume_until(consumer, 30)
        consumer.commit(consumer.position(consumer.assignment()))
        consumer.close()

        producer.send(topic, b"late", b"late")
        producer.flush(PATIENCE)
        resumed, _ = self.subscribed(transport, topic, group)
        later = consume_until(resumed, 1)
        later += resumed.consume(500, 0.5)  # anything else would be a replay
        assert [m.value() for m in later] == [b"late"]
        resumed.close()
        producer.close()

    def test_a_paused_partition_returns_nothing_until_resumed(self, transport: Transport) -> None:
        topic = self.topic(transport, 2)
        producer = transport.producer()
        consumer, assigned = self.subscribed(transport, topic)
        deadline = time.monotonic() + PATIENCE
        while len(assigned) < 2 and time.monotonic() < deadline:
            consumer.consume(10, 0.2)
        consumer.pause([TopicPartition(topic, 0)])
        for i in range(20):
            producer.send(topic, None, str(i).encode(), i % 2)
        producer.flush(PATIENCE)
        first = consume_until(consumer, 10)
        first += consumer.consume(500, 0.5)
        assert {m.partition() for m in first} == {1}
        assert len(first) == 10
        consumer.resume([TopicPartition(topic, 0)])
        rest = consume_until(consumer, 10)
        assert {m.partition() for m in rest} == {0}
        assert len(rest) == 10
        consumer.close()
        producer.close()

    # -- the changelog reader ---------------------------------------------------------------

    def test_the_changelog_reader_reads_to_the_end_and_reports_it(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport, 2)
        producer = transport.producer()
        for i in range(15):
            producer.send(topic, f"k{i}".encode(), b"x", i % 2)
            producer.flush(PATIENCE)  # one record a batch: see the README on Tansu's ends
        reader = transport.changelog_reader()
        reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in (0, 1)])
        records: list[Any] = []
        ends: dict[int, int] = {}
        deadline = time.monotonic() + PATIENCE
        while len(ends) < 2 and time.monotonic() < deadline:
            batch = reader.read(100, 0.2)
            records += batch.records
            ends.update({partition: end for _, partition, end in batch.eof})
        assert ends == {0: 8, 1: 7}
        assert len(records) == 15
        assert reader.high_watermark(topic, 0) == 8
        reader.close()
        producer.close()

    def test_the_changelog_reader_starts_at_the_offset_it_is_assigned(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport)
        producer = transport.producer()
        for i in range(6):
            producer.send(topic, f"k{i}".encode(), str(i).encode(), 0)
            producer.flush(PATIENCE)
        reader = transport.changelog_reader()
        reader.assign([TopicPartition(topic, 0, 4)])
        records: list[Any] = []
        reached: list[tuple[str, int, int]] = []
        deadline = time.monotonic() + PATIENCE
        while not reached and time.monotonic() < deadline:
            batch = reader.read(100, 0.2)
            records += batch.records
            reached += batch.eof
        assert [m.value() for m in records] == [b"4", b"5"]
        assert reached == [(topic, 0, 6)]
        reader.close()
        producer.close()

    # -- delivery reports -------------------------------------------------------------------

    def test_tracked_sends_report_the_offset_of_the_last_delivered_record(
        self, transport: Transport
    ) -> None:
        topic = self.topic(transport, 2)
        producer = transport.producer(track_deliveries=True)
        for i in range(5):
            producer.send_tracked(topic, f"k{i}".encode(), b"x", 0)
        producer.send_tracked(topic, b"other", b"x", 1)
        producer.flush(PATIENCE)
        assert producer.take_delivered_offsets() == {(topic, 0): 4, (topic, 1): 0}
        assert producer.take_delivered_offsets() == {}  # each report is taken once
        producer.close()

    def test_a_tracked_run_lands_in_order_and_reports_its_last_offset(
        self, transport: Transport
    ) -> None:
        """A commit's changelog records of one partition: all of them, in order, the
        headers on the last one only, and the offset of the last one reported."""
        topic = self.topic(transport, 2)
        producer = transport.producer(track_deliveries=True)
        producer.send_tracked(topic, b"before", b"x", 0)
        records: list[tuple[bytes, bytes | None]] = [(f"k{i}".encode(), b"v") for i in range(4)]
        records.append((b"gone", None))
        # a generator, as the commit hands it (each record queued as the next one comes)
        producer.send_tracked_run(topic, 0, (record for record in records), [("h", b"1")])
        producer.send_tracked_run(topic, 1, [], [("h", b"2")])  # nothing: nothing sent
        producer.flush(PATIENCE)
        assert producer.take_delivered_offsets() == {(topic, 0): 5}
        producer.close()
        reader = transport.changelog_reader()
        reader.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        found: list[Any] = []
        deadline = time.monotonic() + PATIENCE
        while len(found) < 6 and time.monotonic() < deadline:
            found += reader.read(100, 0.2).records
        assert [(m.key(), m.value(), list(m.headers() or [])) for m in found] == [
            (b"before", b"x", []),
            *[(key, value, []) for key, value in records[:-1]],
            (b"gone", None, [("h", b"1")]),
        ]
        reader.close()

    def test_only_tracked_sends_learn_offsets_and_every_record_lands_in_order(
        self, transport: Transport
    ) -> None:
        """A producer whose success reports are for its tracked sends only (a worker with
        tables, no ``callback=``): the tracked run's offset is reported, and the plain sends
        and the direct produce land, each topic's records in the order they were sent."""
        changelog, out = self.topic(transport, 2), self.topic(transport, 2)
        producer = transport.producer(track_deliveries=True, tracked_only=True)
        produce, _retry = producer.direct()
        for i in range(3):
            produce(out, f"d{i}".encode(), b"k")
            producer.send(out, b"k", f"s{i}".encode())
        producer.send_tracked_run(changelog, 1, [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
        producer.send_tracked(changelog, b"x", b"4", 0)
        producer.flush(PATIENCE)
        assert producer.take_delivered_offsets() == {(changelog, 1): 2, (changelog, 0): 0}
        consumer, _ = self.subscribed(transport, out)
        found = consume_until(consumer, 6)
        assert [m.value() for m in found] == [b"d0", b"s0", b"d1", b"s1", b"d2", b"s2"]
        consumer.close()
        producer.close()

    def test_a_reported_send_is_reported_once_with_where_it_landed(
        self, transport: Transport
    ) -> None:
        """``Topic.send(callback=)``: with success reports the offset and partition the
        broker gave; without them (no table, no callback= seen) after the flush, offset -1."""
        topic = self.topic(transport, 2)
        reports: list[tuple[str, int, int]] = []

        def report(where: str, partition: int, offset: int, timestamp_ms: int | None) -> None:
            assert timestamp_ms is None or timestamp_ms > 0
            reports.append((where, partition, offset))

        producer = transport.producer(track_deliveries=True)
        producer.send(topic, b"k", b"plain", 1, None, None)
        producer.send_reported(topic, b"k", b"a", 1, None, None, report)
        producer.send_reported(topic, b"k", b"b", 0, 1_700_000_000.0, [("h", b"1")], report)
        producer.flush(PATIENCE)
        assert sorted(reports) == [(topic, 0, 0), (topic, 1, 1)]
        producer.poll()
        assert len(reports) == 2  # once each
        producer.close()
        unreporting = transport.producer()
        unreporting.send_reported(topic, None, b"c", 0, None, None, report)
        unreporting.flush(PATIENCE)
        assert len(reports) == 3 and reports[2][:2] == (topic, 0)
        unreporting.close()

    # -- transactions -----------------------------------------------------------------------

    def test_a_transaction_publishes_its_records_and_commits_its_offsets(
        self, transport: Transport
    ) -> None:
        source, sink = self.topic(transport), self.topic(transport)
        plain = transport.producer()
        self.produce(plain, source, 5)
        group = fresh("contract-group")
        consumer, _ = self.subscribed(transport, source, group)
        consume_until(consumer, 5)
        producer = transport.producer(transactional_id=fresh("contract-tx"))
        producer.init_transactions(PATIENCE)
        producer.begin_transaction()
        producer.send(sink, b"k", b"out")
        offsets = consumer.position(consumer.assignment())
        producer.commit_transaction(offsets, consumer.group_metadata(), PATIENCE)
        committed = consumer.committed(consumer.assignment())
        assert [(tp.partition, tp.offset) for tp in committed] == [(0, 5)]
        reader, _ = self.subscribed(transport, sink)
        assert [m.value() for m in consume_until(reader, 1)] == [b"out"]
        for client in (reader, consumer, producer, plain):
            client.close()

    def test_a_newer_producer_with_the_same_transactional_id_fences_the_older(
        self, transport: Transport
    ) -> None:
        sink = self.topic(transport)
        producer_id = fresh("contract-tx")
        older = transport.producer(transactional_id=producer_id)
        older.init_transactions(PATIENCE)
        older.begin_transaction()
        newer = transport.producer(transactional_id=producer_id)
        newer.init_transactions(PATIENCE)
        with pytest.raises(TransactionFailed):  # at the send, or at the latest the commit
            older.send(sink, b"k", b"from the older")
            older.commit_transaction([], None, PATIENCE)
        newer.close()

    # -- replies ------------------------------------------------------------------------

    def test_a_reply_consumer_reads_from_the_end(self, transport: Transport) -> None:
        topic = self.topic(transport)
        producer = transport.producer()
        for i in range(3):
            producer.send(topic, None, f"before-{i}".encode(), 0)
            producer.flush(PATIENCE)  # one record a batch: see the README on Tansu's ends
        assigned: list[TopicPartition] = []
        replies = transport.reply_consumer(fresh("contract-reply"))
        replies.subscribe([topic], assigned.extend, ignore)
        early: list[Any] = []
        wait_for(lambda: assigned or early.extend(replies.consume(10, 0.1)), "an assignment")
        # librdkafka looks the end up after the assignment: let it, before sending
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            early += replies.consume(10, 0.1)
        producer.send(topic, None, b"after", 0)
        producer.flush(PATIENCE)
        seen = consume_until(replies, 1)
        seen += replies.consume(100, 0.5)
        assert [m.value() for m in early + seen] == [b"after"]
        replies.close()
        producer.close()
