"""The ``latency`` scenario: end-to-end latency of ``stateless_json`` at fixed input rates.

What an event-driven user feels is not throughput but how long one order takes from its
producer to the output topic's consumer. For every rate in ``RATES`` (messages/s) and every
repetition, on a fresh embedded broker, one side at a time (alternating which goes first):

1. the harness creates the topics and starts a **sink** (``python bench/latency.py sink``:
   a consumer assigned to the side's output topic, which notes when each output arrives),
   then the side: the worker built from ``bench/apps/stateless_json.py`` with its defaults,
   or ``bench/raw_loops.py``'s ``stateless_json`` loop with the same settings (``direct``:
   no processor at all, the sink reads the input topic: the broker's own floor);
2. once the side's log says its partitions are assigned, a **load** process
   (``python bench/latency.py load``) produces orders at the rate, paced every half
   millisecond, noting the monotonic time just before each ``produce()``: ``WARMUP``
   seconds first (not measured), then ``seconds`` measured;
3. when the sink has seen every output it expects (the orders of 500 or more), both stop.

Latency of an output = its arrival at the sink minus its order's send time (both
``time.monotonic_ns()``, which is one clock for every process of the machine). The figures
are p50, p99, p99.9 and max over the measured orders, in milliseconds, and the side's CPU
per input message over the measured span. Every output is checked: each expected order
arrives exactly once with the right key and amount. The load producer sends at once
(``linger.ms=0``); the sink asks the broker to answer fetches within 1 ms, so neither adds
to the side's latency more than it must. The worker inherits the harness's environment,
so a setting (``FAUST_PRODUCER_LINGER=0``, ``FAUST_BROKER_COMMIT_EVERY=...``) can be
measured by setting it for the whole run. Examples::

    python bench/run.py --scenarios latency --latency-seconds 10 --repetitions 3
    python bench/run.py --scenarios latency --latency-sides direct --latency-rates 1000 \
        --latency-sink-fetch-wait 500    # the floor when the sink keeps the default fetch wait
"""

from __future__ import annotations

import array
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from data import BIG, PARTITIONS, json_value, make_orders  # noqa: E402

#: input rates, messages/s
RATES = (1_000, 10_000, 50_000)
#: consumer settings both sides run with: the defaults a user gets, and a fetch wait short
#: enough that the broker's answer is not what is measured (see bench/README.md)
CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "fetch_wait_10ms": {"fetch.wait.max.ms": 10},
}
#: seconds of load before the measured span (connections, first fetches, caches)
WARMUP = 1.0
INPUT = "bench-latency-orders"
WORKER_APP = "stateless_json.py"
#: the worker's topics are its app's; the raw loop's and the direct baseline's are ours
TOPICS = {
    "worker": ("bench-orders", "bench-stateless-json-out"),
    "raw": ("raw-latency-in", "raw-latency-out"),
    "direct": ("direct-latency-in", "direct-latency-in"),
}
PACE_SECONDS = 0.0005
#: what the scenario measures at every rate (``run.py --latency-sides`` picks some)
SIDES = ("direct", "worker", "raw")


# -- the load and the sink (subprocesses) -----------------------------------------------------


def load(config: dict[str, Any]) -> None:
    """Produce ``count`` orders at ``rate``/s to ``topic``; write each one's send time
    (``monotonic_ns``, int64 by order index) to ``out``."""
    from confluent_kafka import Producer

    count, rate = config["count"], config["rate"]
    orders = make_orders(count)
    values = [json_value(o) for o in orders]
    keys = [o.account_id.encode() for o in orders]
    producer = Producer(
        {
            "bootstrap.servers": config["bootstrap"],
            "partitioner": "murmur2_random",
            "enable.idempotence": True,
        }
    )
    topic = config["topic"]
    sent = array.array("q", bytes(8 * count))
    produce, poll, clock = producer.produce, producer.poll, time.monotonic_ns
    started = clock()
    Path(config["out"] + ".started").touch()
    index = 0
    while index < count:
        due = min(count, int((clock() - started) * rate / 1e9) + 1)
        while index < due:
            sent[index] = clock()
            try:
                produce(topic, values[index], keys[index])
            except BufferError:
                poll(0.001)
                continue
            index += 1
        poll(0)
        time.sleep(PACE_SECONDS)
    if producer.flush(60):
        raise SystemExit("load: records not delivered")
    Path(config["out"]).write_bytes(sent.tobytes())


