"""The configuration of every Kafka client the runtime creates, built in one place.

The worker's consumer and producer (transactional or not), the admin client, the changelog
reader that restores tables and feeds global tables, the reply consumer of ``agent.ask()``
and the Schema Registry client all take their configuration from :class:`ClientConfigs`,
so credentials, TLS, client ids and pass-through properties reach every one of them.
Example::

    configs = ClientConfigs(app.conf)
    configs.consumer()       # {'bootstrap.servers': 'b1:9093', 'security.protocol':
                             #  'SASL_SSL', 'sasl.password': ..., 'group.id': 'orders', ...}
    repr(configs.consumer())  # the same with 'sasl.password': '[redacted]'

Each client's properties, later ones winning:

1. the runtime's defaults for that kind of client, and Faust's client settings mapped to
   librdkafka (``broker_request_timeout`` -> ``socket.timeout.ms`` ...; a setting left at
   None keeps librdkafka's default);
2. the credentials (``broker_credentials``, ``ssl_context``);
3. the pass-through settings: ``broker_config`` (every client), then ``consumer_config``
   (every consumer), ``producer_config`` or ``admin_config``;
4. what the runtime needs to keep its guarantees (group ids, commit behaviour, the
   transactional id, delivery reports): a pass-through that sets one of those, or that
   contradicts the credentials' ``security.protocol``/``sasl.mechanism``, is a start-up
   error rather than a silent override either way.

Internal group ids and client ids start with the app id (``broker_client_id`` for client
ids), so ACLs granted on that prefix cover every client. Secrets never appear in a repr, a
log line or an error message (:func:`redacted`, :func:`scrub`).

librdkafka cannot take a Python ``ssl.SSLContext``: from a context we read the trusted CA
certificates, the verification mode and the host name check; what cannot be read or
honoured (a client certificate loaded into it, a minimum TLS version above 1.2, CRL
checks) is refused with a message saying what to pass instead. Never weaker than asked.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import ctypes
import inspect
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

from faust.auth import (
    Credentials,
    GSSAPICredentials,
    OAuthCredentials,
    SASLCredentials,
    SSLCredentials,
)
from faust.contract import changelog_reader_group, router_reader_group
from faust.exceptions import ImproperlyConfigured
from faust.settings import Settings

log = logging.getLogger("faust.transport")

#: the client kinds, each with its own ``client.id`` suffix
KINDS = ("consumer", "producer", "admin", "changelog-reader", "reply-consumer", "router-reader")
CONSUMER_KINDS = ("consumer", "changelog-reader", "reply-consumer", "router-reader")

#: how many messages of each partition the worker's consumer keeps fetched ahead
#: (librdkafka's ``queued.min.messages``; its default, 100,000, holds ~60 MB of small
#: messages for four partitions, most of a worker's memory): Faust's consumer (aiokafka)
#: holds one fetch of each partition ahead (``consumer_max_fetch_size``, 1 MiB) plus the
#: stream buffer (``stream_buffer_maxsize``); 10,000 is ~2.5 of the worker's batches
#: of 4,096 (bench/README.md, "The windowed worker's memory")
PREFETCH_MESSAGES = 10_000
#: how soon the consumer fetches a partition again after finding its prefetch full
#: (librdkafka's ``fetch.queue.backoff.ms``, default 1,000: with a bounded prefetch, a
#: worker faster than that would wait for the broker up to a second)
PREFETCH_BACKOFF_MS = 5

#: ``transaction.timeout.ms`` of a worker's transactional producer (see ``producer``):
#: Kafka Streams uses 10 s, but librdkafka lowers the delivery timeout to it, and a 20 s
#: broker stall must not fail every record in flight
TRANSACTION_TIMEOUT_MS = 30_000

REDACTED = "[redacted]"
#: property names whose values are secrets (substring match, lower case)
_SECRET_MARKERS = ("password", "secret", "user.info", "key.pem", "token", "oauthbearer.config")


class ClientConfig(dict[str, Any]):
    """librdkafka properties for one client; its repr hides secrets."""

    def __init__(self, kind: str, properties: dict[str, Any]) -> None:
        super().__init__(properties)
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind} config {redacted(self)!r}>"

    __str__ = __repr__


def is_secret(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


def redacted(properties: dict[str, Any]) -> dict[str, Any]:
    """``properties`` fit for a log line: secrets replaced, PEM text and callbacks named."""
    shown: dict[str, Any] = {}
    for key, value in properties.items():
        if is_secret(key):
            shown[key] = REDACTED
        elif isinstance(value, str) and "-----BEGIN" in value:
            shown[key] = f"<PEM, {value.count('-----BEGIN')} block(s)>"
        elif key == "url" and isinstance(value, str) and "@" in value:
            scheme, _, rest = value.partition("://")
            shown[key] = f"{scheme}://{REDACTED}@{rest.rpartition('@')[2]}"
        elif callable(value) or isinstance(value, logging.Logger):
            shown[key] = f"<{getattr(value, '__name__', type(value).__name__)}>"
        else:
            shown[key] = value
    return shown


def scrub(text: str, properties: dict[str, Any]) -> str:
    """``text`` (an error from a client) with every secret value of ``properties`` removed."""
    for key, value in properties.items():
        if is_secret(key) and isinstance(value, str) and value:
            text = text.replace(value, REDACTED)
    return text


class ClientConfigs:
    """Builds each client's properties from the App's settings (see the module docstring).

    ``error_cb`` and ``logger`` are given to every Kafka client (the transport's error
    classifier and librdkafka's log destination).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        error_cb: Callable[[Any], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.settings = settings
        self.error_cb = error_cb
        self.logger = logger
        #: the security properties every client gets (computed once: errors at start-up)
        self.security = security_properties(settings)

    # -- the clients -----------------------------------------------------------------------

    def consumer(self, group_id: str) -> ClientConfig:
        """The worker's consumer (``group_id``: the app id); the worker commits itself."""
        conf = self.settings
        base = {
            "auto.offset.reset": _offset_reset(conf.consumer_auto_offset_reset),
            "session.timeout.ms": _ms(conf.broker_session_timeout),
            "heartbeat.interval.ms": _ms(conf.broker_heartbeat_interval),
            # a bounded prefetch (see PREFETCH_MESSAGES), refilled without a pause
            "queued.min.messages": PREFETCH_MESSAGES,
            "fetch.queue.backoff.ms": PREFETCH_BACKOFF_MS,
            # only committed transactions (librdkafka's default, stated: exactly-once needs it)
            "isolation.level": "read_committed",
            **_optional(
                {
                    "max.poll.interval.ms": _ms(conf.broker_max_poll_interval),
                    "group.instance.id": conf.consumer_group_instance_id,
                }
            ),
        }
        owned: dict[str, tuple[Any, str]] = {
            "group.id": (self._group(group_id), "the worker's consumer group is the app id"),
            "enable.auto.commit": (False, "the worker commits once outputs are durable"),
            "enable.auto.offset.store": (False, "the worker commits once outputs are durable"),
        }
        if conf.exactly_once:
            owned["isolation.level"] = ("read_committed", "exactly_once reads committed data")
        return self._build("consumer", base, owned)

    def reply_consumer(self, group_id: str) -> ClientConfig:
        """The consumer of ``agent.ask()`` replies: a group of its own, from the end."""
        conf = self.settings
        group = self._group(group_id)
        base = {
            "session.timeout.ms": _ms(conf.broker_session_timeout),
            "heartbeat.interval.ms": _ms(conf.broker_heartbeat_interval),
        }
        owned: dict[str, tuple[Any, str]] = {
            "group.id": (group, "each asking process reads the replies in a group of its own"),
            "auto.offset.reset": ("latest", "replies are read from the end"),
            "enable.auto.commit": (False, "reply offsets are never committed"),
        }
        return self._build("reply-consumer", base, owned)

    def router_reader(self) -> ClientConfig:
        """Reads the app's router topic (``faust.web.directory``: every worker's web URL
        and partitions) from its start, outside any group, and waits for more."""
        owned: dict[str, tuple[Any, str]] = {
            "group.id": (router_reader_group(self.settings.id), "the reader never commits"),
            "enable.auto.commit": (False, "the reader never commits"),
            "enable.auto.offset.store": (False, "the reader never commits"),
            "auto.offset.reset": ("earliest", "every worker's latest record is read"),
        }
        return self._build("router-reader", {}, owned)

    def changelog_reader(self) -> ClientConfig:
        """Reads changelog partitions (recovery, global tables) to their true end."""
        owned: dict[str, tuple[Any, str]] = {
            # required by librdkafka; the reader is assigned partitions and never commits
            "group.id": (changelog_reader_group(self.settings.id), "the reader never commits"),
            "enable.auto.commit": (False, "the reader never commits"),
            "enable.auto.offset.store": (False, "the reader never commits"),
            "enable.partition.eof": (True, "recovery stops at each partition's true end"),
            "auto.offset.reset": ("error", "recovery detects changelogs that lost data"),
            "isolation.level": ("read_committed", "tables restore committed changes only"),
        }
        # an empty or caught-up partition answers at once (EOF) instead of after 500 ms
        return self._build("changelog-reader", {"fetch.wait.max.ms": 10}, owned)

    def producer(
        self, *, transactional_id: str | None = None, track_deliveries: bool = False
    ) -> ClientConfig:
        """The worker's producer; transactional with ``transactional_id`` (exactly-once);
        ``track_deliveries``: success reports too (tables store their changelog offsets)."""
        conf = self.settings
        acks = conf.acks
        linger = conf.producer_linger
        if linger is None and conf.producer_linger_ms is not None:
            linger = conf.producer_linger_ms / 1000
        base = {
            # the Java client's partitioner: keys land where Kafka Streams and Faust put them
            "partitioner": "murmur2_random",
            # no duplicates or reordering from the producer's own retries (needs acks=all)
            "enable.idempotence": acks == -1,
            **_optional(
                {
                    "acks": acks if conf.producer_acks is not None else None,
                    "compression.type": conf.producer_compression_type,
                    "linger.ms": _ms(linger),
                    "batch.size": conf.producer_max_batch_size,
                    "message.max.bytes": conf.producer_max_request_size,
                    "delivery.timeout.ms": _ms(conf.producer_request_timeout),
                    "metadata.max.age.ms": conf.producer_metadata_max_age_ms,
                    "connections.max.idle.ms": conf.producer_connections_max_idle_ms,
                }
            ),
        }
        owned: dict[str, tuple[Any, str]] = {
            "delivery.report.only.error": (
                not track_deliveries,
                "the worker decides which deliveries it needs reported",
            ),
            "transactional.id": (
                transactional_id,
                "exactly_once gives each worker a transactional id of its own",
            ),
        }
        if transactional_id is not None:
            owned["enable.idempotence"] = (True, "transactions need the idempotent producer")
            # A worker that dies inside a transaction leaves it open, holding the last
            # stable offset of every partition it wrote (changelogs, outputs), until a
            # successor with its transactional id starts, or the broker aborts it after
            # this long: what a replacement on a fresh data directory (a new id) waits at
            # most. Longer than any transaction of ours (a commit every 0.1 s), and long
            # enough to ride out a broker stall, because librdkafka also caps the delivery
            # timeout (message.timeout.ms) at it; never below a delivery timeout asked for.
            delivery = _ms(conf.producer_request_timeout)
            base["transaction.timeout.ms"] = max(TRANSACTION_TIMEOUT_MS, delivery or 0)
        return self._build("producer", base, owned)

    def admin(self) -> ClientConfig:
        """The admin client (topic creation, metadata, the connection check)."""
        return self._build("admin", {}, {})

    def schema_registry(self, url: str) -> ClientConfig:
        return schema_registry_config(self.settings, url)

    # -- assembly --------------------------------------------------------------------------

    def _group(self, group_id: str) -> str:
        """``group_id``, checked to start with the app id (ACLs are granted per prefix)."""
        app_id = self.settings.id
        if group_id != app_id and not group_id.startswith(f"{app_id}-"):
            raise ValueError(f"group id {group_id!r} does not start with the app id {app_id!r}")
        return group_id

    def _build(
        self, kind: str, base: dict[str, Any], owned: dict[str, tuple[Any, str]]
    ) -> ClientConfig:
        conf = self.settings
        properties: dict[str, Any] = {
            "bootstrap.servers": ",".join(_servers(conf, kind)),
            "client.id": f"{conf.client_id_prefix}-{kind}",
            **self._common(kind),
            **base,
            **self.security,
        }
        if self.logger is not None:
            properties["logger"] = self.logger
        if self.error_cb is not None:
            properties["error_cb"] = self.error_cb
        always_owned: dict[str, tuple[Any, str]] = {
            "bootstrap.servers": (None, "set the broker setting instead"),
            "error_cb": (None, "the runtime reports client errors itself"),
            "logger": (None, "librdkafka logs to the faust.librdkafka logger"),
        }
        for source, extra in self._pass_through(kind):
            for key, value in extra.items():
                reason = (owned.get(key) or always_owned.get(key) or (None, None))[1]
                if reason is not None:
                    raise ImproperlyConfigured(
                        f"{source}[{key!r}] cannot be set for the {kind} client: {reason}"
                    )
                if key in ("security.protocol", "sasl.mechanism") and key in self.security:
                    ours = self.security[key]
                    if str(value).upper() != ours:
                        raise ImproperlyConfigured(
                            f"{source}[{key!r}]={value!r} contradicts broker_credentials "
                            f"({key}={ours}); set one of them"
                        )
                properties[key] = value
        for key, (value, _) in owned.items():
            if value is not None:
                properties[key] = value
        if properties.get("enable.ssl.certificate.verification") in (False, "false"):
            _warn_once("TLS certificate verification is off: the broker is not authenticated")
        config = ClientConfig(kind, properties)
        log.debug("%s client: %r", kind, config)
        return config

    def _common(self, kind: str) -> dict[str, Any]:
        """Faust's settings that apply to every client of ``kind``."""
        conf = self.settings
        common: dict[str, Any] = {"socket.timeout.ms": _ms(conf.broker_request_timeout)}
        if kind in CONSUMER_KINDS:
            common.update(
                {
                    "max.partition.fetch.bytes": conf.consumer_max_fetch_size,
                    "check.crcs": conf.broker_check_crcs,
                    "metadata.max.age.ms": conf.consumer_metadata_max_age_ms,
                    "connections.max.idle.ms": conf.consumer_connections_max_idle_ms,
                }
            )
        return _optional(common)

    def _pass_through(self, kind: str) -> Iterable[tuple[str, dict[str, Any]]]:
        conf = self.settings
        yield "broker_config", conf.broker_config
        if kind in CONSUMER_KINDS:
            yield "consumer_config", conf.consumer_config
        elif kind == "producer":
            yield "producer_config", conf.producer_config
        elif kind == "admin":
            yield "admin_config", conf.admin_config


def schema_registry_config(settings: Settings, url: str) -> ClientConfig:
    """The Confluent Schema Registry client's configuration: ``url`` and
    ``schema_registry_config`` (``basic.auth.user.info``, ``ssl.ca.location`` ...)."""
    config = ClientConfig("schema-registry", {**settings.schema_registry_config})
    if "url" in config:
        raise ImproperlyConfigured(
            "schema_registry_config['url'] cannot be set: use schema_registry_url"
        )
    config["url"] = url
    log.debug("schema-registry client: %r", config)
    return config


def _servers(conf: Settings, kind: str) -> list[str]:
    from faust.settings import parse_broker_url

    if kind in CONSUMER_KINDS and conf.broker_consumer is not None:
        return parse_broker_url(conf.broker_consumer, "broker_consumer")
    if kind == "producer" and conf.broker_producer is not None:
        return parse_broker_url(conf.broker_producer, "broker_producer")
    return parse_broker_url(conf.broker)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _optional(properties: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if value is not None}


def _offset_reset(value: str) -> str:
    # Faust's "none" (no reset: an error) is librdkafka's "error"
    return "error" if value == "none" else value


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


# -- credentials -> librdkafka ----------------------------------------------------------------


def security_properties(settings: Settings) -> dict[str, Any]:
    """``security.protocol``, ``sasl.*`` and ``ssl.*`` for ``broker_credentials`` and
    ``ssl_context`` (nothing when neither is set: librdkafka's PLAINTEXT, or whatever the
    pass-through settings say)."""
    credentials: Credentials | None = settings.broker_credentials
    app_tls: SSLCredentials | None = settings.ssl_context
    if credentials is None:
        if app_tls is None:
            return {}
        return {"security.protocol": "SSL", **tls_properties(app_tls, "ssl_context")}
    if isinstance(credentials, SSLCredentials):
        return {"security.protocol": "SSL", **tls_properties(credentials, "broker_credentials")}
    if not isinstance(credentials, SASLCredentials | GSSAPICredentials | OAuthCredentials):
        raise ImproperlyConfigured(f"unsupported broker_credentials {credentials!r}")
    # Faust's aiokafka driver ignores the App's ssl_context when credentials are given and
    # then authenticates in the clear; an App that asked for TLS gets TLS here.
    tls = credentials.tls if credentials.tls is not None else app_tls
    properties: dict[str, Any] = {
        "security.protocol": "SASL_SSL" if tls is not None else "SASL_PLAINTEXT",
        "sasl.mechanism": credentials.mechanism.value,
    }
    if isinstance(credentials, SASLCredentials):
        if not credentials.username or credentials.password is None:
            raise ImproperlyConfigured(
                f"broker_credentials: SASL {credentials.mechanism.value} needs a username "
                "and a password"
            )
        properties["sasl.username"] = credentials.username
        properties["sasl.password"] = credentials.password
    elif isinstance(credentials, GSSAPICredentials):
        if credentials.kerberos_domain_name is not None:
            raise ImproperlyConfigured(
                "GSSAPICredentials(kerberos_domain_name=...) cannot be honoured: librdkafka "
                "names the service principal after each broker's host name; leave it out"
            )
        properties["sasl.kerberos.service.name"] = credentials.kerberos_service_name
    else:
        if credentials.oauth_cb is not None:
            properties["oauth_cb"] = oauth_callback(credentials.oauth_cb)
    if tls is not None:
        properties.update(tls_properties(tls, "broker_credentials"))
    return properties


def tls_properties(tls: SSLCredentials, setting: str) -> dict[str, Any]:
    """librdkafka's ``ssl.*`` properties for ``tls`` (a context or files)."""
    if tls.given_context is not None:
        return context_properties(tls.given_context, setting)
    properties: dict[str, Any] = {
        "enable.ssl.certificate.verification": True,
        "ssl.endpoint.identification.algorithm": "https",
    }
    if tls.capath is not None and (tls.cafile is not None or tls.cadata is not None):
        raise ImproperlyConfigured(
            f"{setting}: give capath alone, or cafile and/or cadata (librdkafka takes one "
            "CA location)"
        )
    if tls.cadata is not None:
        pem = _pem_text(tls.cadata)
        if tls.cafile is not None:
            pem = _read_text(tls.cafile, f"{setting}: cafile") + "\n" + pem
        properties["ssl.ca.pem"] = pem
    elif tls.cafile is not None or tls.capath is not None:
        properties["ssl.ca.location"] = tls.cafile or tls.capath
    else:
        properties.update(_system_ca())
    if tls.certfile is not None:
        properties["ssl.certificate.location"] = tls.certfile
        properties["ssl.key.location"] = tls.keyfile or tls.certfile
    if tls.keyfile_password is not None:
        properties["ssl.key.password"] = tls.keyfile_password
    return properties


def context_properties(context: ssl.SSLContext, setting: str) -> dict[str, Any]:
    """What librdkafka can honour of an ``ssl.SSLContext``; refuses the rest."""
    what = f"{setting}: the ssl.SSLContext"
    if has_client_certificate(context):
        raise ImproperlyConfigured(
            f"{what} holds a client certificate, which librdkafka cannot read from a context: "
            "pass faust.SSLCredentials(cafile=..., certfile=..., keyfile=...) instead, or "
            "ssl.certificate.location/ssl.key.location in broker_config"
        )
    if context.minimum_version > ssl.TLSVersion.TLSv1_2 and (
        context.minimum_version != ssl.TLSVersion.MAXIMUM_SUPPORTED
    ):
        raise ImproperlyConfigured(
            f"{what} requires {context.minimum_version.name} or later, which librdkafka "
            "cannot enforce (it negotiates TLS 1.2 or 1.3)"
        )
    if context.verify_flags & ssl.VERIFY_CRL_CHECK_LEAF:
        raise ImproperlyConfigured(
            f"{what} checks CRLs, which librdkafka cannot read from a context: set "
            "ssl.crl.location in broker_config and pass the CA files with "
            "faust.SSLCredentials(cafile=...)"
        )
    verify = context.verify_mode != ssl.CERT_NONE
    properties: dict[str, Any] = {
        "enable.ssl.certificate.verification": verify,
        "ssl.endpoint.identification.algorithm": "https" if context.check_hostname else "none",
    }
    if not verify:
        return properties
    authorities = context.get_ca_certs(binary_form=True)
    stats = context.cert_store_stats()
    if stats.get("x509", 0) != len(authorities):
        raise ImproperlyConfigured(
            f"{what} trusts certificates that are not CA certificates (a pinned server "
            "certificate?), which cannot be read from a context: pass "
            "faust.SSLCredentials(cafile=...)"
        )
    if not authorities:
        raise ImproperlyConfigured(
            f"{what} trusts no CA certificate that can be read from it (certificates of a "
            "capath directory load lazily): pass faust.SSLCredentials(cafile=... or capath=...)"
        )
    system = _system_ca()
    if "ssl.ca.location" in system and set(authorities) == _system_authorities():
        properties.update(system)  # the system's trust store, by its file
    else:
        properties["ssl.ca.pem"] = "".join(ssl.DER_cert_to_PEM_cert(der) for der in authorities)
    return properties


def _system_ca() -> dict[str, Any]:
    """The system's CA certificates, found as Python finds them (else librdkafka probes)."""
    paths = ssl.get_default_verify_paths()
    if paths.cafile:
        return {"ssl.ca.location": paths.cafile}
    if paths.capath:
        return {"ssl.ca.location": paths.capath}
    return {"ssl.ca.location": "probe"}


def _system_authorities() -> set[bytes]:
    default = ssl.create_default_context()
    return set(default.get_ca_certs(binary_form=True))


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, encoding="ascii") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImproperlyConfigured(f"{what}: cannot read {path} ({exc})") from None


