"""Helpers for tests that talk to the real broker: produce, read back, run workers.

End offsets come from the producer's delivery reports, not from ListOffsets: Tansu
under-reports ListOffsets(latest) after multi-record batches (see ARCHITECTURE.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

#: settings for every worker a test starts: a group join takes half the session timeout
WORKER_ENV = {
    "FAUST_BROKER_SESSION_TIMEOUT": "6",
    "FAUST_BROKER_HEARTBEAT_INTERVAL": "1",
    "FAUST_BROKER_COMMIT_INTERVAL": "0.5",
    # any free port: tests run several workers at once (the log line says which)
    "FAUST_WEB_PORT": "0",
}


def build_app(source: Path, out: Path) -> Path:
    """``faustc build source -o out`` in a child process (as a user runs it); the worker file."""
    built = subprocess.run(
        [sys.executable, "-m", "faustc", "build", str(source), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert built.returncode == 0, built.stderr
    return out / f"{source.stem}_worker.py"


def create_topic(
    bootstrap: str,
    name: str,
    partitions: int,
    *,
    config: dict[str, Any] | None = None,
    topic_config: dict[str, str] | None = None,
) -> None:
    """Create ``name``; ``config``: the admin client's, ``topic_config``: the topic's."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **(config or {})})
    topic = NewTopic(name, partitions, 1, config=topic_config or {})
    for future in admin.create_topics([topic]).values():
        future.result()
    deadline = time.monotonic() + 10
    while name not in admin.list_topics(timeout=5).topics:
        assert time.monotonic() < deadline, f"topic {name} never appeared"
        time.sleep(0.05)


def produce(
    bootstrap: str,
    topic: str,
    records: Sequence[tuple[Any, ...]],
    *,
    config: dict[str, Any] | None = None,
) -> dict[int, int]:
    """Produce ``(key, value)`` records; return each partition's end offset after them.

    A record may also be ``(key, value, timestamp_ms, partition)`` (either may be None).
    """
    ends: dict[int, int] = {}
    errors: list[str] = []

    def delivered(error: Any, message: Any) -> None:
        if error is not None:
            errors.append(str(error))
        else:
            partition = message.partition()
            ends[partition] = max(ends.get(partition, 0), message.offset() + 1)

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            **(config or {}),
        }
    )
    for key, value, *extra in records:
        timestamp, partition = (*extra, None, None)[:2]
        options: dict[str, Any] = {"on_delivery": delivered}
        if timestamp is not None:
            options["timestamp"] = timestamp
        if partition is not None:
            options["partition"] = partition
        while True:
            try:
                producer.produce(topic, value, key, **options)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(30) == 0
    assert not errors, errors
    return ends


def read_topic(
    bootstrap: str, topic: str, partitions: int, expected: int, timeout: float = 60.0
) -> list[Any]:
    """Read ``expected`` records of ``topic`` from the beginning (fails on timeout), then
    keep reading briefly to catch any extra record."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "test-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            records += [m for m in consumer.consume(1000, 0.2) if m.error() is None]
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            records += [m for m in consumer.consume(1000, 0.2) if m.error() is None]
    finally:
        consumer.close()
    return records


def committed(
    bootstrap: str,
    group: str,
    topic: str,
    partitions: int | Iterable[int],
    *,
    config: dict[str, Any] | None = None,
) -> dict[int, int]:
    """``group``'s committed offset of each partition (a count means 0..count-1)."""
    numbers = range(partitions) if isinstance(partitions, int) else sorted(partitions)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, **(config or {})})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in numbers], timeout=10)
    except KafkaException as exc:
        raise AssertionError(f"cannot read committed offsets: {exc}") from None
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in offsets}


class WorkerProcess:
    """A worker in its own process, its output in files; stop() sends SIGTERM.

    ``argv`` follows ``executable`` (this interpreter unless told otherwise).
    """

    def __init__(
        self,
        argv: list[str],
        log_dir: Path,
        env: dict[str, str] | None = None,
        *,
        executable: str = sys.executable,
        cwd: Path | None = None,
        preexec_fn: Callable[[], Any] | None = None,
    ) -> None:
        self.stdout_path = log_dir / "worker.out"
        self.stderr_path = log_dir / "worker.err"
        environment = {**os.environ, **WORKER_ENV, **(env or {})}
        self.process = subprocess.Popen(
            [executable, *argv],
            cwd=cwd,
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
            stdin=subprocess.DEVNULL,
            env=environment,
            preexec_fn=preexec_fn,
        )

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_for_output(self, predicate: Any, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout
            if predicate(text):
                return text
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.stderr}")
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for worker output:\n{self.stdout}\n{self.stderr}")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_commit(
    bootstrap: str,
    group: str,
    topic: str,
    ends: dict[int, int],
    timeout: float = 30.0,
    *,
    config: dict[str, Any] | None = None,
) -> None:
    """Wait until ``group`` has committed exactly ``ends`` on ``topic``.

    ``ends`` names only the partitions that received records (keyless records may leave a
    partition empty, and nothing is committed for an empty partition).
    """
    wait_until(
        lambda: committed(bootstrap, group, topic, ends.keys(), config=config) == ends,
        timeout,
        f"group {group} to commit {ends} on {topic}",
    )


def produce_tracked(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None]]
) -> tuple[dict[int, int], list[tuple[int, int]]]:
    """Like :func:`produce`, also returning each record's (partition, offset), in order."""
    ends: dict[int, int] = {}
    positions: list[tuple[int, int]] = [(-1, -1)] * len(records)
    errors: list[str] = []

    def delivered_at(index: int) -> Any:
        def delivered(error: Any, message: Any) -> None:
            if error is not None:
                errors.append(str(error))
                return
            partition, offset = message.partition(), message.offset()
            positions[index] = (partition, offset)
            ends[partition] = max(ends.get(partition, 0), offset + 1)

        return delivered

    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 5}
    )
    for index, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=delivered_at(index))
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(30) == 0
    assert not errors, errors
    return ends, positions


def read_all(
    bootstrap: str,
    topic: str,
    partitions: int,
    *,
    committed_only: bool = True,
    config: dict[str, Any] | None = None,
) -> list[Any]:
    """Every record of ``topic`` now (up to each partition's end, found by partition EOF)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "test-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed" if committed_only else "read_uncommitted",
            **(config or {}),
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    records: list[Any] = []
    at_end: set[int] = set()
    deadline = time.monotonic() + 60
    try:
        while len(at_end) < partitions:
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            for message in consumer.consume(1000, 0.2):
                error = message.error()
                if error is None:
                    records.append(message)
                    at_end.discard(message.partition())
                elif error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
    finally:
        consumer.close()
    return records


def wait_for_output_in(path: Path, pattern: str, timeout: float = 60.0) -> str:
    """Wait until the file at ``path`` contains ``pattern``; return its text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if pattern in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {pattern!r} in {path}")
