"""The Kafka transport: confluent-kafka (librdkafka) consumer, producer and admin client.

Choices made here, each one what a Kafka Streams engineer would expect:

- keys are partitioned with ``murmur2_random`` (the Java client's partitioner), so a key
  goes where Kafka Streams, Faust or any Java producer would put it;
- the producer is idempotent (no duplicates or reordering from its own retries) and reports
  only failed deliveries, so a healthy send costs no Python callback; apps with tables turn
  on success reports (``delivery.report.only.error=false``) because a table stores the
  offset of its last changelog record (``send_tracked``);
- with a ``transactional.id`` the producer runs Kafka transactions (exactly-once): a failed
  or fenced transaction raises TransactionFailed;
- the consumer never commits on its own; the worker commits after outputs are flushed;
- the changelog reader finds a partition's end from fetch responses (partition EOF and the
  cached high watermark), never from ListOffsets, which some brokers under-report;
- librdkafka's log lines go to the ``faust.librdkafka`` Python logger.

Example::

    transport = KafkaTransport("kafka://127.0.0.1:9092")
    transport.check_connection(timeout=5.0)
"""

from __future__ import annotations

import logging
import time
from typing import Any

from confluent_kafka import Consumer as _ConfluentConsumer
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka import Producer as _ConfluentProducer
from confluent_kafka.admin import AdminClient

# NewTopic is documented as confluent_kafka.admin.NewTopic, which re-exports it without
# marking it public; import it from where it is defined so mypy --strict sees it.
from confluent_kafka.cimpl import NewTopic

from faust.events import TransportMessage
from faust.exceptions import (
    BrokerUnavailable,
    DeliveryError,
    ImproperlyConfigured,
    TransactionFailed,
)
from faust.settings import parse_broker_url
from faust.transport.base import ChangelogBatch, DirectProduce, Rebalance, TopicSpec

librdkafka_logger = logging.getLogger("faust.librdkafka")

#: a newer producer with the same transactional id took over
_FENCED = (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)
#: records librdkafka dropped because an earlier failure ended the transaction
_PURGED = (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT)
log = logging.getLogger("faust.transport")


class KafkaTransport:
    """A Kafka cluster reached through its bootstrap servers."""

    def __init__(self, broker_url: str) -> None:
        self.servers = ",".join(parse_broker_url(broker_url))
        self.description = f"kafka://{self.servers}"

    def _admin(self) -> AdminClient:
        config: dict[str, Any] = {"bootstrap.servers": self.servers, "logger": librdkafka_logger}
        return AdminClient(config)

    def check_connection(self, timeout: float) -> None:
        # librdkafka logs every refused connection; they say nothing the error below doesn't.
        previous = librdkafka_logger.level
        librdkafka_logger.setLevel(logging.CRITICAL)
        try:
            self._admin().list_topics(timeout=timeout)
        except KafkaException as exc:
            reason = exc.args[0].str() if exc.args else str(exc)
            raise BrokerUnavailable(
                f"cannot reach the Kafka broker at {self.servers} within {timeout:g}s ({reason})"
            ) from None
        finally:
            librdkafka_logger.setLevel(previous)

    def ensure_topics(self, specs: list[TopicSpec], timeout: float) -> dict[str, int]:
        admin = self._admin()
        existing = admin.list_topics(timeout=timeout).topics
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            futures = admin.create_topics(
                [
                    NewTopic(
                        spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=spec.replicas,
                        config=dict(spec.config),
                    )
                    for spec in missing
                ],
                operation_timeout=timeout,
            )
            for name, future in futures.items():
                try:
                    future.result()
                    log.info("created topic %s", name)
                except KafkaException as exc:
                    if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise ImproperlyConfigured(
                            f"cannot create topic {name!r}: {exc.args[0].str()}"
                        ) from None
        # A consumer that subscribes before the broker's metadata shows a topic gets no
        # assignment until its next metadata refresh (minutes): wait until all are visible.
        deadline = time.monotonic() + timeout
        wanted = {spec.name for spec in specs}
        while True:
            topics = admin.list_topics(timeout=timeout).topics
            ready = {
                name: len(topics[name].partitions)
                for name in wanted
                if name in topics and topics[name].error is None and topics[name].partitions
            }
            if len(ready) == len(wanted):
                return ready
            if time.monotonic() > deadline:
                absent = ", ".join(sorted(wanted - set(ready)))
                raise BrokerUnavailable(f"topics not visible in broker metadata: {absent}")
            time.sleep(0.1)

    def consumer(self, group_id: str, config: dict[str, object]) -> KafkaConsumer:
        settings: dict[str, Any] = {
            "bootstrap.servers": self.servers,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "logger": librdkafka_logger,
        }
        settings.update(config)
        return KafkaConsumer(_ConfluentConsumer(settings))

    def producer(self, config: dict[str, object]) -> KafkaProducer:
        settings: dict[str, Any] = {
            "bootstrap.servers": self.servers,
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
            "delivery.report.only.error": True,
            "logger": librdkafka_logger,
        }
        settings.update(config)
        return KafkaProducer(settings)

    def changelog_reader(self, config: dict[str, object]) -> KafkaChangelogReader:
        settings: dict[str, Any] = {
            "bootstrap.servers": self.servers,
            # required by librdkafka; the reader is assigned partitions and never commits
            "group.id": "faust-changelog-reader",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "error",
            "isolation.level": "read_committed",
            # an empty or caught-up partition answers at once (EOF) instead of after 500 ms
            "fetch.wait.max.ms": 10,
            "logger": librdkafka_logger,
        }
        settings.update(config)
        return KafkaChangelogReader(_ConfluentConsumer(settings))


