"""App settings: Faust's names and defaults, overridable from the environment.

Precedence, highest first: a worker command-line flag (``--broker``), an environment
variable ``FAUST_<SETTING>`` (``FAUST_BROKER_SESSION_TIMEOUT=6``), the keyword given to
``faust.App(...)``, the default below. Example::

    app = faust.App("orders", broker="kafka://localhost:9092", topic_partitions=4)
    app.conf.broker_servers          # ['localhost:9092']

From the environment, every setting is ``FAUST_<NAME>``: numbers and flags as text, dict
settings (``FAUST_CONSUMER_CONFIG``) and ``FAUST_BROKER_CREDENTIALS`` as JSON objects, and
the credentials also one field per variable (``FAUST_BROKER_CREDENTIALS_PASSWORD``; see
:func:`faust.auth.credentials_from_mapping`). An unknown ``FAUST_*`` variable or App keyword
is a warning naming the closest known setting; a value of the wrong type is a one-line
error (ImproperlyConfigured).

Durations are in seconds, as in Faust. Faust's client settings whose default differs from
librdkafka's default default to None here: librdkafka's default applies unless they are set
(``faust.transport.client_config`` maps them; README "Choices we made").
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import logging
import os
import socket
import types
import typing
from collections.abc import Mapping
from typing import Any

from faust.auth import (
    CREDENTIAL_KEYS,
    Credentials,
    SSLCredentials,
    credentials_from_mapping,
    ssl_from_mapping,
    to_credentials,
)
from faust.contract import DEFAULT_ID_FORMAT, app_id, dead_letter_topic_name
from faust.exceptions import ImproperlyConfigured

ERROR_POLICIES = ("fail", "skip", "dead-letter")
PROCESSING_GUARANTEES = ("at_least_once", "exactly_once")
#: the default commit interval under exactly_once, in seconds
EXACTLY_ONCE_COMMIT_INTERVAL = 0.1
#: Faust's broker URL schemes (all mean Kafka here); ``memory://`` is the in-process broker
KAFKA_SCHEMES = ("kafka", "aiokafka", "confluent")
COMPRESSION_TYPES = ("none", "gzip", "snappy", "lz4", "zstd")
OFFSET_RESETS = ("earliest", "latest", "none")
#: settings that must be more than 0 (or None: librdkafka's default), and 0 or more
_POSITIVE = (
    "topic_partitions",
    "broker_connect_timeout",
    "broker_session_timeout",
    "broker_heartbeat_interval",
    "broker_commit_interval",
    "broker_commit_every",
    "stream_buffer_maxsize",
    "broker_request_timeout",
    "broker_max_poll_records",
    "broker_max_poll_interval",
    "consumer_max_fetch_size",
    "producer_max_batch_size",
    "producer_max_request_size",
    "producer_request_timeout",
)
_NOT_NEGATIVE = (
    "producer_linger",
    "producer_linger_ms",
    "consumer_metadata_max_age_ms",
    "consumer_connections_max_idle_ms",
    "producer_metadata_max_age_ms",
    "producer_connections_max_idle_ms",
    "table_recovery_transaction_wait",
    "table_cleanup_interval",
)
#: the most messages librdkafka hands over in one consume call
MAX_BATCH = 1_000_000
#: environment variables read besides FAUST_<SETTING>: Faust's name for the broker setting
ENV_ALIASES = {"FAUST_BROKER_URL": "broker"}

log = logging.getLogger("faust.settings")

_CLASS = "a Faust class to use in its place; faustc's runtime has its own"
_TUNING = "a tuning knob of Faust's own engine (aiokafka, mode), which faustc does not run"
#: faust-streaming 0.15's settings that mean nothing on this runtime: accepted by name
#: (App keyword or ``FAUST_<NAME>``) and warned about once each, saying why. The settings
#: that do apply are the fields of :class:`Settings`. The compiler reads this catalogue
#: too (``faustc check`` reports the same at build time). Faust's web settings and
#: ``Monitor`` are not here: other work gives them a meaning.
NOT_APPLIED: dict[str, str] = {
    "tabledir": "tables live under the data directory (datadir/tables)",
    "debug": "Faust's debug mode (aiomonitor, blocking detection) has no counterpart",
    "env_prefix": "environment variables are always FAUST_<SETTING>",
    "agent_supervisor": "an agent that raises is restarted on the rest of its batch",
    "cython_optimizations": _TUNING,
    "blocking_timeout": _TUNING,
    "broker_api_version": "librdkafka negotiates the protocol version with the broker",
    "consumer_api_version": "librdkafka negotiates the protocol version with the broker",
    "producer_api_version": "librdkafka negotiates the protocol version with the broker",
    "broker_commit_livelock_soft_timeout": _TUNING,
    "broker_rebalance_timeout": "librdkafka's consumer has none (consumer_config passes "
    "its own settings through)",
    "logging_config": "configure Python's logging in the app module",
    "loghandlers": "configure Python's logging in the app module",
    "producer_threaded": "librdkafka's producer always runs in its own threads",
    "recovery_consistency_check": "recovery always reads the changelog to its true end",
    "store_check_exists": _TUNING,
    "crash_app_on_aerospike_exception": "there is no aerospike store",
    "aerospike_retries_on_exception": "there is no aerospike store",
    "aerospike_sleep_seconds_between_retries_on_exception": "there is no aerospike store",
    "reply_create_topic": "the reply topic of agent.ask() is always created",
    "reply_expires": "replies wait until they arrive or ask(timeout=) ends the wait",
    "reply_to_prefix": "the reply topic is the reply_to setting or <app id>-reply",
    "stream_processing_timeout": _TUNING,
    "stream_publish_on_commit": "sends are flushed before every commit",
    "stream_recovery_delay": "streams start once their tables are restored",
    "stream_wait_empty": "a stopping worker always finishes the batch in hand",
    "table_key_index_size": "a windowed table's keys are always listable",
    "cache": "Faust's cache backends are not implemented",
    "worker_redirect_stdouts": "print() output goes to stdout as written",
    "worker_redirect_stdouts_level": "print() output goes to stdout as written",
    "stream_ack_cancelled_tasks": "deprecated in Faust",
    "stream_ack_exceptions": "deprecated in Faust",
    **{
        name: _CLASS
        for name in (
            "Agent",
            "ConsumerScheduler",
            "Event",
            "Schema",
            "Stream",
            "Table",
            "SetTable",
            "GlobalTable",
            "SetGlobalTable",
            "TableManager",
            "Serializers",
            "Worker",
            "PartitionAssignor",
            "LeaderAssignor",
            "Router",
            "Topic",
            "HttpClient",
        )
    },
}
#: Faust's deprecated names of settings that apply: the name to use
ALIASES = {"url": "broker"}


@dataclasses.dataclass
class Settings:
    """Every setting the runtime reads (unknown App keywords are warned about and ignored)."""

    #: the id the app runs under: ``name`` at version 1, else ``id_format`` of it (Faust's
    #: rule, :func:`faust.contract.app_id`); the consumer group and every internal topic
    #: are named after it
    id: str
    #: the id as given to ``faust.App(...)`` (Faust's ``conf.name``)
    name: str = dataclasses.field(default="", metadata={"derived": True})
    #: the app's version: a new version is a new app (``<id>-v<version>``): its own
    #: consumer group, changelogs and internal topics; source topics are untouched
    version: int = 1
    #: how the id is made from the name when ``version > 1``
    id_format: str = DEFAULT_ID_FORMAT
    #: the modules ``app.discover()`` imports when the worker starts, so that agents,
    #: tables and timers declared there register: True (the ``origin`` package), a list
    #: of modules (and the origin), or a function returning one; False: none
    autodiscover: Any = False
    #: the package the app lives in (``myproj``): what ``autodiscover=True`` scans
    origin: str | None = None
    #: the time zone crontabs are read in unless they give one (a ``tzinfo`` or a zone
    #: name such as ``"Europe/Paris"``; Faust's default, UTC)
    timezone: Any = datetime.UTC
    #: bootstrap servers: ``kafka://a:9092;b:9092``, ``"a:9092,b:9092"``, a list of URLs
    #: (strings or yarl URLs), or ``memory://name`` (the in-process broker, for tests)
    broker: Any = "kafka://localhost:9092"
    #: Faust's separate bootstrap servers for consumers and producers (default: ``broker``)
    broker_consumer: Any = None
    broker_producer: Any = None
    #: how every client authenticates: faust.SSLCredentials, SASLCredentials,
    #: GSSAPICredentials, OAuthCredentials, or an ssl.SSLContext (TLS)
    broker_credentials: Any = None
    #: TLS for every client when ``broker_credentials`` does not say (an ssl.SSLContext or
    #: faust.SSLCredentials)
    ssl_context: Any = None
    #: default codecs when a topic names none (Faust: keys raw, values JSON)
    key_serializer: str = "raw"
    value_serializer: str = "json"
    #: partitions/replicas of topics the worker creates because they do not exist yet
    topic_partitions: int = 8
    topic_replication_factor: int = 1
    topic_allow_declare: bool = True
    #: no leader election (Faust's): no worker runs ``on_leader=True`` timers and tasks
    topic_disable_leader: bool = False
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
    # -- Faust's client settings (None: librdkafka's default; see client_config) --------
    #: prefix of every client's ``client.id`` (default: the app id)
    broker_client_id: str | None = None
    broker_request_timeout: float | None = None
    #: at most this many messages per batch (also bounded by ``stream_buffer_maxsize``)
    broker_max_poll_records: int | None = None
    broker_max_poll_interval: float | None = None
    broker_check_crcs: bool | None = None
    consumer_max_fetch_size: int | None = None
    consumer_group_instance_id: str | None = None
    consumer_metadata_max_age_ms: int | None = None
    consumer_connections_max_idle_ms: int | None = None
    #: -1 or "all" (the default, required by the idempotent producer), 0, 1
    producer_acks: int | str | None = None
    producer_compression_type: str | None = None
    producer_linger: float | None = None
    #: Faust's deprecated milliseconds form of ``producer_linger``
    producer_linger_ms: int | None = None
    producer_max_batch_size: int | None = None
    producer_max_request_size: int | None = None
    producer_request_timeout: float | None = None
    producer_metadata_max_age_ms: int | None = None
    producer_connections_max_idle_ms: int | None = None
    #: a Python partitioner cannot run inside librdkafka: only None is accepted
    producer_partitioner: Any = None
    # -------------------------------------------------------------------------------------
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
    #: seconds a table restore waits for a changelog partition whose last stable offset an
    #: open transaction holds below its end (then it says so and goes on without the rest);
    #: Kafka's default transaction.timeout.ms, after which the broker aborts such a one
    table_recovery_transaction_wait: float = 60.0
    #: warm copies of ``rocksdb://`` table partitions this worker does not own, followed
    #: from their changelogs so that a takeover replays only their tail
    #: (``faust.tables.standby``): 0 none (Kafka Streams' default), 1 or more: every
    #: partition not owned (the standard group protocol cannot place a moved partition
    #: on a chosen standby; README, "Choices we made")
    table_standby_replicas: int = 0
    #: the worker's web server (``faust.web``): pages, /health, /ready, /metrics
    web_enabled: bool = True
    #: the port it listens on (0: any free port, logged at start-up)
    web_port: int = 6066
    #: the interface it binds (every interface by default, for probes from outside)
    web_bind: str = "0.0.0.0"
    #: the host name other workers and clients reach it by (``app.web.url``)
    web_host: str = dataclasses.field(default_factory=socket.gethostname)
    #: librdkafka properties passed through unchanged: to every client, to consumers (the
    #: worker's, the changelog readers, the ask() reply consumer), to producers, to admins
    broker_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    consumer_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    producer_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    admin_config: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_app_kwargs(cls, id: str, broker: Any, kwargs: dict[str, Any]) -> Settings:
        names = setting_names()
        for alias, name in ALIASES.items():
            if alias in kwargs:
                value = kwargs.pop(alias)
                if broker is None and name == "broker":
                    broker = value
        for name in sorted(set(kwargs) - set(names)):
            if name in NOT_APPLIED:
                _warn_not_applied(name)
            else:
                _warn_unknown(f"App setting {name!r}", name, [*names, *NOT_APPLIED], quote=True)
            del kwargs[name]
        settings = cls(id=id, **kwargs)
        if broker is not None:
            settings.broker = broker
        settings.check_types(given=set(kwargs) | ({"broker"} if broker is not None else set()))
        from_env = settings.apply_environment(os.environ)
        settings.prepare_id(id)
        if (
            settings.processing_guarantee == "exactly_once"
            and "broker_commit_interval" not in kwargs
            and "broker_commit_interval" not in from_env
        ):
            # A transaction's outputs are invisible until it commits: commit often, as
            # Kafka Streams does under exactly-once (commit.interval.ms=100).
            settings.broker_commit_interval = EXACTLY_ONCE_COMMIT_INTERVAL
        settings.validate()
        return settings

    # -- the environment -------------------------------------------------------------------

    def apply_environment(self, environ: Mapping[str, str]) -> set[str]:
        """Override settings from ``FAUST_*`` environment variables; return their names."""
        hints = _hints()
        names = setting_names()
        applied: set[str] = set()
        for variable, raw in sorted(environ.items()):
            if not variable.startswith("FAUST_"):
                continue
            name = ENV_ALIASES.get(variable, variable[len("FAUST_") :].lower())
            if name == "broker_credentials" or (
                name.startswith("broker_credentials_")
                and name[len("broker_credentials_") :] in CREDENTIAL_KEYS
            ):
                continue  # read together below
            if name not in names:
                not_applied = {n.lower(): n for n in NOT_APPLIED}
                if name in not_applied:
                    _warn_not_applied(not_applied[name])
                    continue
                known = [f"FAUST_{n.upper()}" for n in [*names, *NOT_APPLIED]]
                known += credential_variables()
                _warn_unknown(f"environment variable {variable}", variable, known, quote=False)
                continue
            setattr(self, name, _from_text(variable, raw, name, hints[name]))
            applied.add(name)
        credentials = _credentials_from_environment(environ)
        if credentials is not None:
            self.broker_credentials = credentials
            applied.add("broker_credentials")
        return applied

    def prepare_id(self, name: str) -> None:
        """Set ``name`` and the ``id`` the app runs under (``version``, ``id_format``)."""
        if self.version < 1:
            raise ImproperlyConfigured(f"version must be 1 or more, not {self.version}")
        self.name = name
        try:
            self.id = app_id(name, self.version, self.id_format, self)
        except (AttributeError, KeyError, IndexError, ValueError) as exc:
            raise ImproperlyConfigured(
                f"id_format={self.id_format!r} cannot be filled in "
                f"(it may use {{id}} and {{self.<setting>}}): {exc}"
            ) from None
        if not self.id:
            raise ImproperlyConfigured(f"id_format={self.id_format!r} makes an empty App id")

    # -- checks ----------------------------------------------------------------------------

    def check_types(self, given: set[str]) -> None:
        """A one-line error for an App keyword of the wrong type."""
        hints = _hints()
        for name in sorted(given):
            value = getattr(self, name)
            if not _is_instance(value, hints[name]):
                raise ImproperlyConfigured(
                    f"App setting {name}={_shown(name, value)} must be {_describe(hints[name])}"
                )
        self.broker_credentials = to_credentials(self.broker_credentials)
        if self.ssl_context is not None and not isinstance(self.ssl_context, SSLCredentials):
            self.ssl_context = SSLCredentials(self.ssl_context)

    def validate(self) -> None:
        self.timezone = _timezone(self.timezone)
        if self.error_policy not in ERROR_POLICIES:
            raise ImproperlyConfigured(
                f"error_policy must be one of {', '.join(ERROR_POLICIES)}, "
                f"not {self.error_policy!r}"
            )
        if self.processing_guarantee not in PROCESSING_GUARANTEES:
            raise ImproperlyConfigured(
                "processing_guarantee must be 'at_least_once' or 'exactly_once', "
                f"not {self.processing_guarantee!r}"
            )
        if self.consumer_auto_offset_reset not in OFFSET_RESETS:
            raise ImproperlyConfigured(
                f"consumer_auto_offset_reset must be one of {', '.join(OFFSET_RESETS)}, "
                f"not {self.consumer_auto_offset_reset!r}"
            )
        if self.producer_acks is not None and self.acks not in (-1, 0, 1):
            raise ImproperlyConfigured(
                f"producer_acks must be -1 (or 'all'), 0 or 1, not {self.producer_acks!r}"
            )
        if self.exactly_once and self.acks != -1:
            raise ImproperlyConfigured(
                f"producer_acks={self.producer_acks!r} cannot be used with "
                "processing_guarantee='exactly_once' (transactions need acks=all)"
            )
        compression = self.producer_compression_type
        if compression is not None and compression.lower() not in COMPRESSION_TYPES:
            raise ImproperlyConfigured(
                f"producer_compression_type must be one of {', '.join(COMPRESSION_TYPES)}, "
                f"not {compression!r}"
            )
        if self.producer_partitioner is not None:
            raise ImproperlyConfigured(
                "producer_partitioner: a Python partitioner cannot run inside librdkafka; "
                "keys are partitioned with murmur2 as by Kafka's Java client (or set "
                "producer_config={'partitioner': ...} to one of librdkafka's partitioners)"
            )
        for name in ("broker", "broker_consumer", "broker_producer"):
            value = getattr(self, name)
            if value is not None and not is_memory_url(value):
                parse_broker_url(value, setting=name)
        self._check_ranges()
        dead_letter_topic_name("orders", self.dead_letter_topic)  # one that can be filled in
        try:
            self.data_directory  # noqa: B018 (``{appid}`` filled in: no other field)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ImproperlyConfigured(
                f"datadir={self.datadir!r} cannot be filled in (it may use {{appid}}): "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if self.table_standby_replicas < 0:
            raise ImproperlyConfigured(
                f"table_standby_replicas must be 0 or more, not {self.table_standby_replicas}"
            )
        if not 0 <= self.web_port <= 65535:
            raise ImproperlyConfigured(f"web_port must be a port number, not {self.web_port}")
        if is_memory_url(self.broker) and self.broker_credentials is not None:
            raise ImproperlyConfigured("broker_credentials cannot be used with a memory:// broker")

    def _check_ranges(self) -> None:
        """Numbers a client or the worker cannot use: one line each, at start-up, rather
        than a librdkafka refusal, a traceback or a worker that silently does nothing."""
        for name in _POSITIVE:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ImproperlyConfigured(f"{name} must be more than 0, not {value!r}")
        for name in _NOT_NEGATIVE:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ImproperlyConfigured(f"{name} must be 0 or more, not {value!r}")
        for name in ("stream_buffer_maxsize", "broker_max_poll_records"):
            value = getattr(self, name)
            if value is not None and value > MAX_BATCH:
                raise ImproperlyConfigured(
                    f"{name} must be at most {MAX_BATCH} (librdkafka's limit for one "
                    f"batch), not {value!r}"
                )
        if self.topic_replication_factor < 1 and self.topic_replication_factor != -1:
            raise ImproperlyConfigured(
                "topic_replication_factor must be 1 or more (or -1: the broker's default), "
                f"not {self.topic_replication_factor!r}"
            )
        if self.broker_heartbeat_interval >= self.broker_session_timeout:
            raise ImproperlyConfigured(
                f"broker_heartbeat_interval ({self.broker_heartbeat_interval:g}s) must be "
                f"less than broker_session_timeout ({self.broker_session_timeout:g}s); "
                "Kafka advises a third of it at most"
            )

    # -- derived values --------------------------------------------------------------------

    @property
    def broker_servers(self) -> list[str]:
        """``kafka://a:9092;b:9092`` as ``['a:9092', 'b:9092']`` (port defaults to 9092)."""
        return parse_broker_url(self.broker)

    @property
    def acks(self) -> int:
        """``producer_acks`` as a number (-1: all replicas)."""
        acks = self.producer_acks
        if acks is None or (isinstance(acks, str) and acks.strip().lower() == "all"):
            return -1
        try:
            return int(acks)
        except ValueError:
            return -2  # validate() names it

    @property
    def batch_size(self) -> int:
        """How many messages the worker takes from its consumer at once."""
        limit = self.broker_max_poll_records
        size = self.stream_buffer_maxsize
        return min(size, limit) if limit else size

    @property
    def data_directory(self) -> str:
        """``datadir`` (``{appid}``: the App's name), and a ``v<N>`` folder in it for
        ``version`` N > 1, as Faust keeps each version's tables apart."""
        base = self.datadir.format(appid=self.name or self.id)
        return base if self.version <= 1 else os.path.join(base, f"v{self.version}")

    @property
    def exactly_once(self) -> bool:
        return self.processing_guarantee == "exactly_once"

    @property
    def web_url(self) -> str:
        """Where this worker's web server is reached: ``http://<web_host>:<web_port>/``."""
        return f"http://{self.web_host}:{self.web_port}/"

    @property
    def client_id_prefix(self) -> str:
        """What every client's ``client.id`` starts with: ``broker_client_id`` or the app id."""
        return self.broker_client_id or self.id


