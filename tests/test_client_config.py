"""Settings, credentials and the one place that builds every client's librdkafka config.

No broker here: these tests check the exact configuration each kind of client receives
(consumer, reply consumer, changelog reader, producer, transactional producer, admin,
Schema Registry), the environment's forms, and that no secret shows in a repr or an error.
The same configurations are used against a real broker in tests/test_security_on_kafka.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from security_helpers import make_certificate

import faust
from faust.auth import credentials_from_mapping
from faust.exceptions import ImproperlyConfigured
from faust.settings import Settings, parse_broker_url
from faust.transport.client_config import ClientConfigs, jwt_expiry, oauth_callback, redacted

SECRET = "s3cr3t-Pa55"
KINDS = ("consumer", "reply-consumer", "changelog-reader", "router-reader", "producer", "admin")


def settings(**kwargs: Any) -> Settings:
    return Settings.from_app_kwargs("orders", kwargs.pop("broker", "kafka://b1:9093"), kwargs)


def every_client(configs: ClientConfigs) -> dict[str, dict[str, Any]]:
    return {
        "consumer": configs.consumer("orders"),
        "reply-consumer": configs.reply_consumer("orders-reply-1"),
        "changelog-reader": configs.changelog_reader(),
        "router-reader": configs.router_reader(),
        "producer": configs.producer(),
        "transactional-producer": configs.producer(transactional_id="orders-w1"),
        "admin": configs.admin(),
    }


# -- broker URLs ------------------------------------------------------------------------------


class FakeURL:
    """What yarl.URL offers that parse_broker_url relies on: host and str()."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.host = text.split("://")[-1].split(":")[0]

    def __str__(self) -> str:
        return self.text


@pytest.mark.parametrize(
    ("value", "servers"),
    [
        ("kafka://a:9092;b:9093", ["a:9092", "b:9093"]),
        ("kafka://a,b:9093", ["a:9092", "b:9093"]),
        ("a:1;kafka://b", ["a:1", "b:9092"]),
        ("aiokafka://a:1", ["a:1"]),
        ("confluent://a:1/", ["a:1"]),
        (["kafka://a:1", "kafka://b:2"], ["a:1", "b:2"]),
        (("a", "b"), ["a:9092", "b:9092"]),
        (FakeURL("kafka://a:7"), ["a:7"]),
        ([FakeURL("kafka://a:7"), FakeURL("kafka://b:8")], ["a:7", "b:8"]),
        ("kafka://[::1]", ["[::1]:9092"]),
        ("kafka://[::1]:9093", ["[::1]:9093"]),
    ],
)
def test_broker_forms(value: Any, servers: list[str]) -> None:
    assert parse_broker_url(value) == servers
    assert ClientConfigs(settings(broker=value)).admin()["bootstrap.servers"] == ",".join(servers)


def test_broker_url_errors_name_the_problem_never_the_password() -> None:
    with pytest.raises(ImproperlyConfigured, match="unsupported broker URL scheme 'http'"):
        settings(broker="http://a:1")
    with pytest.raises(ImproperlyConfigured) as info:
        settings(broker=f"kafka://user:{SECRET}@a:9092")
    assert "broker_credentials" in str(info.value) and SECRET not in str(info.value)


def test_separate_consumer_and_producer_brokers() -> None:
    configs = ClientConfigs(settings(broker_consumer="c:1", broker_producer=["kafka://p:2"]))
    clients = every_client(configs)
    assert clients["consumer"]["bootstrap.servers"] == "c:1"
    assert clients["changelog-reader"]["bootstrap.servers"] == "c:1"
    assert clients["producer"]["bootstrap.servers"] == "p:2"
    assert clients["admin"]["bootstrap.servers"] == "b1:9093"


# -- every client kind ------------------------------------------------------------------------


def test_every_client_gets_the_credentials_ids_and_pass_through() -> None:
    conf = settings(
        broker_credentials=faust.SASLCredentials(
            username="orders", password=SECRET, mechanism="SCRAM-SHA-512"
        ),
        broker_config={"socket.keepalive.enable": True},
        consumer_config={"fetch.min.bytes": 10},
        producer_config={"linger.ms": 20},
        admin_config={"retries": 7},
    )
    clients = every_client(ClientConfigs(conf))
    for kind, config in clients.items():
        assert config["security.protocol"] == "SASL_PLAINTEXT", kind
        assert config["sasl.mechanism"] == "SCRAM-SHA-512", kind
        assert config["sasl.username"] == "orders", kind
        assert config["sasl.password"] == SECRET, kind
        assert config["bootstrap.servers"] == "b1:9093", kind
        assert config["client.id"].startswith("orders-"), kind
        assert config["socket.keepalive.enable"] is True, kind
        assert SECRET not in repr(config) and SECRET not in str(config), kind
        if "group.id" in config:
            assert config["group.id"] == "orders" or config["group.id"].startswith("orders-")
    for kind in ("consumer", "reply-consumer", "changelog-reader", "router-reader"):
        assert clients[kind]["fetch.min.bytes"] == 10
    assert clients["producer"]["linger.ms"] == 20 and "fetch.min.bytes" not in clients["producer"]
    assert clients["admin"]["retries"] == 7 and "linger.ms" not in clients["admin"]
    assert {config["client.id"] for config in clients.values()} == {
        "orders-consumer",
        "orders-reply-consumer",
        "orders-changelog-reader",
        "orders-router-reader",
        "orders-producer",
        "orders-admin",
    }


