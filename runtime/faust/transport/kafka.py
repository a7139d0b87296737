"""The Kafka transport: confluent-kafka (librdkafka) consumer, producer and admin client.

Choices made here, each one what a Kafka Streams engineer would expect:

- every client's configuration comes from ``client_config.ClientConfigs`` (credentials,
  TLS, client ids, pass-through settings), and every client is created by this module;
- keys are partitioned with ``murmur2_random`` (the Java client's partitioner), so a key
  goes where Kafka Streams, Faust or any Java producer would put it;
- the producer is idempotent (no duplicates or reordering from its own retries) and reports
  only failed deliveries, so a healthy send costs no Python callback; apps with tables turn
  on success reports because a table stores the offset of its last changelog record
  (``send_tracked``), and librdkafka then reports every record's success: when nothing
  else needs them (``tracked_only``, no transaction) the other sends go to a second client
  of its own that reports failures only (created at the first such send), so a record a
  ``group_by`` or an agent sends costs no success report either;
- with a ``transactional.id`` the producer runs Kafka transactions (exactly-once): a failed
  or fenced transaction raises TransactionFailed;
- the consumer never commits on its own; the worker commits after outputs are flushed;
- the changelog reader finds a partition's end from fetch responses (partition EOF and the
  cached high watermark), never from ListOffsets, which some brokers under-report;
- refused credentials, a failed TLS handshake or a SASL mechanism the brokers do not offer
  stop the worker with one line (:class:`ConnectionErrors`), while a broker that is merely
  slow or down is waited for (``broker_connect_timeout`` at start-up);
- an ACL that denies the app a topic or its group stops the worker (NotAuthorized);
- librdkafka's log lines go to the ``faust.librdkafka`` Python logger.

Example::

    transport = KafkaTransport(app.conf)
    transport.check_connection(timeout=5.0)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition
from confluent_kafka import admin as confluent_admin
from confluent_kafka.admin._config import ConfigResource  # (same: admin re-exports it)

# NewTopic is documented as confluent_kafka.admin.NewTopic, which re-exports it without
# marking it public; import it from where it is defined so mypy --strict sees it.
from confluent_kafka.cimpl import NewTopic

from faust.delivery import DeliveryFailure, DeliveryReport
from faust.events import TransportMessage
from faust.exceptions import (
    AssignmentLost,
    BrokerUnavailable,
    CredentialsRefused,
    DeliveryError,
    ImproperlyConfigured,
    NotAuthorized,
    TransactionFailed,
)
from faust.settings import Settings
from faust.transport.base import ChangelogBatch, DirectProduce, Rebalance, TopicSpec
from faust.transport.client_config import ClientConfig, ClientConfigs, scrub

librdkafka_logger = logging.getLogger("faust.librdkafka")

#: a newer producer with the same transactional id took over
_FENCED = (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)
#: records librdkafka dropped because an earlier failure ended the transaction
_PURGED = (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT)
#: the group refused a commit because this member is no longer part of the generation that
#: owns the partitions: the assignment is lost (faust.exceptions.AssignmentLost)
_LEFT_THE_GROUP = (
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.FENCED_INSTANCE_ID,
    KafkaError.FENCED_MEMBER_EPOCH,
    KafkaError.STALE_MEMBER_EPOCH,
    KafkaError._ASSIGNMENT_LOST,
)
#: the cluster's ACLs deny an operation: retrying cannot help
_NOT_AUTHORIZED = (
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
)
log = logging.getLogger("faust.transport")
#: seconds between the lines that say the worker still waits for an unreachable broker
CONNECT_PROGRESS_EVERY = 3.0


class ConnectionErrors:
    """The ``error_cb`` of every client: tells refusals from trouble that may pass.

    A refusal (the brokers reject the credentials, the TLS handshake fails, the SASL
    mechanism is not offered) that repeats on ``REPEATS`` consecutive connection attempts is
    recorded, and librdkafka's log, which would repeat it many times a second, is silenced;
    :meth:`check`, called by every wrapper after a client call that serves callbacks
    (consume, poll, flush, metadata), raises CredentialsRefused from then on. One refusal
    between connection failures is a broker restarting, not a refusal; a broker that is slow
    or down only ever produces timeouts and transport errors, never a refusal.

    The callback itself never raises: an exception raised inside a librdkafka callback is
    kept by confluent-kafka, and its traceback keeps the frames, and the clients in them,
    alive until the interpreter exits, where a client destroyed after OpenSSL's own clean-up
    crashes the process (seen: SIGSEGV in a SCRAM handshake after the exit status was set).
    """

    REFUSALS = (
        KafkaError._AUTHENTICATION,
        KafkaError._SSL,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError.UNSUPPORTED_SASL_MECHANISM,
        KafkaError.ILLEGAL_SASL_STATE,
    )
    REPEATS = 3

    def __init__(self, describe: Any) -> None:
        #: what the message says was asked for (mechanism, user, TLS), never a secret
        self.describe = describe
        #: why the brokers refuse us, once they have
        self.refusal: str | None = None
        #: set while the worker closes its clients: a refusal has been reported by then
        self.closing = False
        self._repeated = 0

    def on_error(self, error: KafkaError) -> None:
        code = error.code()
        if code in self.REFUSALS:
            self._repeated += 1
            if self._repeated >= self.REPEATS and self.refusal is None:
                self.refusal = self._message(error)
                librdkafka_logger.setLevel(logging.CRITICAL)
        elif code != KafkaError._ALL_BROKERS_DOWN:
            text = error.str()
            if "SSL" not in text and "SASL" not in text:
                self._repeated = 0  # the broker is down or restarting, not refusing
            log.debug("client error: %s", text)

    def check(self) -> None:
        """Raise CredentialsRefused once the brokers have refused us (until the worker
        closes its clients: by then the refusal has been reported)."""
        if self.refusal is not None and not self.closing:
            raise CredentialsRefused(self.refusal)

    def _message(self, error: KafkaError) -> str:
        reason = error.str()
        if error.code() == KafkaError._SSL:
            return (
                f"TLS handshake with the broker failed: {reason} "
                f"[{self.describe()}; check the CA certificates and the broker's host name]"
            )
        return f"authentication with the broker failed: {reason} [{self.describe()}]"


class KafkaTransport:
    """A Kafka cluster reached through its bootstrap servers, with the App's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.errors = ConnectionErrors(self._describe_security)
        self.configs = ClientConfigs(
            settings, error_cb=self.errors.on_error, logger=librdkafka_logger
        )
        self.servers = ",".join(settings.broker_servers)
        self.description = f"kafka://{self.servers}"
        self._admin_client: confluent_admin.AdminClient | None = None

    def _describe_security(self) -> str:
        security = self.configs.security
        parts = [security.get("security.protocol", "PLAINTEXT")]
        if "sasl.mechanism" in security:
            parts.append(f"SASL {security['sasl.mechanism']}")
        if "sasl.username" in security:
            parts.append(f"user {security['sasl.username']!r}")
        return ", ".join(parts)

    # -- creating clients (the only place that does) ----------------------------------------

    def _create(self, factory: Any, config: ClientConfig) -> Any:
        try:
            return factory(dict(config))
        except KafkaException as exc:
            reason = exc.args[0].str() if exc.args else str(exc)
            raise ImproperlyConfigured(
                f"cannot create the Kafka {config.kind} client: {scrub(reason, config)}"
            ) from None

    def _admin(self) -> confluent_admin.AdminClient:
        if self._admin_client is None:
            self._admin_client = self._create(confluent_admin.AdminClient, self.configs.admin())
        return self._admin_client

    def check_connection(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the brokers' metadata; stop at once on a refusal.

        While it waits it logs a warning every ``CONNECT_PROGRESS_EVERY`` seconds (from
        that long after the first attempt), so a slow or absent broker is visible before
        the worker gives up."""
        self.errors.closing = False  # a worker starts (again) with this transport
        admin = self._admin()
        started = time.monotonic()
        deadline = started + timeout
        last_progress = started
        attempt = 0.5
        with _quiet_librdkafka() as last_failure:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    admin.list_topics(timeout=max(0.1, min(attempt, remaining)))
                    return
                except KafkaException as exc:
                    failure = exc.args[0].str() if exc.args else str(exc)
                admin.poll(0)  # serves error_cb
                self.errors.check()
                now = time.monotonic()
                reason = last_failure[0] if last_failure else failure
                if now >= deadline:
                    raise BrokerUnavailable(
                        f"cannot reach the Kafka broker at {self.servers} within "
                        f"{timeout:g}s ({reason})"
                    ) from None
                if now - last_progress >= CONNECT_PROGRESS_EVERY and deadline - now >= 1.0:
                    last_progress = now
                    log.warning(
                        "waiting for the Kafka broker at %s: %.0fs of %gs (%s)",
                        self.servers,
                        now - started,
                        timeout,
                        reason,
                    )
                attempt = min(attempt * 2, CONNECT_PROGRESS_EVERY)

    def ensure_topics(
        self, specs: list[TopicSpec], timeout: float, *, create: bool = True
    ) -> dict[str, int]:
        admin = self._admin()
        existing = self._list_topics(admin, timeout).topics
        missing = [spec for spec in specs if spec.name not in existing]
        if not create:
            specs = [spec for spec in specs if spec.name in existing]
        elif missing:
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
                    error = exc.args[0]
                    if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                        continue
                    if error.code() in _NOT_AUTHORIZED:
                        raise NotAuthorized(
                            f"not allowed to create topic {name!r}: {error.str()} (create it "
                            "beforehand, or grant the app CREATE on its topics)"
                        ) from None
                    raise ImproperlyConfigured(
                        f"cannot create topic {name!r}: {error.str()}"
                    ) from None
        # A consumer that subscribes before the broker's metadata shows a topic gets no
        # assignment until its next metadata refresh (minutes): wait until all are visible.
        deadline = time.monotonic() + timeout
        wanted = {spec.name for spec in specs}
        while True:
            topics = self._list_topics(admin, timeout).topics
            ready = {
                name: len(topics[name].partitions)
                for name in wanted
                if name in topics and topics[name].error is None and topics[name].partitions
            }
            if len(ready) == len(wanted):
                return ready
            denied = [
                name
                for name in wanted
                if name in topics
                and topics[name].error is not None
                and topics[name].error.code() in _NOT_AUTHORIZED
            ]
            if denied:
                raise NotAuthorized(f"not allowed to describe topic(s) {', '.join(denied)}")
            if time.monotonic() > deadline:
                absent = ", ".join(sorted(wanted - set(ready)))
                raise BrokerUnavailable(f"topics not visible in broker metadata: {absent}")
            time.sleep(0.1)

    def topic_configs(self, names: list[str], timeout: float) -> dict[str, dict[str, str]]:
        if not names:
            return {}
        admin = self._admin()
        topic = ConfigResource.Type.TOPIC
        resources = [ConfigResource(topic, name) for name in names]
        configs: dict[str, dict[str, str]] = {}
        for resource, future in admin.describe_configs(resources, request_timeout=timeout).items():
            try:
                entries = future.result()
            except KafkaException as exc:  # not allowed to read it, say: nothing to say
                log.debug("cannot read the configuration of topic %s: %s", resource.name, exc)
                continue
            configs[resource.name] = {
                name: entry.value for name, entry in entries.items() if entry.value is not None
            }
        return configs

    def _list_topics(self, admin: confluent_admin.AdminClient, timeout: float) -> Any:
        try:
            return admin.list_topics(timeout=timeout)
        finally:
            admin.poll(0)  # serve error_cb
            self.errors.check()

    def close(self) -> None:
        """The worker is closing its clients: a refusal is no longer raised (it was reported).
        Destroy the admin client now, not during interpreter shutdown (its librdkafka
        threads could then call back into a Python that is going away)."""
        self.errors.closing = True
        self._admin_client = None

    def consumer(self, group_id: str) -> KafkaConsumer:
        config = self.configs.consumer(group_id)
        return KafkaConsumer(self._create(confluent_kafka.Consumer, config), self.errors.check)

    def reply_consumer(self, group_id: str) -> KafkaConsumer:
        config = self.configs.reply_consumer(group_id)
        return KafkaConsumer(self._create(confluent_kafka.Consumer, config), self.errors.check)

    def producer(
        self,
        *,
        transactional_id: str | None = None,
        track_deliveries: bool = False,
        tracked_only: bool = False,
    ) -> KafkaProducer:
        config = self.configs.producer(
            transactional_id=transactional_id, track_deliveries=track_deliveries
        )
        plain = None
        if track_deliveries and tracked_only and transactional_id is None:
            plain = self.configs.producer()
        return KafkaProducer(config, create=self._create, check=self.errors.check, plain=plain)

    def router_reader(self) -> confluent_kafka.Consumer:
        """The reader of the app's router topic (``faust.web.directory``)."""
        reader: confluent_kafka.Consumer = self._create(
            confluent_kafka.Consumer, self.configs.router_reader()
        )
        return reader

    def changelog_reader(self) -> KafkaChangelogReader:
        config = self.configs.changelog_reader()
        return KafkaChangelogReader(
            self._create(confluent_kafka.Consumer, config), self.errors.check
        )


#: seconds a flush waits between checks for refused credentials
FLUSH_SLICE = 0.5


_warned_unreported = False


def _report_after_flush(unreported: list[tuple[str, int, DeliveryReport]]) -> None:
    """Reported sends on a producer started without success reports: acknowledged (the
    flush succeeded), where exactly is unknown (offset -1); warned about once."""
    global _warned_unreported
    if not _warned_unreported:
        _warned_unreported = True
        log.warning(
            "a send with callback= ran on a producer started without success reports for "
            "sends (the worker saw no callback= at start): its callback runs after the next "
            "commit's flush, with offset -1"
        )
    for topic, partition, report in unreported:
        report(topic, partition, -1, None)


def _no_check() -> None:
    """For producers built without a transport (benchmarks): nothing to check."""


def _create_plain(factory: Any, config: dict[str, Any]) -> Any:
    """A client from a ready configuration (benchmarks build producers this way)."""
    return factory(dict(config))


@contextmanager
def _quiet_librdkafka() -> Iterator[list[str]]:
    """Silence librdkafka's log while the connection is checked (it repeats every failed
    attempt); yield a list holding its last failure line, for the error message."""
    last: list[str] = []

    class _LastFailure(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if record.levelno >= logging.WARNING and "FAIL" in message:
                last[:] = [message.split("]: ", 1)[-1]]

    handler = _LastFailure()
    previous_level = librdkafka_logger.level
    previous_propagate = librdkafka_logger.propagate
    librdkafka_logger.addHandler(handler)
    librdkafka_logger.propagate = False
    if previous_level != logging.CRITICAL:
        librdkafka_logger.setLevel(logging.WARNING)
    try:
        yield last
    finally:
        librdkafka_logger.removeHandler(handler)
        librdkafka_logger.propagate = previous_propagate
        if librdkafka_logger.level != logging.CRITICAL:  # a refusal silenced it for good
            librdkafka_logger.setLevel(previous_level)


_message_error = Message.error


class KafkaConsumer:
    """confluent-kafka's Consumer with the worker's batch-consume contract."""

    def __init__(self, consumer: confluent_kafka.Consumer, check: Callable[[], None]) -> None:
        self._consumer = consumer
        #: raises once the brokers refused the credentials (ConnectionErrors.check)
        self._check = check

    def subscribe(
        self,
        topics: list[str],
        on_assign: Rebalance,
        on_revoke: Rebalance,
        on_lost: Rebalance | None = None,
    ) -> None:
        def assigned(consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
            # Take the assignment before the worker's callback, so it can pause partitions
            # (tables recovering) before any of their messages is fetched.
            consumer.assign(partitions)
            on_assign(partitions)

        lost = on_lost or on_revoke
        self._consumer.subscribe(
            topics,
            on_assign=assigned,
            on_revoke=lambda _consumer, partitions: on_revoke(partitions),
            on_lost=lambda _consumer, partitions: lost(partitions),
        )

    def consume(self, max_messages: int, timeout: float) -> list[TransportMessage]:
        # consume(n, t) waits until n messages or t seconds; to keep latency low, take what
        # is buffered, else block only for the first message and then drain the rest.
        messages: list[Any] = self._consumer.consume(max_messages, 0)
        if not messages:
            first = self._consumer.poll(timeout)
            if first is None:
                self._check()  # the calls above served the error callback
                return []
            messages = [first, *self._consumer.consume(max_messages - 1, 0)]
        self._check()
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
            elif error.code() in _NOT_AUTHORIZED:
                where = f" ({message.topic()})" if message.topic() else ""
                raise NotAuthorized(f"the consumer is not authorized: {error.str()}{where}")
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
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() in _LEFT_THE_GROUP:
                raise AssignmentLost(f"the group refused the commit: {error.str()}") from None
            raise

    def seek(self, partition: TopicPartition) -> None:
        self._consumer.seek(partition)

    def pause(self, partitions: list[TopicPartition]) -> None:
        self._consumer.pause(partitions)

    def resume(self, partitions: list[TopicPartition]) -> None:
        self._consumer.resume(partitions)

    def high_watermark(self, topic: str, partition: int) -> int | None:
        _, high = self._consumer.get_watermark_offsets(
            TopicPartition(topic, partition), cached=True
        )
        return high if high is not None and high >= 0 else None

    def group_metadata(self) -> Any:
        return self._consumer.consumer_group_metadata()

    def close(self) -> None:
        self._consumer.close()


#: seconds after which an assigned partition's cached end counts as fresh even if it has
#: not changed (a fetch response has arrived by then)
CACHED_END_FRESH_AFTER = 5.0


class KafkaChangelogReader:
    """Reads assigned changelog partitions; reports where each one ends."""

    def __init__(self, consumer: confluent_kafka.Consumer, check: Callable[[], None]) -> None:
        self._consumer = consumer
        #: raises once the brokers refused the credentials (ConnectionErrors.check)
        self._check = check
        #: partitions that have returned neither a record nor EOF yet: their start offset,
        #: the end cached when they were assigned, and when
        self._unconfirmed: dict[tuple[str, int], tuple[int, int | None, float]] = {}

    def assign(self, partitions: list[TopicPartition]) -> None:
        self._consumer.incremental_assign(partitions)
        now = time.monotonic()
        for tp in partitions:
            if tp.offset >= 0:
                cached = self.high_watermark(tp.topic, tp.partition)
                self._unconfirmed[(tp.topic, tp.partition)] = (tp.offset, cached, now)

    def unassign(self, partitions: list[TopicPartition]) -> None:
        self._consumer.incremental_unassign(
            [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        )
        for tp in partitions:
            self._unconfirmed.pop((tp.topic, tp.partition), None)

    def read(self, max_records: int, timeout: float) -> ChangelogBatch:
        messages: list[Any] = self._consumer.consume(max_records, timeout)
        self._check()
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
        # start offset with the end reported by the fetch responses instead; not with an
        # end cached from before the partition was assigned again (a standby that gave a
        # partition up and takes it back further on), until a fetch has refreshed it.
        now = time.monotonic()
        for where, (start, cached, assigned_at) in list(unconfirmed.items()):
            end = self.high_watermark(*where)
            fresh = end != cached or now - assigned_at >= CACHED_END_FRESH_AFTER
            if end is not None and fresh and start > end:
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
    """confluent-kafka's Producer; failed deliveries are collected and raised on flush.

    With ``plain`` (the configuration of a producer reporting failed deliveries only) the
    sends that need no success report (``send``, ``direct``, ``send_reported``) go to a
    client of their own, created at the first of them, and only the tracked sends
    (changelog records) to the one made from ``config``, whose successes are reported: a
    topic's records all go through one client (their order holds); a flush and a poll
    serve both."""

    def __init__(
        self,
        config: dict[str, Any],
        create: Any = None,
        check: Callable[[], None] | None = None,
        plain: dict[str, Any] | None = None,
    ) -> None:
        #: raises once the brokers refused the credentials (ConnectionErrors.check)
        self._check = check or _no_check
        self._failures: list[str] = []
        #: records the brokers did not take (every failed delivery report)
        self._delivery_errors = 0
        self._delivered: dict[tuple[str, int], int] = {}
        #: reported sends on a producer without success reports: served after a flush
        self._unreported: list[tuple[str, int, DeliveryReport]] = []
        #: a newer producer with our transactional id took over (nothing can commit now)
        self.fenced = False
        #: told of each failed delivery (sensors' on_send_error), when set
        self._failure_report: DeliveryFailure | None = None
        kind = getattr(config, "kind", "producer")
        config = ClientConfig(kind, config)
        config["on_delivery"] = self._on_delivery
        #: success reports are on: tracked sends learn their offsets
        self.tracking = str(config.get("delivery.report.only.error", False)).lower() in (
            "false",
            "0",
        )
        self.transactional = "transactional.id" in config
        self._create = create or _create_plain
        #: the client of the tracked sends (of every send without ``plain``)
        self._producer: confluent_kafka.Producer = self._create(confluent_kafka.Producer, config)
        self._tracked_produce = self._producer.produce
        #: the client of the other sends (``plain``: created at the first of them)
        self._plain_config: ClientConfig | None = None
        self._sender: confluent_kafka.Producer | None = self._producer
        if plain is not None:
            if not self.tracking or self.transactional:
                raise ImproperlyConfigured("a plain client needs success reports, no transaction")
            self._plain_config = ClientConfig(kind, plain)
            self._plain_config["on_delivery"] = self._on_delivery
            self._sender = None
        #: send_reported learns the offset from a success report (else: -1 after a flush)
        self.reports_sends = self.tracking and plain is None

    def _on_delivery(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._failed(error, message)

    def _failed(self, error: KafkaError, message: Any) -> None:
        self._delivery_errors += 1
        code = error.code()
        reason = error.str()
        if code in _FENCED or "fences the current one" in reason:
            self.fenced = True
        try:
            topic, partition = message.topic() or "", message.partition()
            where = f"{topic}[{partition}]"
        except Exception:  # confluent-kafka may hand over a message it could not build
            topic, partition, where = "", -1, "a record"
        failure = f"{where}: {reason}"
        if code in _PURGED:
            self._failures.append(failure)  # a consequence: report the cause first
        else:
            self._failures.insert(0, failure)
        report = self._failure_report
        if report is not None:
            try:
                report(topic, partition, reason)
            except Exception:  # a sensor's error must not break the producer's reports
                log.exception("a sensor's on_send_error raised")

    def report_failures(self, report: DeliveryFailure | None) -> None:
        self._failure_report = report

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

    def _plain(self) -> confluent_kafka.Producer:
        """The client of the sends that need no success report (created now if need be)."""
        if self._sender is None:
            assert self._plain_config is not None
            self._sender = self._create(confluent_kafka.Producer, self._plain_config)
        return self._sender

    def _clients(self) -> list[confluent_kafka.Producer]:
        if self._sender is None or self._sender is self._producer:
            return [self._producer]
        return [self._producer, self._sender]

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        self._send_on(self._plain(), topic, key, value, partition, timestamp, headers)

    def _send_on(
        self,
        client: confluent_kafka.Producer,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        produce: Callable[..., None] = client.produce
        while True:
            try:
                if partition is None and timestamp is None and headers is None:
                    produce(topic, value, key)
                else:
                    produce(
                        topic,
                        value,
                        key,
                        partition=-1 if partition is None else partition,
                        timestamp=0 if timestamp is None else int(timestamp * 1000),
                        headers=headers,
                    )
                return
            except BufferError:
                # librdkafka's queue is full: let deliveries drain, then try again.
                client.poll(0.05)
            except KafkaException as exc:
                # the producer itself failed (fenced, fatal): no error policy may skip that
                raise DeliveryError(f"cannot produce to {topic}: {exc}") from None

    def direct(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        # confluent-kafka's produce raises BufferError on a full queue and KafkaException
        # when the producer failed; send() handles both
        return self._plain().produce, (BufferError, KafkaException)

    def send_tracked(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        if not self.tracking:
            raise ImproperlyConfigured(
                "send_tracked needs a producer with delivery.report.only.error=false"
            )
        while True:
            try:
                self._tracked_produce(
                    topic,
                    value,
                    key,
                    partition=partition,
                    headers=headers,
                    on_delivery=self._on_tracked_delivery,
                )
                return
            except BufferError:
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise DeliveryError(f"cannot produce to {topic}: {exc}") from None

    def send_tracked_run(
        self,
        topic: str,
        partition: int,
        records: Iterable[tuple[bytes, bytes | None]],
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        if not self.tracking:
            raise ImproperlyConfigured(
                "send_tracked needs a producer with delivery.report.only.error=false"
            )
        produce = self._tracked_produce
        # every record but the last: the client's produce itself (_send_on after a full
        # queue or a failed producer); their failures reach _on_delivery as any send's
        last: tuple[bytes, bytes | None] | None = None
        for record in records:
            if last is not None:
                key, value = last
                try:
                    produce(topic, value, key, partition)
                except (BufferError, KafkaException):
                    self._send_on(self._producer, topic, key, value, partition)
            last = record
        if last is not None:
            self.send_tracked(topic, last[0], last[1], partition, headers)

    def send_reported(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]] | None,
        report: DeliveryReport,
    ) -> None:
        if not self.reports_sends:
            self.send(topic, key, value, partition, timestamp, headers)
            self._unreported.append((topic, -1 if partition is None else partition, report))
            return

        def on_delivery(error: KafkaError | None, message: Any) -> None:
            if error is not None:
                self._failed(error, message)
                return
            try:
                kind, milliseconds = message.timestamp()
                where = (message.topic(), message.partition(), message.offset())
            except Exception as exc:  # never let a report break the producer's others
                self._failures.append(f"unreadable delivery report: {exc!r}")
                return
            report(*where, milliseconds if kind else None)

        while True:
            try:
                self._tracked_produce(
                    topic,
                    value,
                    key,
                    partition=-1 if partition is None else partition,
                    timestamp=0 if timestamp is None else int(timestamp * 1000),
                    headers=headers,
                    on_delivery=on_delivery,
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
        for client in self._clients():
            client.poll(0)
        self._check()

    def queued(self) -> int:
        return sum(len(client) for client in self._clients())

    def delivery_errors(self) -> int:
        return self._delivery_errors

    def flush(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        try:
            # in slices, so a refusal of the credentials stops the wait at once
            remaining = self._flush_slice(min(timeout, FLUSH_SLICE))
            while remaining and time.monotonic() < deadline:
                self._check()
                remaining = self._flush_slice(min(deadline - time.monotonic(), FLUSH_SLICE))
        except Exception as exc:  # a delivery report could not be served
            self._failures.insert(0, f"the producer failed while flushing: {exc!r}")
            remaining = 0
        self._check()
        if self._failures:  # sticky: once a record is lost, no later flush may succeed
            raise DeliveryError(
                f"{len(self._failures)} record(s) were not delivered, first: {self._failures[0]}"
            )
        if remaining:
            raise DeliveryError(f"{remaining} record(s) still unacknowledged after {timeout:g}s")
        if self._unreported:
            _report_after_flush(self._unreported)
            self._unreported = []

    def _flush_slice(self, timeout: float) -> int:
        """Records still queued after flushing each client for up to ``timeout``."""
        return sum(client.flush(timeout) for client in self._clients())

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
                self._check()  # refused credentials say more than the call's own error
                error = exc.args[0] if exc.args else None
                if isinstance(error, KafkaError) and error.retriable() and attempts > 1:
                    attempts -= 1
                    log.warning("could not %s (%s); retrying", what, error.str())
                    continue
                reason = error.str() if isinstance(error, KafkaError) else str(exc)
                if isinstance(error, KafkaError) and error.code() in _FENCED:
                    self.fenced = True
                if isinstance(error, KafkaError) and error.code() in _LEFT_THE_GROUP:
                    raise AssignmentLost(f"could not {what}: {reason}") from None
                raise TransactionFailed(
                    f"could not {what}: {reason}{self._fenced_note()}"
                ) from None

    def close(self) -> None:
        for client in self._clients():
            client.flush(5.0)