def setting_names() -> list[str]:
    """The settings an App accepts (``id`` is positional; ``name`` is derived from it)."""
    return [
        field.name
        for field in dataclasses.fields(Settings)
        if field.name != "id" and not field.metadata.get("derived")
    ]


def credential_variables() -> list[str]:
    """``FAUST_BROKER_CREDENTIALS_<KEY>``: the credentials one field per variable."""
    return [f"FAUST_BROKER_CREDENTIALS_{key.upper()}" for key in CREDENTIAL_KEYS]


# -- broker URLs ----------------------------------------------------------------------------


def is_memory_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("memory://")


def parse_broker_url(value: Any, setting: str = "broker") -> list[str]:
    """Faust's broker forms as ``host:port`` strings (port defaults to 9092).

    Accepts ``kafka://a:9092;b:9092``, ``a:9092,b:9092``, a list or tuple of such strings or
    of URL objects (``yarl.URL``: anything whose ``str()`` is a URL). Schemes ``kafka``,
    ``aiokafka`` and ``confluent`` all mean Kafka; an entry without one takes the first
    scheme given. Credentials in a URL are refused (use ``broker_credentials``).
    """
    if isinstance(value, str):
        parts = value.replace(",", ";").split(";")
    elif isinstance(value, list | tuple):
        parts = [str(part) for part in value]
    elif value is not None and hasattr(value, "host"):  # a yarl.URL
        parts = [str(value)]
    else:
        raise ImproperlyConfigured(
            f"{setting} must be a URL string or a list of URLs, not {type(value).__name__}"
        )
    servers = []
    for raw in parts:
        part = raw.strip()
        if not part:
            continue
        if "://" in part:
            scheme, _, part = part.partition("://")
            if scheme not in KAFKA_SCHEMES:
                raise ImproperlyConfigured(
                    f"unsupported broker URL scheme {scheme!r} in {setting} "
                    f"(use kafka://; {', '.join(KAFKA_SCHEMES)} are accepted)"
                )
        part = part.rstrip("/")
        if "@" in part:
            # never echo it: the part before @ may be a password
            raise ImproperlyConfigured(
                f"{setting}: a broker URL must not carry credentials (user@host); "
                "pass them as broker_credentials"
            )
        if "/" in part or "?" in part:
            raise ImproperlyConfigured(f"{setting}: {raw.strip()!r} is not a host:port address")
        if part.startswith("["):  # IPv6: [::1] or [::1]:9092
            host, _, port = part.partition("]")
            part = f"{host}]{port}" if port.startswith(":") else f"{host}]:9092"
        elif ":" not in part:
            part = f"{part}:9092"
        servers.append(part)
    if not servers:
        raise ImproperlyConfigured(f"{setting}: no broker address given")
    return servers