def sink(config: dict[str, Any]) -> None:
    """Read ``topic`` from its start; note when each order's output arrives; stop when
    every index in ``expect`` has arrived (or at SIGTERM); write ``out`` (JSON: arrivals as
    ``[index, ns, key, amount_cents]`` lists)."""
    from confluent_kafka import Consumer, TopicPartition

    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    consumer = Consumer(
        {
            "bootstrap.servers": config["bootstrap"],
            "group.id": "bench-latency-sink",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": config.get("fetch_wait_ms", 1),
        }
    )
    topic = config["topic"]
    consumer.list_topics(topic, timeout=10)
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    direct = config["direct"]
    expect = config["expect"]
    arrivals: list[list[Any]] = []
    seen = 0
    clock, loads = time.monotonic_ns, orjson.loads
    Path(config["ready"]).touch()
    while seen < expect and not stopping:
        first = consumer.poll(0.1)
        if first is None:
            continue
        batch = [first, *consumer.consume(10_000, 0)]
        now = clock()
        for message in batch:
            if message.error() is not None:
                continue
            value = loads(message.value())
            if direct:
                if value["amount"] < BIG:
                    continue
                cents = round(value["amount"] * 100)
            else:
                cents = value["amount_cents"]
            arrivals.append([int(value["order_id"][1:]), now, message.key().decode(), cents])
            seen += 1
    consumer.close()
    Path(config["out"]).write_bytes(orjson.dumps(arrivals))


# -- the harness side -------------------------------------------------------------------------