_message_error = Message.error


class KafkaConsumer:
    """confluent-kafka's Consumer with the worker's batch-consume contract."""

    def __init__(self, consumer: _ConfluentConsumer) -> None:
        self._consumer = consumer

    def subscribe(self, topics: list[str], on_assign: Rebalance, on_revoke: Rebalance) -> None:
        def assigned(consumer: _ConfluentConsumer, partitions: list[TopicPartition]) -> None:
            # Take the assignment before the worker's callback, so it can pause partitions
            # (tables recovering) before any of their messages is fetched.
            consumer.assign(partitions)
            on_assign(partitions)

        self._consumer.subscribe(
            topics,
            on_assign=assigned,
            on_revoke=lambda _consumer, partitions: on_revoke(partitions),
        )

    def consume(self, max_messages: int, timeout: float) -> list[TransportMessage]:
        # consume(n, t) waits until n messages or t seconds; to keep latency low, take what
        # is buffered, else block only for the first message and then drain the rest.
        messages: list[Any] = self._consumer.consume(max_messages, 0)
        if not messages:
            first = self._consumer.poll(timeout)
            if first is None:
                return []
            messages = [first, *self._consumer.consume(max_messages - 1, 0)]
        # error events are rare: find them at C speed (a KafkaError is always true)
        if any(map(_message_error, messages)):
            messages = self._without_errors(messages)
        return messages

    @staticmethod
    def _without_errors(messages: list[TransportMessage]) -> list[TransportMessage]:
        """Drop error events from a batch: log the transient ones, raise on fatal ones."""
        kept = []
        for message in messages:
            error = message.error()
            if error is None:
                kept.append(message)
            elif error.fatal():
                raise KafkaException(error)
            elif error.code() != KafkaError._PARTITION_EOF:
                log.warning("consumer error: %s", error.str())
        return kept

    def assignment(self) -> list[TopicPartition]:
        result: list[TopicPartition] = self._consumer.assignment()
        return result

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        result: list[TopicPartition] = self._consumer.position(partitions)
        return result

    def committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        result: list[TopicPartition] = self._consumer.committed(partitions, timeout=10)
        return result

    def commit(self, offsets: list[TopicPartition]) -> None:
        self._consumer.commit(offsets=offsets, asynchronous=False)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._consumer.pause(partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._consumer.resume(partitions)

    def group_metadata(self) -> Any:
        return self._consumer.consumer_group_metadata()

    def close(self) -> None:
        self._consumer.close()


class KafkaChangelogReader:
    """Reads assigned changelog partitions; reports where each one ends."""

    def __init__(self, consumer: _ConfluentConsumer) -> None:
        self._consumer = consumer
        #: start offsets of partitions that have returned neither a record nor EOF yet
        self._unconfirmed: dict[tuple[str, int], int] = {}

    def assign(self, partitions: list[TopicPartition]) -> None:
        self._consumer.incremental_assign(partitions)
        for tp in partitions:
            if tp.offset >= 0:
                self._unconfirmed[(tp.topic, tp.partition)] = tp.offset

    def unassign(self, partitions: list[TopicPartition]) -> None:
        self._consumer.incremental_unassign(
            [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        )
        for tp in partitions:
            self._unconfirmed.pop((tp.topic, tp.partition), None)

    def read(self, max_records: int, timeout: float) -> ChangelogBatch:
        messages: list[Any] = self._consumer.consume(max_records, timeout)
        records: list[TransportMessage] = []
        eof: list[tuple[str, int, int]] = []
        out_of_range: list[tuple[str, int]] = []
        unconfirmed = self._unconfirmed
        for message in messages:
            error = message.error()
            if error is None:
                records.append(message)
                if unconfirmed:
                    unconfirmed.pop((message.topic(), message.partition()), None)
                continue
            code = error.code()
            where = (message.topic() or "", message.partition() or 0)
            if code == KafkaError._PARTITION_EOF:
                eof.append((*where, message.offset() or 0))
                unconfirmed.pop(where, None)
            elif code in (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE):
                out_of_range.append(where)
                unconfirmed.pop(where, None)
            elif error.fatal():
                raise KafkaException(error)
            else:
                log.warning("changelog reader: %s", error.str())
        # A broker may answer a fetch past the end with an empty response instead of
        # OFFSET_OUT_OF_RANGE (Tansu does): such a partition never reaches EOF. Compare the
        # start offset with the end reported by the fetch responses instead.
        for where, start in list(unconfirmed.items()):
            end = self.high_watermark(*where)
            if end is not None and start > end:
                out_of_range.append(where)
                del unconfirmed[where]
        return ChangelogBatch(records, eof, out_of_range)

    def high_watermark(self, topic: str, partition: int) -> int | None:
        _, high = self._consumer.get_watermark_offsets(
            TopicPartition(topic, partition), cached=True
        )
        return high if high is not None and high >= 0 else None

    def close(self) -> None:
        self._consumer.close()


class KafkaProducer:
    """confluent-kafka's Producer; failed deliveries are collected and raised on flush."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._failures: list[str] = []
        self._delivered: dict[tuple[str, int], int] = {}
        #: a newer producer with our transactional id took over (nothing can commit now)
        self.fenced = False
        config = dict(config)
        config["on_delivery"] = self._on_delivery
        #: success reports are on: tracked sends learn their offsets
        self.tracking = str(config.get("delivery.report.only.error", False)).lower() in (
            "false",
            "0",
        )
        self.transactional = "transactional.id" in config
        self._producer = _ConfluentProducer(config)
        self._produce = self._producer.produce

    def _on_delivery(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._failed(error, message)

    def _failed(self, error: KafkaError, message: Any) -> None:
        code = error.code()
        reason = error.str()
        if code in _FENCED or "fences the current one" in reason:
            self.fenced = True
        try:
            where = f"{message.topic()}[{message.partition()}]"
        except Exception:  # confluent-kafka may hand over a message it could not build
            where = "a record"
        failure = f"{where}: {reason}"
        if code in _PURGED:
            self._failures.append(failure)  # a consequence: report the cause first
        else:
            self._failures.insert(0, failure)

    def _on_tracked_delivery(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._failed(error, message)
            return
        try:
            where = (message.topic(), message.partition())
            offset = message.offset()
        except Exception as exc:  # never let a report break the producer's other reports
            self._failures.append(f"unreadable delivery report: {exc!r}")
            return
        if offset > self._delivered.get(where, -1):
            self._delivered[where] = offset

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        while True:
            try:
                if partition is None and timestamp is None and headers is None:
                    self._produce(topic, value, key)
                else:
                    self._produce(
                        topic,
                        value,
                        key,
                        partition=-1 if partition is None else partition,
                        timestamp=0 if timestamp is None else int(timestamp * 1000),
                        headers=headers,  # type: ignore[arg-type]  # list is accepted
                    )
                return
            except BufferError:
                # librdkafka's queue is full: let deliveries drain, then try again.
                self._producer.poll(0.05)
            except KafkaException as exc:
                # the producer itself failed (fenced, fatal): no error policy may skip that
                raise DeliveryError(f"cannot produce to {topic}: {exc}") from None

    def direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        # confluent-kafka's produce raises BufferError on a full queue and KafkaException
        # when the producer failed; send() handles both
        return self._produce, (BufferError, KafkaException)

    def send_tracked(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int
    ) -> None:
        if not self.tracking:
            raise ImproperlyConfigured(
                "send_tracked needs a producer with delivery.report.only.error=false"
            )
        while True:
            try:
                self._produce(
                    topic, value, key, partition=partition, on_delivery=self._on_tracked_delivery
                )
                return
            except BufferError:
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise DeliveryError(f"cannot produce to {topic}: {exc}") from None

    def take_delivered_offsets(self) -> dict[tuple[str, int], int]:
        delivered, self._delivered = self._delivered, {}
        return delivered

    def poll(self) -> None:
        self._producer.poll(0)

    def flush(self, timeout: float) -> None:
        try:
            remaining = self._producer.flush(timeout)
        except Exception as exc:  # a delivery report could not be served
            self._failures.insert(0, f"the producer failed while flushing: {exc!r}")
            remaining = 0
        if self._failures:  # sticky: once a record is lost, no later flush may succeed
            raise DeliveryError(
                f"{len(self._failures)} record(s) were not delivered, first: {self._failures[0]}"
            )
        if remaining:
            raise DeliveryError(f"{remaining} record(s) still unacknowledged after {timeout:g}s")

    # -- transactions --------------------------------------------------------------------

    def init_transactions(self, timeout: float) -> None:
        self._transaction_call("initialise transactions", self._producer.init_transactions, timeout)

    def begin_transaction(self) -> None:
        self._transaction_call("begin a transaction", self._producer.begin_transaction)

    def commit_transaction(
        self, offsets: list[TopicPartition], group_metadata: Any, timeout: float
    ) -> None:
        try:
            self.flush(timeout)
        except DeliveryError as exc:
            raise TransactionFailed(
                f"cannot commit the transaction: {exc}{self._fenced_note()}"
            ) from None
        if offsets:
            self._transaction_call(
                "add offsets to the transaction",
                self._producer.send_offsets_to_transaction,
                offsets,
                group_metadata,
                timeout,
            )
        self._transaction_call("commit the transaction", self._producer.commit_transaction, timeout)

    def abort_transaction(self, timeout: float) -> None:
        if self.fenced:
            return  # the newer producer's init_transactions aborted it already
        self._transaction_call(
            "abort the transaction", self._producer.abort_transaction, timeout, attempts=1
        )

    def _fenced_note(self) -> str:
        return " (a newer worker with the same transactional id took over)" if self.fenced else ""

    def _transaction_call(self, what: str, call: Any, *args: Any, attempts: int = 3) -> None:
        """Call, retrying what librdkafka says is retriable; raise TransactionFailed."""
        while True:
            try:
                call(*args)
                return
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                if isinstance(error, KafkaError) and error.retriable() and attempts > 1:
                    attempts -= 1
                    log.warning("could not %s (%s); retrying", what, error.str())
                    continue
                reason = error.str() if isinstance(error, KafkaError) else str(exc)
                if isinstance(error, KafkaError) and error.code() in _FENCED:
                    self.fenced = True
                raise TransactionFailed(
                    f"could not {what}: {reason}{self._fenced_note()}"
                ) from None

    def close(self) -> None:
        self._producer.flush(5.0)