def test_exact_configuration_of_each_client() -> None:
    """What each client kind receives, beyond the common properties."""
    conf = settings(
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        broker_client_id="orders-svc",
        processing_guarantee="exactly_once",
    )
    configs = ClientConfigs(conf)
    common = {"bootstrap.servers": "b1:9093"}
    assert configs.consumer("orders") == {
        **common,
        "client.id": "orders-svc-consumer",
        "group.id": "orders",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        "queued.min.messages": 10_000,
        "fetch.queue.backoff.ms": 5,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    }
    reply = configs.reply_consumer("orders-reply-abc")
    assert reply == {
        **common,
        "client.id": "orders-svc-reply-consumer",
        "group.id": "orders-reply-abc",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        "auto.offset.reset": "latest",
        "enable.auto.commit": False,
    }
    assert configs.changelog_reader() == {
        **common,
        "client.id": "orders-svc-changelog-reader",
        "group.id": "orders-changelog-reader",
        "fetch.wait.max.ms": 10,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "error",
        "isolation.level": "read_committed",
    }
    assert configs.producer(transactional_id="orders-w1", track_deliveries=True) == {
        **common,
        "client.id": "orders-svc-producer",
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "delivery.report.only.error": False,
        "transactional.id": "orders-w1",
        "transaction.timeout.ms": 30_000,
    }
    assert configs.admin() == {**common, "client.id": "orders-svc-admin"}
    with pytest.raises(ValueError, match="does not start with the app id"):
        configs.reply_consumer("someone-else")


def test_the_consumers_prefetch_is_bounded_and_a_user_can_set_it() -> None:
    # librdkafka's default (100,000 messages a partition) was most of a worker's memory
    assert ClientConfigs(settings()).consumer("orders")["queued.min.messages"] == 10_000
    custom = ClientConfigs(
        settings(consumer_config={"queued.min.messages": 50_000, "fetch.queue.backoff.ms": 100})
    ).consumer("orders")
    assert custom["queued.min.messages"] == 50_000 and custom["fetch.queue.backoff.ms"] == 100


def test_faust_client_settings_map_to_librdkafka() -> None:
    conf = settings(
        broker_request_timeout=90,
        broker_max_poll_interval=1000,
        broker_max_poll_records=500,
        broker_check_crcs=True,
        consumer_max_fetch_size=2**20,
        consumer_group_instance_id="orders-0",
        consumer_metadata_max_age_ms=300_000,
        consumer_connections_max_idle_ms=540_000,
        producer_acks="all",
        producer_compression_type="lz4",
        producer_linger=0.005,
        producer_max_batch_size=65536,
        producer_max_request_size=2_000_000,
        producer_request_timeout=120,
        producer_metadata_max_age_ms=60_000,
        producer_connections_max_idle_ms=30_000,
    )
    configs = ClientConfigs(conf)
    consumer, producer = configs.consumer("orders"), configs.producer()
    assert {key: consumer[key] for key in consumer if key not in ("bootstrap.servers",)} == {
        "client.id": "orders-consumer",
        "socket.timeout.ms": 90_000,
        "max.partition.fetch.bytes": 2**20,
        "check.crcs": True,
        "metadata.max.age.ms": 300_000,
        "connections.max.idle.ms": 540_000,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 45_000,
        "heartbeat.interval.ms": 3000,
        "queued.min.messages": 10_000,
        "fetch.queue.backoff.ms": 5,
        "isolation.level": "read_committed",
        "max.poll.interval.ms": 1_000_000,
        "group.instance.id": "orders-0",
        "group.id": "orders",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    }
    assert {key: producer[key] for key in producer if key not in ("bootstrap.servers",)} == {
        "client.id": "orders-producer",
        "socket.timeout.ms": 90_000,
        "partitioner": "murmur2_random",
        "enable.idempotence": True,
        "acks": -1,
        "compression.type": "lz4",
        "linger.ms": 5,
        "batch.size": 65536,
        "message.max.bytes": 2_000_000,
        "delivery.timeout.ms": 120_000,
        "metadata.max.age.ms": 60_000,
        "connections.max.idle.ms": 30_000,
        "delivery.report.only.error": True,
    }
    assert conf.batch_size == 500
    # acks=1 is weaker than idempotence needs: it turns idempotence off (at-least-once only)
    assert ClientConfigs(settings(producer_acks=1)).producer()["enable.idempotence"] is False
    with pytest.raises(ImproperlyConfigured, match="exactly_once"):
        settings(producer_acks=1, processing_guarantee="exactly_once")
    with pytest.raises(ImproperlyConfigured, match="producer_partitioner"):
        settings(producer_partitioner=lambda key, all, available: 0)
    assert ClientConfigs(settings(producer_linger_ms=7)).producer()["linger.ms"] == 7