def percentiles(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {
        "p50_ms": round(at(0.50), 3),
        "p99_ms": round(at(0.99), 3),
        "p999_ms": round(at(0.999), 3),
        "max_ms": round(ordered[-1], 3),
    }


def expected_outputs(count: int) -> dict[int, tuple[str, int]]:
    """The outputs ``count`` orders make: ``{order index: (account, amount in cents)}``
    of the orders of 500 or more."""
    orders = make_orders(count)
    return {
        i: (o.account_id, round(o.amount * 100)) for i, o in enumerate(orders) if o.amount >= BIG
    }


def check_arrivals(
    arrivals: list[list[Any]], expected: dict[int, tuple[str, int]], tag: str
) -> None:
    """Every expected output arrived exactly once, right (``[index, ns, key, cents]``
    lists, as the sink writes them); ``RuntimeError`` otherwise."""
    got = {index: (key, cents) for index, _, key, cents in arrivals}
    if len(arrivals) != len(expected) or got != expected:
        wrong = sum(1 for i, v in got.items() if expected.get(i) != v)
        raise RuntimeError(
            f"latency {tag}: {len(arrivals)} outputs ({len(got)} distinct), "
            f"{len(expected)} expected, {wrong} wrong"
        )


def _wait_for(
    path: Path, needle: bytes | None, process: subprocess.Popen[bytes], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and (needle is None or needle in path.read_bytes()):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}; see {path}")
        time.sleep(0.02)
    raise RuntimeError(f"{needle!r} never appeared in {path}")


def _cpu_seconds(pid: int) -> float:
    from measure import process_cpu_seconds

    return process_cpu_seconds(pid)


def run_once(
    side: str,
    rate: int,
    seconds: float,
    *,
    worker: Path | None,
    work: Path,
    tag: str,
    worker_env: dict[str, str],
    broker_factory: Callable[[Path], Any],
    create_topics: Callable[[str, list[str]], None],
    consumer: dict[str, Any] | None = None,
    sink_fetch_wait_ms: int = 1,
) -> dict[str, Any]:
    """One side at one rate on a fresh broker; the figures of the measured span. The side's
    consumer gets the librdkafka properties ``consumer`` besides its own; the sink asks for
    fetches answered within ``sink_fetch_wait_ms``."""
    warm = int(rate * WARMUP)
    count = warm + int(rate * seconds)
    expected = expected_outputs(count)
    source, output = TOPICS[side]
    python = sys.executable
    with broker_factory(work / f"{tag}-broker.log") as broker:
        create_topics(broker.bootstrap, sorted({source, output}))
        sink_out, sink_ready = work / f"{tag}-sink.json", work / f"{tag}-sink.ready"
        sink_config = {
            "bootstrap": broker.bootstrap,
            "topic": output,
            "direct": side == "direct",
            "fetch_wait_ms": sink_fetch_wait_ms,
            "expect": len(expected),
            "out": str(sink_out),
            "ready": str(sink_ready),
        }
        sink_log = (work / f"{tag}-sink.log").open("wb")
        processes: list[subprocess.Popen[bytes]] = []
        try:
            sink_process = subprocess.Popen(
                [python, __file__, "sink", json.dumps(sink_config)],
                stdout=sink_log,
                stderr=subprocess.STDOUT,
            )
            processes.append(sink_process)
            side_process = None
            side_log = work / f"{tag}-{side}.log"
            if side != "direct":
                if side == "worker":
                    assert worker is not None
                    argv = [python, str(worker), "worker", "--broker", broker.url]
                    argv += ["--loglevel", "info", "--datadir", str(work / f"{tag}-data")]
                    env = dict(os.environ, **worker_env)
                    if consumer:
                        env["FAUST_CONSUMER_CONFIG"] = json.dumps(consumer)
                    ready = b"faust.worker: assigned bench-orders"
                else:
                    config = {
                        "scenario": "stateless_json",
                        "bootstrap": broker.bootstrap,
                        "group": "raw-latency",
                        "input": source,
                        "output": output,
                        "consumer": consumer or {},
                    }
                    argv = [python, str(BENCH / "raw_loops.py"), json.dumps(config)]
                    env = dict(os.environ)
                    ready = b"assigned"
                with side_log.open("wb") as handle:
                    side_process = subprocess.Popen(
                        argv, stdout=handle, stderr=subprocess.STDOUT, env=env
                    )
                processes.append(side_process)
                _wait_for(side_log, ready, side_process, 60)
            _wait_for(sink_ready, None, sink_process, 30)
            sent_path = work / f"{tag}-sent.bin"
            load_config = {
                "bootstrap": broker.bootstrap,
                "topic": source,
                "count": count,
                "rate": rate,
                "out": str(sent_path),
            }
            load_process = subprocess.Popen(
                [python, __file__, "load", json.dumps(load_config)],
                stdout=sink_log,
                stderr=subprocess.STDOUT,
            )
            processes.append(load_process)
            _wait_for(Path(str(sent_path) + ".started"), None, load_process, 60)
            time.sleep(WARMUP)
            cpu_start = _cpu_seconds(side_process.pid) if side_process else 0.0
            span_start = time.monotonic()
            load_process.wait(seconds + 120)
            cpu_end = _cpu_seconds(side_process.pid) if side_process else 0.0
            span = time.monotonic() - span_start
            if load_process.returncode != 0:
                raise RuntimeError(f"the load process failed; see {work / f'{tag}-sink.log'}")
            sink_process.wait(60)
            if sink_process.returncode != 0:
                raise RuntimeError(f"the sink failed; see {work / f'{tag}-sink.log'}")
            if side_process is not None:
                side_process.send_signal(signal.SIGTERM)
                if side_process.wait(60) != 0:
                    raise RuntimeError(f"{side} exited with {side_process.returncode}")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            sink_log.close()
    sent = array.array("q")
    sent.frombytes(sent_path.read_bytes())
    arrivals = orjson.loads(sink_out.read_bytes())
    check_arrivals(arrivals, expected, tag)
    latencies = [(ns - sent[index]) / 1e6 for index, ns, _, _ in arrivals if index >= warm]
    figures = percentiles(latencies)
    measured_inputs = count - warm
    figures.update(
        {
            "outputs": len(latencies),
            "cpu_us_per_msg": round((cpu_end - cpu_start) / measured_inputs * 1e6, 2)
            if side_process is not None
            else None,
            "achieved_rate": round(measured_inputs / span) if span > 0 else None,
            "verified": True,
        }
    )
    return figures


def run_latency(
    *,
    worker: Path | None,
    work: Path,
    repetitions: int,
    seconds: float,
    rates: tuple[int, ...],
    worker_env: dict[str, str],
    broker_factory: Callable[[Path], Any],
    create_topics: Callable[[str, list[str]], None],
    log: Callable[[str], None],
    sides: tuple[str, ...] = SIDES,
    sink_fetch_wait_ms: int = 1,
) -> dict[str, Any]:
    """Every rate: ``repetitions`` rounds of the worker and the raw loop under every one of
    ``CONFIGS`` and the direct floor (those of them in ``sides``), the order alternating;
    figures by rate, then ``<side>`` (direct) or ``<side>/<config>``."""
    figures: dict[str, Any] = {}
    for rate in rates:
        runs: dict[str, list[dict[str, Any]]] = {}
        for repetition in range(repetitions):
            plan = [("direct", "", {})]
            for name, consumer in CONFIGS.items():
                plan += [(side, name, consumer) for side in ("worker", "raw")]
            plan = [step for step in plan if step[0] in sides]
            plan = [step for step in plan if step[0] != "worker" or worker is not None]
            if repetition % 2:
                plan.reverse()
            for side, name, consumer in plan:
                label = f"{side}/{name}" if name else side
                result = run_once(
                    side,
                    rate,
                    seconds,
                    worker=worker,
                    work=work,
                    tag=f"latency-{rate}-r{repetition}-{side}-{name or 'floor'}",
                    worker_env=worker_env,
                    broker_factory=broker_factory,
                    create_topics=create_topics,
                    consumer=consumer,
                    sink_fetch_wait_ms=sink_fetch_wait_ms,
                )
                runs.setdefault(label, []).append(result)
                log(
                    f"  latency {rate:>6,}/s {label:22s} p50 {result['p50_ms']:7.2f} ms  "
                    f"p99 {result['p99_ms']:7.2f}  p99.9 {result['p999_ms']:7.2f}  "
                    f"max {result['max_ms']:7.2f}  ({result['outputs']:,} outputs, verified)"
                )
        figures[str(rate)] = runs
    return figures


def summarize(figures: dict[str, Any]) -> dict[str, Any]:
    """Medians over repetitions of each percentile, by rate and side; worker/raw p99 ratio
    under each configuration."""
    summary: dict[str, Any] = {}
    for rate, runs in figures.items():
        entry: dict[str, Any] = {}
        for label, results in runs.items():
            entry[label] = {
                key: round(statistics.median(r[key] for r in results), 3)
                for key in ("p50_ms", "p99_ms", "p999_ms", "max_ms")
            }
            cpu = [r["cpu_us_per_msg"] for r in results if r["cpu_us_per_msg"] is not None]
            if cpu:
                entry[label]["cpu_us_per_msg"] = round(statistics.median(cpu), 2)
        for name in CONFIGS:
            worker, raw = entry.get(f"worker/{name}"), entry.get(f"raw/{name}")
            if worker and raw and raw["p99_ms"] > 0:
                entry[f"p99_ratio/{name}"] = round(worker["p99_ms"] / raw["p99_ms"], 3)
        summary[rate] = entry
    return summary


def print_table(summary: dict[str, Any]) -> None:
    header = (
        f"{'latency':>8s} {'side/consumer settings':22s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'p99.9 ms':>9s} {'max ms':>8s} {'CPU us/msg':>10s}"
    )
    print(header)
    print("-" * len(header))
    for rate, entry in summary.items():
        for label, figures in entry.items():
            if label.startswith("p99_ratio"):
                continue
            cpu = figures.get("cpu_us_per_msg")
            print(
                f"{int(rate):>6,}/s {label:22s} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f} "
                f"{figures['p999_ms']:9.2f} {figures['max_ms']:8.2f} "
                f"{format(cpu, '.2f') if cpu is not None else '-':>10s}"
            )
        for name in CONFIGS:
            if f"p99_ratio/{name}" in entry:
                print(f"{'':8s} worker p99 / raw p99 ({name}): {entry[f'p99_ratio/{name}']:.2f}")


if __name__ == "__main__":
    {"load": load, "sink": sink}[sys.argv[1]](json.loads(sys.argv[2]))
