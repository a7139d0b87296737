"""The Kafka transport: confluent-kafka (librdkafka) consumer, producer and admin client.

Choices made here, each one what a Kafka Streams engineer would expect:

- keys are partitioned with ``murmur2_random`` (the Java client's partitioner), so a key
  goes where Kafka Streams, Faust or any Java producer would put it;
- the producer is idempotent (no duplicates or reordering from its own retries) and reports
  only failed deliveries, so a healthy send costs no Python callback;
- the consumer never commits on its own; the worker commits after outputs are flushed;
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
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka import Producer as _ConfluentProducer
from confluent_kafka.admin import AdminClient

# NewTopic is documented as confluent_kafka.admin.NewTopic, which re-exports it without
# marking it public; import it from where it is defined so mypy --strict sees it.
from confluent_kafka.cimpl import NewTopic

from faust.events import TransportMessage
from faust.exceptions import BrokerUnavailable, DeliveryError, ImproperlyConfigured
from faust.settings import parse_broker_url
from faust.transport.base import Rebalance, TopicSpec

librdkafka_logger = logging.getLogger("faust.librdkafka")
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


class KafkaConsumer:
    """confluent-kafka's Consumer with the worker's batch-consume contract."""

    def __init__(self, consumer: _ConfluentConsumer) -> None:
        self._consumer = consumer

    def subscribe(self, topics: list[str], on_assign: Rebalance, on_revoke: Rebalance) -> None:
        self._consumer.subscribe(
            topics,
            on_assign=lambda _consumer, partitions: on_assign(partitions),
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
        if any(message.error() is not None for message in messages):
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

    def close(self) -> None:
        self._consumer.close()


class KafkaProducer:
    """confluent-kafka's Producer; failed deliveries are collected and raised on flush."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._failures: list[str] = []
        config = dict(config)
        config["on_delivery"] = self._on_delivery
        self._producer = _ConfluentProducer(config)
        self._produce = self._producer.produce

    def _on_delivery(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}[{message.partition()}]: {error.str()}")

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

    def poll(self) -> None:
        self._producer.poll(0)

    def flush(self, timeout: float) -> None:
        remaining = self._producer.flush(timeout)
        if self._failures:  # sticky: once a record is lost, no later flush may succeed
            raise DeliveryError(
                f"{len(self._failures)} record(s) were not delivered, first: {self._failures[0]}"
            )
        if remaining:
            raise DeliveryError(f"{remaining} record(s) still unacknowledged after {timeout:g}s")

    def close(self) -> None:
        self._producer.flush(5.0)
