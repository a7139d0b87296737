"""The compiled fused loop against the raw loop's ``process``, both over the same batches.

No broker, no consumer: the batches are real ``confluent_kafka.Message`` objects built in
memory (4,096 a batch, as the worker consumes them), and both sides produce to a real
confluent-kafka Producer whose broker does not exist, so records only queue in librdkafka
(purged after each round). What is left is exactly the per-message Python each side runs
between ``consume`` and ``commit``: decode, filter, map, encode, produce. The worker side
is the agent function ``faustc build`` generated, driven through its ``batches()`` as the
runner drives it; the raw side is ``bench/raw_loops.py``'s ``process`` for the scenario.
Rounds alternate worker / raw; the figures are medians of process CPU time. Usage::

    python bench/loop_bench.py                       # stateless_json and stateless_avro
    python bench/loop_bench.py --scenarios stateless_avro --messages 400000 --rounds 9
    python bench/loop_bench.py --scenarios stateless_json --metrics   # and with /metrics

``--metrics`` runs the worker side a second time, in turn with the first, on the producer
the worker lends its app when the web server is on: ``/metrics``' sensor (``WorkerMetrics``)
counts each record sent, exactly as in a worker (``SensedProducer``).

It is a guide for changing the generated code (a few seconds, ±5% between runs here),
not the figure issue 6 asks for: ``bench/run.py`` measures whole processes on a broker.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))

import raw_loops  # noqa: E402
from confluent_kafka import Message, Producer  # noqa: E402
from data import avro_value, json_value, make_orders  # noqa: E402

from faust.running import Running  # noqa: E402
from faust.transport.kafka import KafkaProducer  # noqa: E402
from faust.web.metrics import WorkerMetrics  # noqa: E402
from faust.worker.sensors import SensedProducer  # noqa: E402

BATCH = 4096
NOWHERE = {
    "bootstrap.servers": "127.0.0.1:9",
    "queue.buffering.max.messages": 2_000_000,
    "queue.buffering.max.kbytes": 2_000_000,
    "log_level": 0,
    # the settings both sides use on a broker (faust.transport.kafka, raw_loops.Loop)
    "partitioner": "murmur2_random",
    "enable.idempotence": True,
    "delivery.report.only.error": True,
}
ENCODERS = {"stateless_json": json_value, "stateless_avro": avro_value}


class FakeLoop:
    """What ``raw_loops.<scenario>()`` takes from its Loop: the producer."""

    def __init__(self) -> None:
        self.producer = Producer({**NOWHERE, "on_delivery": lambda error, message: None})


class BatchesOnly:
    """The two things a stateless fused agent asks of its stream; after each batch the
    producer serves its delivery reports, as the worker does (``Worker._process``)."""

    def __init__(self, batches: list[list[Any]], poll: Callable[[], Any]) -> None:
        self._batches = batches
        self._poll = poll
        self.errors = 0

    async def batches(self) -> AsyncIterator[list[Any]]:
        for batch in self._batches:
            yield batch
            self._poll()

    def handle_error(self, exc: BaseException, message: Any, where: str) -> None:
        self.errors += 1
        raise exc


def build_worker(scenario: str, out: Path) -> Any:
    subprocess.run(
        [
            sys.executable,
            *("-m", "faustc", "build", "--no-typecheck"),
            *(str(BENCH / "apps" / f"{scenario}.py"), "-o", str(out)),
        ],
        check=True,
        capture_output=True,
    )
    sys.path.insert(0, str(out))
    return importlib.import_module(f"{scenario}_worker")


def make_batches(scenario: str, count: int) -> list[list[Any]]:
    encode = ENCODERS[scenario]
    messages = [
        Message(
            topic="in",
            partition=index % 4,
            offset=index // 4,
            key=order.account_id.encode(),
            value=encode(order),
        )
        for index, order in enumerate(make_orders(count))
    ]
    return [messages[start : start + BATCH] for start in range(0, count, BATCH)]


def cpu_seconds(run: Callable[[], None], clean_up: Callable[[], None]) -> float:
    """CPU time of ``run()``; ``clean_up()`` (purging the queued records) is not counted:
    purged records come back as failed deliveries, which a healthy run never has."""
    started = time.process_time()
    run()
    spent = time.process_time() - started
    clean_up()
    return spent


def measure(scenario: str, count: int, rounds: int, out: Path, metrics: bool) -> dict[str, float]:
    """Median µs per message of each side: ``worker``, ``raw`` and, with ``metrics``,
    ``worker+metrics`` (the worker's loop on the producer ``/metrics`` lends it)."""
    worker = build_worker(scenario, out)
    batches = make_batches(scenario, count)
    app = worker.app
    producer = KafkaProducer(NOWHERE)
    sensor = WorkerMetrics(app)
    (fused,) = worker.COMPILED_AGENTS.values()

    def run_worker(lent: Any) -> Callable[[], None]:
        def run() -> None:
            app.running = Running(lent)  # what the worker lends the app
            stream = BatchesOnly(batches, producer.poll)
            asyncio.run(fused(stream))

        return run

    def clean_up_worker() -> None:
        producer._producer.purge()
        producer.poll()
        producer._failures.clear()

    loop = FakeLoop()
    config = {**raw_loops.DEFAULTS, "input": "in", "output": "raw-out"}
    _, process = getattr(raw_loops, scenario)(loop, config)

    def run_raw() -> None:
        for batch in batches:
            process(batch)
            loop.producer.poll(0)

    def clean_up_raw() -> None:
        loop.producer.purge()
        loop.producer.poll(0)

    sides: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
        "worker": (run_worker(producer), clean_up_worker),
        "raw": (run_raw, clean_up_raw),
    }
    if metrics:
        sides["worker+metrics"] = (run_worker(SensedProducer(producer, sensor)), clean_up_worker)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for run, clean_up in sides.values():  # warm up every side
        cpu_seconds(run, clean_up)
    per_run = sum(sensor.sent.values())
    for _ in range(rounds):
        for name, (run, clean_up) in sides.items():
            times[name].append(cpu_seconds(run, clean_up))
    if metrics:  # every run counted the same records
        assert per_run > 0 and sum(sensor.sent.values()) == (rounds + 1) * per_run, sensor.sent
    scale = 1e6 / count
    return {name: statistics.median(spent) * scale for name, spent in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="stateless_json,stateless_avro")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--metrics", action="store_true", help="also the worker with /metrics' sensor"
    )
    args = parser.parse_args(argv)
    print(f"{args.messages:,} messages in batches of {BATCH}, median of {args.rounds} rounds")
    head = f"{'scenario':16s} {'worker µs/msg':>14s} {'raw µs/msg':>11s} {'ratio':>6s}"
    if args.metrics:
        head += f" {'+metrics µs/msg':>16s} {'ratio':>6s}"
    print(head)
    for scenario in args.scenarios.split(","):
        with tempfile.TemporaryDirectory() as out:
            us = measure(scenario, args.messages, args.rounds, Path(out), args.metrics)
        worker_us, raw_us = us["worker"], us["raw"]
        line = f"{scenario:16s} {worker_us:14.3f} {raw_us:11.3f} {worker_us / raw_us:6.2f}"
        if args.metrics:
            sensed = us["worker+metrics"]
            line += f" {sensed:16.3f} {sensed / us['raw']:6.2f}"
        print(line)


if __name__ == "__main__":
    main()
