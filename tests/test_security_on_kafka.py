"""Credentials against real brokers: TLS end to end, refusals, handshake failures, slowness.

- A TLS-only endpoint (socat) in front of an embedded broker that advertises it: any client
  without the TLS settings cannot talk to the cluster. A compiled app with a table, its
  changelog, a group_by and an ask() runs through it, configured from the environment only,
  with exact outputs and committed offsets; every client it created is recorded and shows
  the configuration built by faust.transport.client_config.
- A broker that requires SASL: unknown SCRAM credentials and a mechanism it does not offer
  stop the worker within seconds, one line, no secret. SCRAM success cannot be shown on
  Tansu 0.6: with ``--authentication`` it creates users only over an already
  authenticated connection (it offers no other mechanism), and a user created before a
  restart is gone after it (tried with its memory and S3 storage). So a successful SCRAM
  login is checked as the exact configuration every client receives
  (tests/test_client_config.py); the refusal above shows librdkafka ran the SCRAM
  exchange with those settings.
- A TLS handshake that fails (an unknown CA) is one line; a broker that accepts connections
  but never answers is "cannot reach", never taken for a refusal.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from security_helpers import Certificate, Tansu, TLSEndpoint, free_port, make_certificate

from conftest import REPO
from kafka_helpers import (
    WorkerProcess,
    committed,
    create_topic,
    produce,
    read_all,
    wait_for_commit,
    wait_until,
)

pytestmark = pytest.mark.broker

SECRET = "Sup3r-Secret-Pw"
FAUSTC = [sys.executable, "-m", "faustc"]

SECURE_APP = """
from collections.abc import AsyncIterator

import faust

app = faust.App("secure-shop", broker="kafka://localhost:9092", topic_partitions=2)


class Order(faust.Record):
    account: str
    amount: int


orders = app.topic("secure-orders", key_type=str, value_type=Order, partitions=2)
running_totals = app.topic("secure-totals", key_type=str, value_type=int, partitions=2)
questions = app.topic("secure-questions", value_type=str, partitions=1)
totals = app.Table("totals", default=int)


@app.agent(orders)
async def total(stream: faust.Stream[Order]) -> None:
    async for order in stream.group_by(Order.account, name="account"):
        totals[order.account] += order.amount
        await running_totals.send(key=order.account, value=totals[order.account])


@app.agent(questions)
async def shout(stream: faust.Stream[str]) -> AsyncIterator[str]:
    async for word in stream:
        yield word.upper()


@app.task
async def asker() -> None:
    print(f"answer {await shout.ask('over tls', timeout=90)}", flush=True)