def _pem_text(cadata: str | bytes) -> str:
    """``cadata`` as Python takes it (PEM text, or DER bytes of one or more certificates)."""
    if isinstance(cadata, str):
        return cadata
    pems = []
    data = bytes(cadata)
    while data:
        length = _der_length(data)
        pems.append(ssl.DER_cert_to_PEM_cert(data[:length]))
        data = data[length:]
    return "".join(pems)


def _der_length(data: bytes) -> int:
    """The length of the DER element (a certificate's SEQUENCE) at the start of ``data``."""
    if len(data) < 2 or data[0] != 0x30:
        raise ImproperlyConfigured("cadata: not DER-encoded certificates")
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def has_client_certificate(context: ssl.SSLContext) -> bool:
    """Whether ``load_cert_chain`` was called on ``context``.

    Python does not say, so this asks OpenSSL (``SSL_CTX_get0_certificate``) about the
    ``SSL_CTX`` the context wraps, after checking that the pointer found really is that
    ``SSL_CTX`` (its verify mode must match the context's). When the check cannot be made
    (another Python implementation), a warning says what to do instead.
    """
    try:
        import _ssl

        library = ctypes.CDLL(getattr(_ssl, "__file__", None))
        get_certificate = library.SSL_CTX_get0_certificate
        get_verify_mode = library.SSL_CTX_get_verify_mode
        get_certificate.restype = ctypes.c_void_p
        get_certificate.argtypes = [ctypes.c_void_p]
        get_verify_mode.restype = ctypes.c_int
        get_verify_mode.argtypes = [ctypes.c_void_p]
        # CPython's PySSLContext: the object header, then the SSL_CTX pointer
        pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
        expected = {ssl.CERT_NONE: 0, ssl.CERT_OPTIONAL: 1, ssl.CERT_REQUIRED: 3}
        if not pointer or get_verify_mode(pointer) != expected[context.verify_mode]:
            raise LookupError("unexpected SSLContext layout")
        return get_certificate(pointer) is not None
    except Exception:
        _warn_once(
            "cannot tell whether the ssl.SSLContext holds a client certificate; librdkafka "
            "cannot use one from a context: pass faust.SSLCredentials(certfile=..., "
            "keyfile=...) if it does"
        )
        return False


