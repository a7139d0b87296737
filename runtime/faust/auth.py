"""Broker credentials, spelled as in Faust: TLS, SASL (PLAIN, SCRAM), Kerberos, OAuth.

These classes only record what the user asked for; ``faust.transport.client_config`` turns
them into librdkafka properties for every client, and refuses with a start-up error what
librdkafka cannot honour. No repr shows a password. Example::

    app = faust.App(
        "orders",
        broker="kafka://broker-1:9093;broker-2:9093",
        broker_credentials=faust.SASLCredentials(
            username="orders",
            password=os.environ["KAFKA_PASSWORD"],
            mechanism="SCRAM-SHA-512",
            ssl_context=ssl.create_default_context(),   # SASL over TLS (SASL_SSL)
        ),
    )

The constructors take faust-streaming's arguments. Additions: ``SSLCredentials`` also takes
``certfile``/``keyfile``/``keyfile_password`` (a client certificate, which librdkafka cannot
read out of an ``ssl.SSLContext``), and wherever an ``ssl_context`` goes an
``SSLCredentials`` may go instead. The same credentials can come from the environment as
JSON or as one variable per field (:func:`credentials_from_mapping`, README).
"""

from __future__ import annotations

import difflib
import enum
import ssl
from collections.abc import Callable, Mapping
from typing import Any

from faust.exceptions import ImproperlyConfigured

__all__ = [
    "AuthProtocol",
    "Credentials",
    "GSSAPICredentials",
    "OAuthCredentials",
    "SASLCredentials",
    "SASLMechanism",
    "SSLCredentials",
    "credentials_from_mapping",
    "to_credentials",
]


class AuthProtocol(enum.Enum):
    """Kafka's ``security.protocol`` values."""

    SSL = "SSL"
    PLAINTEXT = "PLAINTEXT"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SASLMechanism(enum.Enum):
    """Kafka's ``sasl.mechanism`` values."""

    PLAIN = "PLAIN"
    GSSAPI = "GSSAPI"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    OAUTHBEARER = "OAUTHBEARER"


class Credentials:
    """Base class of broker credentials."""

    protocol: AuthProtocol = AuthProtocol.PLAINTEXT


def _mechanism(value: str | SASLMechanism | None, default: SASLMechanism) -> SASLMechanism:
    if value is None:
        return default
    try:
        return SASLMechanism(value.upper() if isinstance(value, str) else value)
    except ValueError:
        names = ", ".join(m.value for m in SASLMechanism)
        raise ImproperlyConfigured(f"unknown SASL mechanism {value!r} (one of {names})") from None


def _tls(ssl_context: SSLArg | None) -> SSLCredentials | None:
    if ssl_context is None or isinstance(ssl_context, SSLCredentials):
        return ssl_context
    if isinstance(ssl_context, ssl.SSLContext):
        return SSLCredentials(ssl_context)
    raise ImproperlyConfigured(
        f"ssl_context must be an ssl.SSLContext or faust.SSLCredentials, "
        f"not {type(ssl_context).__name__}"
    )


class SSLCredentials(Credentials):
    """TLS to the brokers (``security.protocol=SSL``), optionally with a client certificate.

    Give either a ready ``ssl.SSLContext`` (its CA certificates, verification mode and host
    name check are used; a client certificate loaded into it cannot be read by librdkafka and
    is refused with a message saying to pass ``certfile``/``keyfile`` here instead) or the
    files: ``cafile``/``capath``/``cadata`` (trusted CAs, default: the system's),
    ``certfile``/``keyfile``/``keyfile_password`` (the client certificate, for mTLS).
    """

    protocol = AuthProtocol.SSL

    def __init__(
        self,
        context: ssl.SSLContext | None = None,
        *,
        purpose: ssl.Purpose | None = None,
        cafile: str | None = None,
        capath: str | None = None,
        cadata: str | bytes | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        keyfile_password: str | None = None,
    ) -> None:
        if context is not None and not isinstance(context, ssl.SSLContext):
            raise ImproperlyConfigured(
                f"SSLCredentials(context) must be an ssl.SSLContext, not {type(context).__name__}"
            )
        if purpose is not None and purpose != ssl.Purpose.SERVER_AUTH:
            raise ImproperlyConfigured(
                "SSLCredentials(purpose=...) must be ssl.Purpose.SERVER_AUTH (a Kafka client "
                "verifies the broker); CLIENT_AUTH makes a server-side context"
            )
        given = {"cafile": cafile, "capath": capath, "cadata": cadata, "certfile": certfile}
        if context is not None and any(value is not None for value in given.values()):
            raise ImproperlyConfigured(
                "SSLCredentials takes either an ssl.SSLContext or files (cafile=, certfile= ...), "
                "not both"
            )
        if keyfile is not None and certfile is None:
            raise ImproperlyConfigured("SSLCredentials(keyfile=...) needs certfile= too")
        #: the context the user passed (None: built from the files when asked for)
        self.given_context = context
        self._built: ssl.SSLContext | None = None
        self.purpose = purpose or ssl.Purpose.SERVER_AUTH
        self.cafile = cafile
        self.capath = capath
        self.cadata = cadata
        self.certfile = certfile
        self.keyfile = keyfile
        self.keyfile_password = keyfile_password

    @property
    def context(self) -> ssl.SSLContext:
        """The ``ssl.SSLContext`` (built from the files when none was given), as in Faust."""
        if self.given_context is not None:
            return self.given_context
        if self._built is None:
            context = ssl.create_default_context(
                self.purpose, cafile=self.cafile, capath=self.capath, cadata=self.cadata
            )
            if self.certfile is not None:
                context.load_cert_chain(self.certfile, self.keyfile, self.keyfile_password)
            self._built = context
        return self._built

    def __repr__(self) -> str:
        if self.given_context is not None:
            return f"<SSLCredentials: context={self.given_context!r}>"
        shown = {
            "cafile": self.cafile,
            "capath": self.capath,
            "cadata": "..." if self.cadata is not None else None,
            "certfile": self.certfile,
            "keyfile": self.keyfile,
            "keyfile_password": "[redacted]" if self.keyfile_password is not None else None,
        }
        fields = ", ".join(f"{name}={value!r}" for name, value in shown.items() if value)
        return f"<SSLCredentials: {fields or 'system CA certificates'}>"