"""

ACCOUNTS = ("alice", "bob", "carol")
ORDERS = [(f"order-{i}", ACCOUNTS[i % 3], i + 1) for i in range(60)]


class TLSCluster:
    def __init__(self, certificate: Certificate, port: int) -> None:
        self.certificate = certificate
        self.bootstrap = f"127.0.0.1:{port}"
        self.url = f"kafka://{self.bootstrap}"
        #: what the test's own clients need to get in
        self.client_config = {"security.protocol": "SSL", "ssl.ca.location": str(certificate.cert)}


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSCluster]:
    directory = tmp_path_factory.mktemp("tls")
    certificate = make_certificate(directory)
    plain, tls = free_port(), free_port()
    with (
        Tansu(plain, advertised=tls, log_file=directory / "tansu.log"),
        TLSEndpoint(certificate, plain, tls),
    ):
        yield TLSCluster(certificate, tls)


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("sasl")
    port = free_port()
    with Tansu(port, authentication=True, log_file=directory / "tansu.log"):
        yield f"kafka://127.0.0.1:{port}"


def build(source: Path, out: Path) -> Path:
    result = subprocess.run(
        [*FAUSTC, "build", str(source), "-o", str(out), "--no-typecheck"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    return out / f"{source.stem}_worker.py"


def run_worker(worker: Path, env: dict[str, str], timeout: float = 30) -> tuple[int, list[str]]:
    """Run ``worker`` to its end (at most ``timeout`` seconds); its stderr lines."""
    result = subprocess.run(
        [sys.executable, str(worker), "worker"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return result.returncode, result.stderr.strip().splitlines()


@pytest.fixture(scope="module")
def big_orders_worker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(REPO / "examples" / "big_orders.py", tmp_path_factory.mktemp("build"))


def test_app_runs_end_to_end_through_a_tls_only_endpoint(
    tls_cluster: TLSCluster, tmp_path: Path
) -> None:
    source = tmp_path / "secure_shop.py"
    source.write_text(SECURE_APP)
    worker_file = build(source, tmp_path / "build")
    tls = tls_cluster.client_config
    create_topic(tls_cluster.bootstrap, "secure-orders", 2, config=tls)
    records = [
        (key.encode(), json.dumps({"account": account, "amount": amount}).encode())
        for key, account, amount in ORDERS
    ]
    ends = produce(tls_cluster.bootstrap, "secure-orders", records, config=tls)
    clients_log = tmp_path / "clients.jsonl"
    env = {  # the environment only: broker, credentials, dict settings
        "FAUST_BROKER": tls_cluster.url,
        "FAUST_BROKER_CREDENTIALS": json.dumps({"cafile": str(tls_cluster.certificate.cert)}),
        "FAUST_CONSUMER_CONFIG": json.dumps({"client.rack": "rack-a"}),
        "FAUST_BROKER_CONFIG": json.dumps({"socket.keepalive.enable": True}),
        "RECORD_CLIENTS": str(clients_log),
    }
    recorder = str(Path(__file__).with_name("record_clients.py"))
    worker = WorkerProcess([recorder, str(worker_file), "worker"], tmp_path, env=env)
    try:
        worker.wait_for_output(lambda text: "answer" in text, timeout=120)
        wait_until(
            lambda: len(read_all(tls_cluster.bootstrap, "secure-totals", 2, config=tls)) >= 60,
            90,
            "60 running totals",
        )
        wait_for_commit(tls_cluster.bootstrap, "secure-shop", "secure-orders", ends, 60, config=tls)
    finally:
        rc = worker.stop()
    assert rc == 0, worker.stderr
    assert worker.stdout.splitlines() == ["answer OVER TLS"]

    # outputs: each account's running totals, in order, ending at its total
    outputs: dict[str, list[int]] = {}
    for message in read_all(tls_cluster.bootstrap, "secure-totals", 2, config=tls):
        outputs.setdefault(message.key().decode(), []).append(json.loads(message.value()))
    for account in ACCOUNTS:
        amounts = [n for _, a, n in ORDERS if a == account]
        values = outputs[account]
        assert len(values) == len(amounts) and values == sorted(values), account
        assert values[-1] == sum(amounts), account
    # the changelog holds the final totals
    changelog = read_all(tls_cluster.bootstrap, "secure-shop-totals-changelog", 2, config=tls)
    final = {json.loads(m.key()): json.loads(m.value()) for m in changelog}
    assert final == {a: sum(n for _, b, n in ORDERS if b == a) for a in ACCOUNTS}
    # committed offsets: the source topic and the repartition topic, exactly at their ends
    assert committed(tls_cluster.bootstrap, "secure-shop", "secure-orders", 2, config=tls) == ends
    repartition = "secure_shop.total-secure-orders-account-repartition"
    repartitioned = read_all(tls_cluster.bootstrap, repartition, 2, config=tls)
    assert len(repartitioned) == 60
    repartition_ends: dict[int, int] = {}
    for message in repartitioned:
        repartition_ends[message.partition()] = message.offset() + 1
    assert (
        committed(tls_cluster.bootstrap, "secure-shop", repartition, repartition_ends, config=tls)
        == repartition_ends
    )

    # every client the worker created got the builder's configuration
    clients = [json.loads(line) for line in clients_log.read_text().splitlines()]
    kinds = set()
    for client in clients:
        config = client["config"]
        assert config["security.protocol"] == "SSL", client
        assert config["ssl.ca.location"] == str(tls_cluster.certificate.cert), client
        assert config["enable.ssl.certificate.verification"] is True, client
        assert config["socket.keepalive.enable"] is True, client
        assert config["error_cb"] == "<method>", client
        assert config["client.id"].startswith("secure-shop-"), client
        kind = config["client.id"][len("secure-shop-") :]
        kinds.add(kind)
        if client["class"] == "Consumer":
            assert config["client.rack"] == "rack-a", client
            assert config["group.id"].startswith("secure-shop"), client
    # (the router topic's reader: the web server's directory of workers, faust.web.directory)
    assert kinds == {
        "admin",
        "consumer",
        "producer",
        "changelog-reader",
        "reply-consumer",
        "router-reader",
    }


def test_a_client_without_tls_cannot_reach_the_endpoint(
    tls_cluster: TLSCluster, big_orders_worker: Path
) -> None:
    """The endpoint really is TLS-only: a worker without credentials gets nowhere."""
    rc, lines = run_worker(
        big_orders_worker,
        {"FAUST_BROKER": tls_cluster.url, "FAUST_BROKER_CONNECT_TIMEOUT": "3"},
    )
    assert rc == 1, lines
    assert len(lines) == 1 and lines[0].startswith(
        f"error: cannot reach the Kafka broker at {tls_cluster.bootstrap} within 3s"
    ), lines


def test_failed_tls_handshake_stops_with_one_line(
    tls_cluster: TLSCluster, big_orders_worker: Path, tmp_path: Path
) -> None:
    stranger = make_certificate(tmp_path, name="stranger", host="127.0.0.2")
    credentials = {"cafile": str(stranger.cert)}
    rc, lines = run_worker(
        big_orders_worker,
        {"FAUST_BROKER": tls_cluster.url, "FAUST_BROKER_CREDENTIALS": json.dumps(credentials)},
    )
    assert rc == 1, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: TLS handshake with the broker failed: ")
    assert "certificate verify failed" in lines[0]


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        (
            {"mechanism": "SCRAM-SHA-512", "username": "mallory", "password": SECRET},
            "SASL SCRAM authentication failed",
        ),
        ({"mechanism": "PLAIN", "username": "mallory", "password": SECRET}, "SASL PLAIN"),
    ],
    ids=["unknown-scram-user", "mechanism-not-offered"],
)
def test_refused_credentials_stop_with_one_line(
    sasl_broker: str, big_orders_worker: Path, credentials: dict[str, str], expected: str
) -> None:
    rc, lines = run_worker(
        big_orders_worker,
        {
            "FAUST_BROKER": sasl_broker,
            "FAUST_BROKER_CREDENTIALS_MECHANISM": credentials["mechanism"],
            "FAUST_BROKER_CREDENTIALS_USERNAME": credentials["username"],
            "FAUST_BROKER_CREDENTIALS_PASSWORD": credentials["password"],
        },
    )
    assert rc == 1, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: authentication with the broker failed: "), lines
    assert expected in lines[0] and "user 'mallory'" in lines[0]
    assert SECRET not in lines[0]


class SilentBroker:
    """Accepts connections and never answers: a broker that is merely slow."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def __enter__(self) -> SilentBroker:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


def test_a_slow_broker_is_not_taken_for_a_refusal(big_orders_worker: Path) -> None:
    with SilentBroker() as silent:
        rc, lines = run_worker(
            big_orders_worker,
            {
                "FAUST_BROKER": f"kafka://127.0.0.1:{silent.port}",
                "FAUST_BROKER_CONNECT_TIMEOUT": "3",
                "FAUST_BROKER_CREDENTIALS": json.dumps(
                    {"mechanism": "SCRAM-SHA-256", "username": "u", "password": SECRET}
                ),
            },
        )
    assert rc == 1, lines
    assert len(lines) == 1 and lines[0].startswith(
        f"error: cannot reach the Kafka broker at 127.0.0.1:{silent.port} within 3s"
    ), lines
    assert SECRET not in lines[0]
