"""Secured brokers for tests: a self-signed certificate (openssl), a TLS-only endpoint
(socat) in front of an embedded broker that advertises it, and a broker that requires
SASL authentication.

Example::

    cert = make_certificate(tmp_path)            # cert.pem, key.pem, certkey.pem
    with Tansu(plain, advertised=tls), TLSEndpoint(cert, plain, tls):
        ...  # 127.0.0.1:<tls> is the only way in, and only over TLS

openssl and socat come from Debian (``.ci/run`` installs them); tests that need them skip
with the reason when they are missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import pytest


@dataclasses.dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    certkey: Path


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool}; .ci/run does)")
    return path


def make_certificate(directory: Path, name: str = "broker", host: str = "127.0.0.1") -> Certificate:
    """A self-signed CA certificate for ``host`` (subjectAltName IP), valid for two days."""
    openssl = need("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    certkey = directory / f"{name}-certkey.pem"
    certkey.write_text(cert.read_text() + key.read_text())
    return Certificate(cert, key, certkey)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Tansu:
    """The embedded broker with the listener options the default one does not use."""

    def __init__(
        self,
        port: int,
        *,
        advertised: int | None = None,
        authentication: bool = False,
        log_file: Path | None = None,
    ) -> None:
        self.port = port
        self.advertised = advertised or port
        self.authentication = authentication
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Tansu:
        from faustc.broker import tansu_binary

        argv = [
            tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{self.port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{self.advertised}",
        ]
        if self.authentication:
            argv.append("--authentication")
        log = self.log_file.open("ab") if self.log_file is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        wait_listening(self.port, self.process)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(10)

    def __enter__(self) -> Tansu:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.05)


class TLSEndpoint:
    """socat terminating TLS on ``port`` and forwarding to ``127.0.0.1:<target>``."""

    def __init__(self, certificate: Certificate, target: int, port: int | None = None) -> None:
        self.certificate = certificate
        self.target = target
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> TLSEndpoint:
        socat = need("socat")
        self.process = subprocess.Popen(
            [
                socat,
                f"OPENSSL-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr,"
                f"cert={self.certificate.certkey},verify=0",
                f"TCP:127.0.0.1:{self.target}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its forked children go with it (stop)
        )
        try:
            wait_listening(self.port, self.process)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)

    def __enter__(self) -> TLSEndpoint:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