#: what an ``ssl_context=`` argument may be: a context, or TLS settings as files/PEM text
SSLArg = ssl.SSLContext | SSLCredentials


class SASLCredentials(Credentials):
    """SASL PLAIN or SCRAM (``mechanism='SCRAM-SHA-256'|'SCRAM-SHA-512'``) with a user name
    and password; over TLS (``SASL_SSL``) when ``ssl_context`` is given, else in the clear
    (``SASL_PLAINTEXT``), as in Faust."""

    protocol = AuthProtocol.SASL_PLAINTEXT
    mechanism = SASLMechanism.PLAIN

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        ssl_context: SSLArg | None = None,
        mechanism: str | SASLMechanism | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.ssl_context = ssl_context
        self.tls = _tls(ssl_context)
        if self.tls is not None:
            self.protocol = AuthProtocol.SASL_SSL
        self.mechanism = _mechanism(mechanism, SASLMechanism.PLAIN)
        if self.mechanism not in (
            SASLMechanism.PLAIN,
            SASLMechanism.SCRAM_SHA_256,
            SASLMechanism.SCRAM_SHA_512,
        ):
            other = (
                "GSSAPICredentials"
                if self.mechanism is SASLMechanism.GSSAPI
                else ("OAuthCredentials")
            )
            raise ImproperlyConfigured(
                f"SASLCredentials takes PLAIN or SCRAM; for {self.mechanism.value} use "
                f"faust.{other}"
            )

    def __repr__(self) -> str:
        return (
            f"<SASLCredentials: username={self.username!r} mechanism={self.mechanism.value} "
            f"{self.protocol.value}>"
        )


class GSSAPICredentials(Credentials):
    """Kerberos (``sasl.mechanism=GSSAPI``). The client principal and keytab go in the
    pass-through settings (``sasl.kerberos.principal``, ``sasl.kerberos.keytab``)."""

    protocol = AuthProtocol.SASL_PLAINTEXT
    mechanism = SASLMechanism.GSSAPI

    def __init__(
        self,
        *,
        kerberos_service_name: str = "kafka",
        kerberos_domain_name: str | None = None,
        ssl_context: SSLArg | None = None,
        mechanism: str | SASLMechanism | None = None,
    ) -> None:
        self.kerberos_service_name = kerberos_service_name
        self.kerberos_domain_name = kerberos_domain_name
        self.ssl_context = ssl_context
        self.tls = _tls(ssl_context)
        if self.tls is not None:
            self.protocol = AuthProtocol.SASL_SSL
        self.mechanism = _mechanism(mechanism, SASLMechanism.GSSAPI)

    def __repr__(self) -> str:
        return (
            f"<GSSAPICredentials: kerberos service={self.kerberos_service_name!r} "
            f"domain={self.kerberos_domain_name!r} {self.protocol.value}>"
        )


class OAuthCredentials(Credentials):
    """SASL OAUTHBEARER with tokens from ``oauth_cb``.

    ``oauth_cb`` is either a Faust/aiokafka token provider (an object whose ``token()``,
    sync or async, returns the token string; its expiry is read from the JWT's ``exp``
    claim) or librdkafka's own callback, ``oauth_cb(config_str) -> (token, expiry_epoch)``.
    Without ``oauth_cb``, configure librdkafka's built-in OIDC through the pass-through
    settings (``sasl.oauthbearer.method=oidc`` ...)."""

    protocol = AuthProtocol.SASL_PLAINTEXT
    mechanism = SASLMechanism.OAUTHBEARER

    def __init__(
        self,
        *,
        oauth_cb: Any = None,
        ssl_context: SSLArg | None = None,
    ) -> None:
        self.oauth_cb: Callable[..., Any] | Any = oauth_cb
        self.ssl_context = ssl_context
        self.tls = _tls(ssl_context)
        if self.tls is not None:
            self.protocol = AuthProtocol.SASL_SSL

    def __repr__(self) -> str:
        return f"<OAuthCredentials: {self.protocol.value}>"


