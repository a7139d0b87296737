"""App settings: Faust's names and defaults, overridable from the environment.

Precedence, highest first: a worker command-line flag (``--broker``), an environment
variable ``FAUST_<SETTING>`` (``FAUST_BROKER_SESSION_TIMEOUT=6``), the keyword given to
``faust.App(...)``, the default below. Example::

    app = faust.App("orders", broker="kafka://localhost:9092", topic_partitions=4)
    app.conf.broker_servers          # ['localhost:9092']

Durations are in seconds, as in Faust.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from faust.exceptions import ImproperlyConfigured

ERROR_POLICIES = ("fail", "skip", "dead-letter")
PROCESSING_GUARANTEES = ("at_least_once", "exactly_once")
#: the default commit interval under exactly_once, in seconds
EXACTLY_ONCE_COMMIT_INTERVAL = 0.1


@dataclasses.dataclass
class Settings:
    """Every setting the runtime reads (unknown App keywords are an error)."""

    id: str
    broker: str = "kafka://localhost:9092"
    #: default codecs when a topic names none (Faust: keys raw, values JSON)
    key_serializer: str = "raw"
    value_serializer: str = "json"
    #: partitions/replicas of topics the worker creates because they do not exist yet
    topic_partitions: int = 8
    topic_replication_factor: int = 1
    topic_allow_declare: bool = True
    #: how long a starting worker waits for the broker before giving up with an error
    broker_connect_timeout: float = 15.0
    #: consumer group session; Kafka's own default (KIP-735) rather than Faust's 60 s
    broker_session_timeout: float = 45.0
    broker_heartbeat_interval: float = 3.0
    #: commit offsets after this many seconds or this many messages, whichever comes first
    broker_commit_interval: float = 2.8
    broker_commit_every: int = 10_000
    #: how many messages the worker takes from the consumer in one batch
    stream_buffer_maxsize: int = 4096
    consumer_auto_offset_reset: str = "earliest"
    #: ``at_least_once`` or ``exactly_once`` (Kafka transactions; see the README)
    processing_guarantee: str = "at_least_once"
    #: what happens to a message that fails to decode or process: fail, skip, dead-letter
    error_policy: str = "fail"
    #: where ``dead-letter`` sends a failed message (``{topic}``: its source topic)
    dead_letter_topic: str = "{topic}-dlq"
    #: the topic ``agent.ask()`` replies travel on (empty: ``<app id>-reply``)
    reply_to: str = ""
    #: Confluent Schema Registry for the avro-confluent codec (``mock://name`` in tests),
    #: and extra client settings (``basic.auth.user.info`` ...)
    schema_registry_url: str | None = None
    schema_registry_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: the worker's state: RocksDB tables, its lock and its id (``--datadir``)
    datadir: str = "{appid}-data"
    #: default table store: ``memory://`` or ``rocksdb://``
    store: str = "memory://"
    #: seconds between checks for windows past their ``expires``
    table_cleanup_interval: float = 30.0
    #: extra librdkafka properties, passed through unchanged
    consumer_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    producer_config: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_app_kwargs(cls, id: str, broker: str | None, kwargs: dict[str, Any]) -> Settings:
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise ImproperlyConfigured(f"unknown App setting(s): {', '.join(unknown)}")
        settings = cls(id=id, **kwargs)
        if broker is not None:
            settings.broker = broker
        settings.apply_environment(os.environ)
        if (
            settings.processing_guarantee == "exactly_once"
            and "broker_commit_interval" not in kwargs
            and "FAUST_BROKER_COMMIT_INTERVAL" not in os.environ
        ):
            # A transaction's outputs are invisible until it commits: commit often, as
            # Kafka Streams does under exactly-once (commit.interval.ms=100).
            settings.broker_commit_interval = EXACTLY_ONCE_COMMIT_INTERVAL
        settings.validate()
        return settings

    def apply_environment(self, environ: dict[str, str] | os._Environ[str]) -> None:
        """Override settings from ``FAUST_<NAME>`` environment variables."""
        for field in dataclasses.fields(self):
            raw = environ.get(f"FAUST_{field.name.upper()}")
            if raw is None or field.name == "id":
                continue
            current = getattr(self, field.name)
            try:
                value: Any
                if isinstance(current, bool):
                    value = raw.strip().lower() in ("1", "true", "yes", "on")
                elif isinstance(current, int):
                    value = int(raw)
                elif isinstance(current, float):
                    value = float(raw)
                elif isinstance(current, str) or field.name == "schema_registry_url":
                    value = raw
                else:
                    continue
            except ValueError:
                raise ImproperlyConfigured(
                    f"FAUST_{field.name.upper()}={raw!r} is not a valid {type(current).__name__}"
                ) from None
            setattr(self, field.name, value)

    def validate(self) -> None:
        if self.error_policy not in ERROR_POLICIES:
            raise ImproperlyConfigured(
                f"error_policy must be one of {', '.join(ERROR_POLICIES)}, "
                f"not {self.error_policy!r}"
            )
        if self.processing_guarantee not in PROCESSING_GUARANTEES:
            raise ImproperlyConfigured(
                "processing_guarantee must be 'at_least_once' or 'exactly_once'"
            )

    @property
    def broker_servers(self) -> list[str]:
        """``kafka://a:9092;b:9092`` as ``['a:9092', 'b:9092']`` (port defaults to 9092)."""
        return parse_broker_url(self.broker)

    @property
    def data_directory(self) -> str:
        return self.datadir.format(appid=self.id)

    @property
    def exactly_once(self) -> bool:
        return self.processing_guarantee == "exactly_once"


def parse_broker_url(url: str) -> list[str]:
    """Split a Faust broker URL into ``host:port`` strings."""
    servers = []
    for part in url.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if "://" in part:
            scheme, _, part = part.partition("://")
            if scheme not in ("kafka", "aiokafka", "confluent"):
                raise ImproperlyConfigured(f"unsupported broker URL scheme {scheme!r} in {url!r}")
        part = part.rstrip("/")
        servers.append(part if ":" in part else f"{part}:9092")
    if not servers:
        raise ImproperlyConfigured(f"no broker address in {url!r}")
    return servers