def _timezone(value: Any) -> datetime.tzinfo:
    """The ``timezone`` setting as a tzinfo: one, or the name of one (``Europe/Paris``)."""
    if isinstance(value, datetime.tzinfo):
        return value
    if isinstance(value, str):
        import zoneinfo

        if value.strip().upper() == "UTC":
            return datetime.UTC
        try:
            return zoneinfo.ZoneInfo(value.strip())
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ImproperlyConfigured(f"timezone {value!r} is not a known time zone") from None
    raise ImproperlyConfigured(
        f"timezone must be a datetime.tzinfo or a zone name, not {type(value).__name__}"
    )


# -- types ----------------------------------------------------------------------------------


def _hints() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def _union_members(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _is_instance(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    for member in _union_members(hint):
        origin = typing.get_origin(member) or member
        if member is type(None) and value is None:
            return True
        if origin is bool and isinstance(value, bool):
            return True
        if origin is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if origin is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if origin is str and isinstance(value, str):
            return True
        if origin is dict and isinstance(value, Mapping):
            return True
    return False


def _describe(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    parts = []
    for member in _union_members(hint):
        origin = typing.get_origin(member) or member
        if member is type(None):
            parts.append("None")
        elif origin is dict:
            parts.append("a dict (in the environment: a JSON object)")
        else:
            parts.append(names.get(origin, getattr(origin, "__name__", str(origin))))
    return " or ".join(parts)


_SECRET_SETTINGS = ("broker_credentials", "schema_registry_config", "broker_config")


def _shown(name: str, value: Any) -> str:
    """A setting's value for an error message (never a secret)."""
    if name in _SECRET_SETTINGS or "config" in name:
        return f"<{type(value).__name__}>"
    return repr(value)


def _from_text(variable: str, raw: str, name: str, hint: Any) -> Any:
    """The value of setting ``name`` written as environment text."""
    if name == "broker_credentials":
        return credentials_from_mapping(_json_object(variable, raw))
    if name == "ssl_context":
        return ssl_from_mapping(_json_object(variable, raw), what=variable)
    if name in ("broker", "broker_consumer", "broker_producer", "timezone"):
        return raw
    if name == "producer_partitioner":
        raise ImproperlyConfigured(f"{variable}: producer_partitioner cannot be set")
    members = _union_members(hint)
    if type(None) in members and raw.strip() == "":
        return None
    origins = [typing.get_origin(member) or member for member in members]
    if dict in origins:
        return _json_object(variable, raw)
    if bool in origins:
        text = raw.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    if int in origins:
        try:
            return int(raw)
        except ValueError:
            pass
    if float in origins:
        try:
            return float(raw)
        except ValueError:
            pass
    if str in origins:
        return raw
    raise ImproperlyConfigured(f"{variable}={raw!r} is not {_describe(hint)}")


def _json_object(variable: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        # the text may be a secret: say where it is wrong, not what it is
        raise ImproperlyConfigured(
            f"{variable} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{variable} must be a JSON object ({{...}})")
    return value


def _credentials_from_environment(environ: Mapping[str, str]) -> Credentials | None:
    """FAUST_BROKER_CREDENTIALS (JSON) updated by FAUST_BROKER_CREDENTIALS_<KEY> variables."""
    raw = environ.get("FAUST_BROKER_CREDENTIALS")
    fields: dict[str, Any] = (
        _json_object("FAUST_BROKER_CREDENTIALS", raw) if raw is not None else {}
    )
    for key in CREDENTIAL_KEYS:
        value = environ.get(f"FAUST_BROKER_CREDENTIALS_{key.upper()}")
        if value is not None:
            fields[key] = value
    if raw is None and not fields:
        return None
    return credentials_from_mapping(fields)


_warned: set[str] = set()


def _warn_not_applied(name: str) -> None:
    """One warning per Faust setting that does not apply here, and process."""
    if name in _warned:
        return
    _warned.add(name)
    log.warning("Faust setting %r does not apply here, ignored: %s", name, NOT_APPLIED[name])


def _warn_unknown(what: str, name: str, known: list[str], *, quote: bool) -> None:
    """One warning per unknown name and process, naming the closest known one."""
    if name in _warned:
        return
    _warned.add(name)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = ""
    if close:
        hint = f" (did you mean {close[0]!r}?)" if quote else f" (did you mean {close[0]}?)"
    log.warning("unknown %s ignored%s", what, hint)