CredentialsArg = Credentials | ssl.SSLContext


def to_credentials(value: CredentialsArg | None) -> Credentials | None:
    """What ``broker_credentials=`` accepts: credentials, an ``ssl.SSLContext`` (TLS), None."""
    if value is None or isinstance(value, Credentials):
        return value
    if isinstance(value, ssl.SSLContext):
        return SSLCredentials(value)
    raise ImproperlyConfigured(
        f"broker_credentials must be faust.SSLCredentials, SASLCredentials, GSSAPICredentials, "
        f"OAuthCredentials or an ssl.SSLContext, not {type(value).__name__}"
    )


# -- credentials from the environment -------------------------------------------------------

#: the keys of the mapping form (JSON in FAUST_BROKER_CREDENTIALS, or one variable each)
SSL_KEYS = ("cafile", "capath", "cadata", "certfile", "keyfile", "keyfile_password")
CREDENTIAL_KEYS = (
    "mechanism",
    "username",
    "password",
    "kerberos_service_name",
    "kerberos_domain_name",
    "ssl",
    *SSL_KEYS,
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ImproperlyConfigured(f"credentials: {name} must be true or false, not {value!r}")


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ImproperlyConfigured(
                f"{what}: unknown key {key!r}{hint}; known: {', '.join(allowed)}"
            )


def ssl_from_mapping(data: Mapping[str, Any], what: str = "ssl_context") -> SSLCredentials:
    """``{"cafile": ..., "certfile": ..., "keyfile": ...}`` as SSLCredentials."""
    _check_keys(data, SSL_KEYS, what)
    return SSLCredentials(**{key: data[key] for key in SSL_KEYS if data.get(key) is not None})


def credentials_from_mapping(data: Mapping[str, Any]) -> Credentials:
    """Credentials described by plain values (the environment's form).

    ``mechanism`` picks the kind: PLAIN or SCRAM-* -> SASLCredentials (``username``,
    ``password``), GSSAPI -> GSSAPICredentials (``kerberos_service_name``,
    ``kerberos_domain_name``), OAUTHBEARER -> OAuthCredentials (librdkafka's OIDC settings
    in the pass-through); no mechanism -> SSLCredentials. SASL goes over TLS when ``ssl`` is
    true or any TLS file is given (``cafile``, ``capath``, ``cadata``, ``certfile``,
    ``keyfile``, ``keyfile_password``). Example::

        credentials_from_mapping({"mechanism": "SCRAM-SHA-512", "username": "orders",
                                  "password": "...", "cafile": "/etc/kafka/ca.pem"})
    """
    _check_keys(data, CREDENTIAL_KEYS, "broker_credentials")
    values = {key: value for key, value in data.items() if value is not None}
    tls_files = {key: values[key] for key in SSL_KEYS if key in values}
    use_tls = _flag("ssl", values["ssl"]) if "ssl" in values else bool(tls_files)
    if tls_files and not use_tls:
        raise ImproperlyConfigured(
            "broker_credentials: ssl is false but TLS files are given "
            f"({', '.join(sorted(tls_files))})"
        )
    tls = SSLCredentials(**tls_files) if use_tls else None
    mechanism = values.get("mechanism")
    if mechanism is None:
        sasl_only = [k for k in ("username", "password", "kerberos_service_name") if k in values]
        if sasl_only:
            raise ImproperlyConfigured(
                f"broker_credentials: {', '.join(sasl_only)} given without a mechanism "
                "(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER)"
            )
        return tls if tls is not None else SSLCredentials()
    kind = _mechanism(mechanism, SASLMechanism.PLAIN)
    if kind is SASLMechanism.GSSAPI:
        return GSSAPICredentials(
            kerberos_service_name=values.get("kerberos_service_name", "kafka"),
            kerberos_domain_name=values.get("kerberos_domain_name"),
            ssl_context=tls,
        )
    if kind is SASLMechanism.OAUTHBEARER:
        return OAuthCredentials(ssl_context=tls)
    missing = [key for key in ("username", "password") if key not in values]
    if missing:
        raise ImproperlyConfigured(
            f"broker_credentials: {kind.value} needs {' and '.join(missing)}"
        )
    return SASLCredentials(
        username=str(values["username"]),
        password=str(values["password"]),
        mechanism=kind,
        ssl_context=tls,
    )