@pytest.mark.parametrize(
    ("setting", "key", "message"),
    [
        ("consumer_config", "group.id", "group is the app id"),
        ("consumer_config", "enable.auto.commit", "commits once outputs are durable"),
        ("producer_config", "transactional.id", "transactional id"),
        ("producer_config", "delivery.report.only.error", "deliveries"),
        ("broker_config", "bootstrap.servers", "broker setting"),
        ("admin_config", "error_cb", "reports client errors"),
    ],
)
def test_pass_through_cannot_take_what_the_runtime_owns(
    setting: str, key: str, message: str
) -> None:
    configs = ClientConfigs(settings(**{setting: {key: "x"}}))
    with pytest.raises(ImproperlyConfigured, match=message) as info:
        every_client(configs)
    assert f"{setting}[{key!r}]" in str(info.value)


def test_pass_through_cannot_contradict_the_credentials() -> None:
    conf = settings(
        broker_credentials=faust.SASLCredentials(username="u", password=SECRET),
        broker_config={"security.protocol": "PLAINTEXT"},
    )
    with pytest.raises(ImproperlyConfigured, match="contradicts broker_credentials") as info:
        ClientConfigs(conf).admin()
    assert SECRET not in str(info.value)
    # agreeing values and refinements are fine
    conf = settings(
        broker_credentials=faust.SASLCredentials(username="u", password=SECRET),
        broker_config={"security.protocol": "sasl_plaintext", "sasl.kerberos.kinit.cmd": "x"},
    )
    assert ClientConfigs(conf).admin()["sasl.kerberos.kinit.cmd"] == "x"


def test_schema_registry_config_comes_from_the_builder() -> None:
    conf = settings(schema_registry_config={"basic.auth.user.info": f"key:{SECRET}"})
    config = ClientConfigs(conf).schema_registry("https://sr.example:8081")
    assert config == {"url": "https://sr.example:8081", "basic.auth.user.info": f"key:{SECRET}"}
    assert SECRET not in repr(config)
    assert redacted({"url": f"https://key:{SECRET}@sr"}) == {"url": "https://[redacted]@sr"}


# -- credentials ------------------------------------------------------------------------------


def test_credentials_reprs_never_show_secrets() -> None:
    sasl = faust.SASLCredentials(username="u", password=SECRET, mechanism="SCRAM-SHA-256")
    tls = faust.SSLCredentials(cafile="ca.pem", certfile="c.pem", keyfile_password=SECRET)
    for credentials in (sasl, tls, faust.OAuthCredentials(oauth_cb=lambda c: ("t", 0))):
        assert SECRET not in repr(credentials)
    assert "SCRAM-SHA-256" in repr(sasl) and "'u'" in repr(sasl)
    assert sasl.protocol is faust.auth.AuthProtocol.SASL_PLAINTEXT
    with pytest.raises(ImproperlyConfigured, match="unknown SASL mechanism"):
        faust.SASLCredentials(username="u", password="p", mechanism="SCRAM-SHA-1")
    with pytest.raises(ImproperlyConfigured, match="GSSAPICredentials"):
        faust.SASLCredentials(username="u", password="p", mechanism="GSSAPI")


def test_sasl_over_tls_and_the_apps_ssl_context(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(cert.cert))
    sasl = faust.SASLCredentials(username="u", password="p", ssl_context=context)
    security = ClientConfigs(settings(broker_credentials=sasl)).security
    assert security["security.protocol"] == "SASL_SSL"
    assert security["ssl.ca.pem"] == ssl.DER_cert_to_PEM_cert(
        ssl.PEM_cert_to_DER_cert(cert.cert.read_text())
    )
    assert security["enable.ssl.certificate.verification"] is True
    assert security["ssl.endpoint.identification.algorithm"] == "https"
    # Faust would authenticate in the clear here; the App asked for TLS, so it gets TLS
    plain_sasl = faust.SASLCredentials(username="u", password="p")
    security = ClientConfigs(settings(broker_credentials=plain_sasl, ssl_context=context)).security
    assert security["security.protocol"] == "SASL_SSL"