# -- OAuth ------------------------------------------------------------------------------------

#: expiry assumed for a token that is not a JWT with an ``exp`` claim
OPAQUE_TOKEN_LIFETIME = 300.0


def oauth_callback(provider: Any) -> Callable[[str], tuple[str, float]]:
    """librdkafka's ``oauth_cb`` for Faust's token provider (``token()``, sync or async),
    or the provider itself when it already is a librdkafka callback."""
    token_method = getattr(provider, "token", None)
    if token_method is None:
        if callable(provider):
            return provider  # type: ignore[no-any-return]
        raise ImproperlyConfigured(
            "OAuthCredentials(oauth_cb=...) must have a token() method or be "
            "librdkafka's oauth_cb(config) -> (token, expiry)"
        )

    def oauth_cb(_config: str) -> tuple[str, float]:
        token = token_method()
        if inspect.isawaitable(token):
            token = _await(token)
        token = str(token)
        return token, jwt_expiry(token) or time.time() + OPAQUE_TOKEN_LIFETIME

    return oauth_cb


def _await(awaitable: Any) -> Any:
    """Run a token provider's coroutine to completion (librdkafka calls from any thread,
    possibly the one running the worker's event loop: use a thread of its own)."""

    async def wait() -> Any:
        return await awaitable

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, wait()).result()


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, or None for any other token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        expiry = json.loads(base64.urlsafe_b64decode(payload))["exp"]
        return float(expiry)
    except Exception:
        return None