def test_ssl_credentials_from_files(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    tls = faust.SSLCredentials(
        cafile=str(cert.cert),
        certfile=str(cert.cert),
        keyfile=str(cert.key),
        keyfile_password=SECRET,
    )
    security = ClientConfigs(settings(broker_credentials=tls)).security
    assert security == {
        "security.protocol": "SSL",
        "enable.ssl.certificate.verification": True,
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.ca.location": str(cert.cert),
        "ssl.certificate.location": str(cert.cert),
        "ssl.key.location": str(cert.key),
        "ssl.key.password": SECRET,
    }
    der = ssl.PEM_cert_to_DER_cert(cert.cert.read_text())
    from_der = ClientConfigs(settings(ssl_context=faust.SSLCredentials(cadata=der + der))).security
    assert from_der["ssl.ca.pem"].count("BEGIN CERTIFICATE") == 2
    system = ClientConfigs(settings(broker_credentials=faust.SSLCredentials())).security
    assert system["ssl.ca.location"] == (
        ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().capath or "probe"
    )


def test_ssl_context_mapping(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)

    def security(context: ssl.SSLContext) -> dict[str, Any]:
        return ClientConfigs(settings(broker_credentials=context)).security

    default = security(ssl.create_default_context())
    assert default["security.protocol"] == "SSL"
    assert default["ssl.ca.location"] == ssl.get_default_verify_paths().cafile
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    assert security(unverified) == {
        "security.protocol": "SSL",
        "enable.ssl.certificate.verification": False,
        "ssl.endpoint.identification.algorithm": "none",
    }
    no_hostname = ssl.create_default_context(cafile=str(cert.cert))
    no_hostname.check_hostname = False
    assert security(no_hostname)["ssl.endpoint.identification.algorithm"] == "none"
    assert security(no_hostname)["enable.ssl.certificate.verification"] is True


def test_ssl_context_that_cannot_be_honoured_is_refused(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    with_client_cert = ssl.create_default_context(cafile=str(cert.cert))
    with_client_cert.load_cert_chain(str(cert.cert), str(cert.key))
    with pytest.raises(ImproperlyConfigured, match="client certificate") as info:
        ClientConfigs(settings(broker_credentials=with_client_cert))
    assert "SSLCredentials(cafile=..., certfile=..., keyfile=...)" in str(info.value)
    tls13 = ssl.create_default_context(cafile=str(cert.cert))
    tls13.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ImproperlyConfigured, match="TLSv1_3"):
        ClientConfigs(settings(broker_credentials=tls13))
    capath_only = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    capath_only.load_verify_locations(capath=str(tmp_path))
    with pytest.raises(ImproperlyConfigured, match="capath"):
        ClientConfigs(settings(broker_credentials=capath_only))
    with pytest.raises(ImproperlyConfigured, match="CLIENT_AUTH"):
        faust.SSLCredentials(purpose=ssl.Purpose.CLIENT_AUTH)


def test_gssapi_and_oauth() -> None:
    gssapi = ClientConfigs(
        settings(broker_credentials=faust.GSSAPICredentials(kerberos_service_name="kafka2"))
    ).security
    assert gssapi == {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "GSSAPI",
        "sasl.kerberos.service.name": "kafka2",
    }
    with pytest.raises(ImproperlyConfigured, match="kerberos_domain_name"):
        ClientConfigs(
            settings(broker_credentials=faust.GSSAPICredentials(kerberos_domain_name="x.com"))
        )

    claims = base64.urlsafe_b64encode(json.dumps({"exp": 2_000_000_000}).encode()).rstrip(b"=")
    jwt = f"eyJhbGciOiJub25lIn0.{claims.decode()}.sig"

    class SyncProvider:
        def token(self) -> str:
            return jwt

    class AsyncProvider:
        async def token(self) -> str:
            await asyncio.sleep(0)
            return "opaque"

    assert oauth_callback(SyncProvider())("") == (jwt, 2_000_000_000.0)
    token, expiry = oauth_callback(AsyncProvider())("")
    assert token == "opaque" and expiry > 0
    assert jwt_expiry("not-a-jwt") is None
    native = lambda config: ("t", 1.0)  # noqa: E731  (librdkafka's own signature)
    oauth = ClientConfigs(settings(broker_credentials=faust.OAuthCredentials(oauth_cb=native)))
    assert oauth.security["oauth_cb"] is native
    assert oauth.security["sasl.mechanism"] == "OAUTHBEARER"


# -- the environment --------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("FAUST_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_setting_from_the_environment(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert = make_certificate(tmp_path)
    env.setenv("FAUST_BROKER", "kafka://e1:9093;e2:9093")
    env.setenv("FAUST_TOPIC_PARTITIONS", "4")
    env.setenv("FAUST_BROKER_SESSION_TIMEOUT", "6.5")
    env.setenv("FAUST_TOPIC_ALLOW_DECLARE", "false")
    env.setenv("FAUST_PRODUCER_ACKS", "all")
    env.setenv("FAUST_CONSUMER_CONFIG", '{"fetch.min.bytes": 5}')
    env.setenv(
        "FAUST_BROKER_CREDENTIALS",
        json.dumps({"mechanism": "SCRAM-SHA-256", "username": "u", "cafile": str(cert.cert)}),
    )
    env.setenv("FAUST_BROKER_CREDENTIALS_PASSWORD", SECRET)  # one field per variable
    conf = Settings.from_app_kwargs("orders", None, {"topic_partitions": 2})
    assert conf.broker_servers == ["e1:9093", "e2:9093"]
    assert conf.topic_partitions == 4 and conf.broker_session_timeout == 6.5
    assert conf.topic_allow_declare is False and conf.acks == -1
    consumer = ClientConfigs(conf).consumer("orders")
    assert consumer["fetch.min.bytes"] == 5
    assert consumer["security.protocol"] == "SASL_SSL"
    assert consumer["sasl.mechanism"] == "SCRAM-SHA-256"
    assert (consumer["sasl.username"], consumer["sasl.password"]) == ("u", SECRET)
    assert consumer["ssl.ca.location"] == str(cert.cert)


def test_credentials_one_variable_each(env: pytest.MonkeyPatch) -> None:
    env.setenv("FAUST_BROKER_CREDENTIALS_MECHANISM", "PLAIN")
    env.setenv("FAUST_BROKER_CREDENTIALS_USERNAME", "u")
    env.setenv("FAUST_BROKER_CREDENTIALS_PASSWORD", SECRET)
    env.setenv("FAUST_BROKER_CREDENTIALS_SSL", "true")
    env.setenv("FAUST_BROKER_URL", "kafka://faust-name:9092")  # Faust's name for it
    conf = Settings.from_app_kwargs("orders", None, {})
    assert conf.broker_servers == ["faust-name:9092"]
    security = ClientConfigs(conf).security
    assert security["security.protocol"] == "SASL_SSL"
    assert (security["sasl.mechanism"], security["sasl.username"]) == ("PLAIN", "u")


def test_unknown_names_are_one_warning_naming_the_closest(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env.setenv("FAUST_BROKER_SESION_TIMEOUT", "6")
    env.setenv("FAUST_BROKER_CREDENTIALS_PASSWROD", "x")
    with caplog.at_level(logging.WARNING, logger="faust.settings"):
        conf = Settings.from_app_kwargs("orders", None, {"topic_partition": 3})
        Settings.from_app_kwargs("orders", None, {"topic_partition": 3})  # warned once
    assert conf.broker_session_timeout == 45.0 and conf.topic_partitions == 8
    messages = sorted(record.getMessage() for record in caplog.records)
    assert messages == [
        "unknown App setting 'topic_partition' ignored (did you mean 'topic_partitions'?)",
        "unknown environment variable FAUST_BROKER_CREDENTIALS_PASSWROD ignored "
        "(did you mean FAUST_BROKER_CREDENTIALS_PASSWORD?)",
        "unknown environment variable FAUST_BROKER_SESION_TIMEOUT ignored "
        "(did you mean FAUST_BROKER_SESSION_TIMEOUT?)",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FAUST_TOPIC_PARTITIONS", "four", "FAUST_TOPIC_PARTITIONS='four' is not an integer"),
        ("FAUST_TOPIC_ALLOW_DECLARE", "maybe", "is not true or false"),
        ("FAUST_CONSUMER_CONFIG", "{fetch.min.bytes: 5", "FAUST_CONSUMER_CONFIG is not valid JSON"),
        ("FAUST_PRODUCER_CONFIG", "[1]", "must be a JSON object"),
        ("FAUST_BROKER_CREDENTIALS", f'{{"password": "{SECRET}"', "is not valid JSON"),
        ("FAUST_BROKER_CREDENTIALS", f'{{"passwd": "{SECRET}"}}', "unknown key 'passwd'"),
        ("FAUST_BROKER_CREDENTIALS_MECHANISM", "SCRAM-SHA-512", "needs username and password"),
        ("FAUST_BROKER", "http://x", "unsupported broker URL scheme"),
        ("FAUST_ERROR_POLICY", "ignore", "error_policy must be one of"),
    ],
)
def test_wrong_values_are_one_line_errors(
    env: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    env.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured) as info:
        Settings.from_app_kwargs("orders", None, {})
    text = str(info.value)
    assert message in text and "\n" not in text and SECRET not in text


def test_wrong_app_keyword_types_are_one_line_errors() -> None:
    with pytest.raises(ImproperlyConfigured, match="topic_partitions='4' must be an integer"):
        faust.App("orders", topic_partitions="4")
    with pytest.raises(ImproperlyConfigured, match="consumer_config=<list> must be a dict"):
        faust.App("orders", consumer_config=[1])
    with pytest.raises(ImproperlyConfigured, match="broker_credentials must be"):
        faust.App("orders", broker_credentials=("user", SECRET))


def test_the_version_makes_the_id_and_a_bad_one_is_one_line(env: pytest.MonkeyPatch) -> None:
    """Faust's ``version``/``id_format``: from the App or the environment; the group,
    the client ids and the data directory follow the versioned id."""
    conf = Settings.from_app_kwargs("orders", None, {"version": 2})
    assert (conf.id, conf.name, conf.client_id_prefix) == ("orders-v2", "orders", "orders-v2")
    assert conf.data_directory == os.path.join("orders-data", "v2")
    env.setenv("FAUST_VERSION", "4")
    assert Settings.from_app_kwargs("orders", None, {"version": 2}).id == "orders-v4"
    env.delenv("FAUST_VERSION")
    custom = {"version": 2, "id_format": "{id}_{self.version}"}
    assert Settings.from_app_kwargs("orders", None, custom).id == "orders_2"
    for wrong, message in [
        ({"version": 0}, "version must be 1 or more, not 0"),
        ({"version": "2"}, "version='2' must be an integer"),
        ({"version": 2, "id_format": "{id}-{self.release}"}, "cannot be filled in"),
        ({"version": 2, "id_format": "{appid}"}, "cannot be filled in"),
    ]:
        with pytest.raises(ImproperlyConfigured, match=message) as info:
            Settings.from_app_kwargs("orders", None, wrong)
        assert "\n" not in str(info.value)


def test_uncompiled_app_with_a_wrong_setting_is_one_line(tmp_path: Path) -> None:
    """``python app.py worker`` fails at import (App(...) reads FAUST_*): one line, exit 1."""
    app = Path(__file__).resolve().parents[1] / "examples" / "wordcount.py"
    environ = {**os.environ, "FAUST_BROKER_SESSION_TIMEOUT": "abc"}
    done = subprocess.run(
        [sys.executable, str(app), "worker"],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: FAUST_BROKER_SESSION_TIMEOUT='abc' is not a number"
    ], done.stderr
    # any other uncaught exception keeps its traceback
    other = subprocess.run(
        [sys.executable, "-c", "import faust; raise ValueError('not a setting')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 1 and "Traceback" in other.stderr


def test_credentials_mapping_kinds() -> None:
    assert isinstance(credentials_from_mapping({"cafile": "/ca.pem"}), faust.SSLCredentials)
    gssapi = credentials_from_mapping({"mechanism": "gssapi", "kerberos_service_name": "k"})
    assert isinstance(gssapi, faust.GSSAPICredentials) and gssapi.kerberos_service_name == "k"
    oauth = credentials_from_mapping({"mechanism": "OAUTHBEARER", "ssl": "yes"})
    assert isinstance(oauth, faust.OAuthCredentials) and oauth.tls is not None
    with pytest.raises(ImproperlyConfigured, match="without a mechanism"):
        credentials_from_mapping({"username": "u", "password": SECRET})


# -- no client escapes the builder -------------------------------------------------------------

RUNTIME = Path(__file__).resolve().parents[1] / "runtime" / "faust"
CLIENT_CLASSES = {"Consumer", "Producer", "AdminClient", "SchemaRegistryClient"}


def client_constructions(path: Path) -> list[tuple[int, str]]:
    """``(line, how)`` of every use of a confluent-kafka client class in ``path`` outside
    type annotations: ``how`` says what the use is part of."""
    import ast

    tree = ast.parse(path.read_text(), str(path))
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    modules: set[str] = set()  # names bound to confluent_kafka modules
    classes: set[str] = set()  # names bound to its client classes
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(
                (a.asname or a.name) for a in node.names if a.name.startswith("confluent_kafka")
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("confluent_kafka"):
            for alias in node.names:
                if alias.name in CLIENT_CLASSES:
                    classes.add(alias.asname or alias.name)
                else:
                    modules.add(alias.asname or alias.name)
    uses = []
    for node in ast.walk(tree):
        is_client = (
            isinstance(node, ast.Attribute)
            and node.attr in CLIENT_CLASSES
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ) or (isinstance(node, ast.Name) and node.id in classes)
        if not is_client:
            continue
        child, parent = node, parents[node]
        in_annotation = False
        while not isinstance(parent, ast.Module):
            if (isinstance(parent, ast.arg | ast.AnnAssign) and child is parent.annotation) or (
                isinstance(parent, ast.FunctionDef) and child is parent.returns
            ):
                in_annotation = True
                break
            child, parent = parent, parents[parent]
        if in_annotation:
            continue
        call = parents[node]
        function = next(
            (p for p in _ancestors(node, parents) if isinstance(p, ast.FunctionDef)), None
        )
        if isinstance(call, ast.Call) and node in call.args:
            how = ast.unparse(call.func)
        else:
            how = ast.unparse(call)
        uses.append((node.lineno, f"{function.name if function else '<module>'}: {how}"))
    return uses


def _ancestors(node: object, parents: dict[object, object]) -> Iterator[object]:
    while node in parents:
        node = parents[node]
        yield node


def test_every_client_is_created_from_the_builders_config() -> None:
    """Static: the runtime uses confluent-kafka's client classes in two places only: the
    Kafka transport passes them to ``_create`` with a ClientConfig from the builder (the
    producer, its one or two clients, to the ``create`` the transport hands it), and
    ``registry_client`` builds the Schema Registry client with ``schema_registry_config``'s
    result. A client created
    anywhere else fails this test; tests/test_security_on_kafka.py records every client a
    real worker creates."""
    found = {
        path.relative_to(RUNTIME).as_posix(): uses
        for path in sorted(RUNTIME.rglob("*.py"))
        if (uses := client_constructions(path))
    }
    assert set(found) == {"transport/kafka.py", "serializers/avro/confluent.py"}, found
    assert sorted(how for _, how in found["transport/kafka.py"]) == [
        "__init__: self._create",
        "_admin: self._create",
        "_plain: self._create",
        "changelog_reader: self._create",
        "consumer: self._create",
        "reply_consumer: self._create",
        "router_reader: self._create",
    ], found
    assert [how for _, how in found["serializers/avro/confluent.py"]] == [
        "registry_client: SchemaRegistryClient.new_client"
    ], found
    avro = (RUNTIME / "serializers" / "avro" / "confluent.py").read_text()
    assert "registry_client(url, config)" in avro
    assert "config = schema_registry_config(context.settings, url)" in avro


# -- refusals versus trouble that passes --------------------------------------------------------


def test_refusals_are_told_from_a_broker_restarting() -> None:
    from confluent_kafka import KafkaError

    from faust.exceptions import CredentialsRefused
    from faust.transport.kafka import ConnectionErrors

    def error(code: int, text: str) -> KafkaError:
        return KafkaError(code, text)

    refused = error(KafkaError._AUTHENTICATION, "SASL authentication error: unknown-user")
    down = error(KafkaError._TRANSPORT, "Connect to ipv4#127.0.0.1:9092 failed: refused")
    all_down = error(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down")
    errors = ConnectionErrors(lambda: "SASL_SSL, SASL SCRAM-SHA-512, user 'u'")
    # a refusal between connection failures: a broker restarting mid-handshake
    for _ in range(5):
        errors.on_error(refused)
        errors.on_error(down)
        errors.on_error(refused)
        errors.on_error(all_down)
        errors.on_error(down)
    assert errors.refusal is None
    errors.check()  # nothing to raise
    # three in a row (the "all brokers down" report between them does not count)
    errors.on_error(refused)
    errors.on_error(all_down)
    errors.on_error(refused)
    errors.check()
    errors.on_error(refused)  # the callback records, never raises (see ConnectionErrors)
    with pytest.raises(CredentialsRefused) as info:
        errors.check()
    assert str(info.value) == (
        "authentication with the broker failed: SASL authentication error: unknown-user "
        "[SASL_SSL, SASL SCRAM-SHA-512, user 'u']"
    )
    errors.on_error(all_down)
    with pytest.raises(CredentialsRefused):  # again, after the next client call
        errors.check()
    errors.closing = True
    errors.on_error(refused)
    errors.check()  # the worker is closing its clients: no more raising
    tls = ConnectionErrors(lambda: "SSL")
    handshake = error(KafkaError._SSL, "SSL handshake failed: certificate verify failed")
    tls.on_error(handshake)
    tls.on_error(error(KafkaError._TRANSPORT, "SSL handshake failed: certificate verify failed"))
    tls.on_error(handshake)
    tls.on_error(handshake)
    with pytest.raises(CredentialsRefused, match=r"^TLS handshake with the broker failed"):
        tls.check()


#: every setting faust-streaming 0.15 has (``faust/types/settings/settings.py``), by name
FAUST_STREAMING_SETTINGS = [
    "autodiscover",
    "datadir",
    "tabledir",
    "debug",
    "env_prefix",
    "id_format",
    "origin",
    "timezone",
    "version",
    "agent_supervisor",
    "cython_optimizations",
    "blocking_timeout",
    "broker",
    "broker_consumer",
    "broker_producer",
    "broker_api_version",
    "broker_check_crcs",
    "broker_client_id",
    "broker_commit_every",
    "broker_commit_interval",
    "broker_commit_livelock_soft_timeout",
    "broker_credentials",
    "broker_heartbeat_interval",
    "broker_max_poll_interval",
    "broker_max_poll_records",
    "broker_rebalance_timeout",
    "broker_request_timeout",
    "broker_session_timeout",
    "ssl_context",
    "consumer_api_version",
    "consumer_max_fetch_size",
    "consumer_auto_offset_reset",
    "consumer_group_instance_id",
    "consumer_metadata_max_age_ms",
    "consumer_connections_max_idle_ms",
    "key_serializer",
    "value_serializer",
    "logging_config",
    "loghandlers",
    "producer_acks",
    "producer_api_version",
    "producer_compression_type",
    "producer_linger",
    "producer_max_batch_size",
    "producer_max_request_size",
    "producer_partitioner",
    "producer_request_timeout",
    "producer_threaded",
    "producer_metadata_max_age_ms",
    "producer_connections_max_idle_ms",
    "recovery_consistency_check",
    "store_check_exists",
    "crash_app_on_aerospike_exception",
    "aerospike_retries_on_exception",
    "aerospike_sleep_seconds_between_retries_on_exception",
    "reply_create_topic",
    "reply_expires",
    "reply_to",
    "reply_to_prefix",
    "processing_guarantee",
    "stream_buffer_maxsize",
    "stream_processing_timeout",
    "stream_publish_on_commit",
    "stream_recovery_delay",
    "stream_wait_empty",
    "store",
    "table_cleanup_interval",
    "table_key_index_size",
    "table_standby_replicas",
    "topic_allow_declare",
    "topic_disable_leader",
    "topic_partitions",
    "topic_replication_factor",
    "cache",
    "web",
    "web_bind",
    "web_application_options",
    "web_cors_options",
    "web_enabled",
    "web_stats_enabled",
    "web_graph_enabled",
    "web_router_enabled",
    "web_tables_enabled",
    "web_metrics_enabled",
    "web_host",
    "web_in_thread",
    "web_port",
    "web_ssl_context",
    "web_transport",
    "canonical_url",
    "worker_redirect_stdouts",
    "worker_redirect_stdouts_level",
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
    "Monitor",
    "stream_ack_cancelled_tasks",
    "stream_ack_exceptions",
    "producer_linger_ms",
    "url",
]
#: given a meaning by other work (the web server, sensors): not in this catalogue yet
ELSEWHERE = {"Monitor", "canonical_url"}


def test_every_faust_streaming_setting_is_known_by_name(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each of Faust's settings applies here (a field of Settings, or a deprecated alias of
    one) or is in the one catalogue of those that do not (``NOT_APPLIED``): accepted and
    warned about once, saying why."""
    from faust.settings import ALIASES, NOT_APPLIED, setting_names

    known = set(setting_names()) | set(NOT_APPLIED) | set(ALIASES) | ELSEWHERE
    missing = [
        name for name in FAUST_STREAMING_SETTINGS
        if name not in known and not name.startswith("web")
    ]  # fmt: skip
    assert missing == []
    assert not set(NOT_APPLIED) & set(setting_names())
    env.setenv("FAUST_TABLE_KEY_INDEX_SIZE", "1")
    env.setattr("faust.settings._warned", set())  # once per process: start afresh
    with caplog.at_level(logging.WARNING, logger="faust.settings"):
        conf = Settings.from_app_kwargs(
            "orders", None, {"cache": "memory://", "url": "kafka://u:1", "Worker": object}
        )
        Settings.from_app_kwargs("orders", None, {"cache": "memory://"})  # warned once
    assert conf.broker_servers == ["u:1"]  # Faust's deprecated name of broker
    assert sorted(record.getMessage() for record in caplog.records) == [
        "Faust setting 'Worker' does not apply here, ignored: " + NOT_APPLIED["Worker"],
        "Faust setting 'cache' does not apply here, ignored: " + NOT_APPLIED["cache"],
        "Faust setting 'table_key_index_size' does not apply here, ignored: "
        + NOT_APPLIED["table_key_index_size"],
    ]
