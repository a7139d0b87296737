"""The benchmark: the compiled worker against a hand-written confluent-kafka loop.

Usage (from the repository root, inside the project's virtualenv)::

    python bench/run.py                 # 1,000,000 orders, 3 repetitions, every scenario
    python bench/run.py --quick         # 100,000 orders
    python bench/run.py --messages 4000 --repetitions 1 --scenarios available --verify \\
        --out /tmp/results.json         # what tests/test_bench.py runs

For every repetition it starts a fresh embedded broker (faustc.broker.EmbeddedBroker),
preloads the orders over 4 partitions, then runs each scenario's two sides as separate
processes, one after the other, alternating which goes first: the worker built by
``faustc build`` from ``bench/apps/<scenario>.py``, and ``bench/raw_loops.py``. Each runs
until its group has committed every message, then gets SIGTERM (``bench/measure.py`` says
how rates, CPU and memory are measured). It prints the medians and writes them to
``bench/results.json`` (the keys issue 6 names) and every run's figures, the build times
and the settings to ``bench/results-details.json``. Pending worker sides are recorded as
``"pending (needs issue N)"``, never as a number.

Three scenarios have harnesses of their own, run after the throughput ones, each on its own
brokers: ``recovery`` (``bench/recovery.py``), ``takeover`` (``bench/takeover.py``) and
``latency`` (``bench/latency.py``); their medians go to ``results.json`` under their names.
``--peers faust-streaming,quixstreams`` (or ``all``) adds the peers' apps
(``bench/peers/``, each in its own virtualenv) as further sides of the scenarios that
have them, measured and verified like the worker; their table is ``results.json``'s
``peers``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from confluent_kafka.cimpl import NewTopic  # noqa: E402
from data import (  # noqa: E402
    JSON_INPUT,
    PARTITIONS,
    Order,
    avro_value,
    json_value,
    make_orders,
)
from latency import RATES, run_latency  # noqa: E402
from latency import SIDES as LATENCY_SIDES  # noqa: E402
from latency import print_table as print_latency  # noqa: E402
from latency import summarize as summarize_latency  # noqa: E402
from measure import ChildRun, RunFailed, committed_total, run_child  # noqa: E402
from recovery import VARIANTS, run_recovery  # noqa: E402
from recovery import print_table as print_recovery  # noqa: E402
from recovery import summarize as summarize_recovery  # noqa: E402
from scenarios import SCENARIOS, Peer, Records, Scenario  # noqa: E402
from takeover import print_table as print_takeover  # noqa: E402
from takeover import run_takeover  # noqa: E402
from takeover import summarize as summarize_takeover  # noqa: E402

from faustc.broker import EmbeddedBroker  # noqa: E402

#: what the harness gives every worker (as tests/kafka_helpers.WORKER_ENV does): a Tansu
#: group join takes half the session timeout; the raw loops use the same two settings. The
#: web server takes any free port (several harnesses may share the machine)
WORKER_ENV = {
    "FAUST_BROKER_SESSION_TIMEOUT": "6",
    "FAUST_BROKER_HEARTBEAT_INTERVAL": "1",
    "FAUST_WEB_PORT": "0",
}
RESULT_KEYS = (
    "worker_msgs_s",
    "raw_msgs_s",
    "ratio",
    "worker_cpu_us_per_msg",
    "raw_cpu_us_per_msg",
    "worker_rss_mb",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 messages")
    parser.add_argument("--messages", type=int, help="orders to preload (default 1,000,000)")
    parser.add_argument("--repetitions", type=int, default=3, help="runs of each side")
    parser.add_argument(
        "--scenarios",
        default="all",
        help="comma-separated names, 'all', or 'available' (those with a worker side)",
    )
    parser.add_argument(
        "--commit-interval",
        type=float,
        help="seconds between commits on both sides (default: the worker's, 2.8; the tests "
        "shorten it so that a tiny run does not wait for its last commit)",
    )
    parser.add_argument(
        "--latency-seconds",
        type=float,
        help="measured seconds of load per latency run (default 5; 2 with --quick)",
    )
    parser.add_argument(
        "--latency-rates",
        default=",".join(str(rate) for rate in RATES),
        help="comma-separated input rates of the latency scenario, messages/s",
    )
    parser.add_argument(
        "--latency-sides",
        default=",".join(LATENCY_SIDES),
        help="comma-separated sides of the latency scenario: direct (the broker's floor), "
        "worker, raw (default: all three)",
    )
    parser.add_argument(
        "--latency-sink-fetch-wait",
        type=int,
        default=1,
        metavar="MS",
        help="fetch.wait.max.ms of the latency scenario's sink (default 1)",
    )
    parser.add_argument(
        "--takeover-session-timeout",
        type=float,
        default=float(WORKER_ENV["FAUST_BROKER_SESSION_TIMEOUT"]),
        help="the workers' broker_session_timeout in the takeover scenario (default: the "
        "harness's 6 s; the runtime's default is 45 s)",
    )
    parser.add_argument(
        "--takeover-standby-replicas",
        default="0",
        metavar="N,...",
        help="comma-separated table_standby_replicas values the takeover scenario runs "
        "with (default 0; '0,1': without and with standbys)",
    )
    parser.add_argument(
        "--peers",
        default="",
        help="comma-separated peers (faust-streaming, quixstreams) or 'all': also run the "
        "scenarios that have a peer app by each of them (bench/peers/)",
    )
    parser.add_argument("--raw-only", action="store_true", help="measure the raw loops only")
    parser.add_argument(
        "--raw-option",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="option for bench/raw_loops.py, e.g. batch=1000 or codec='\"orjson\"'",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also read every output back and compare it with the expected results",
    )
    parser.add_argument("--no-build-times", action="store_true", help="skip faustc build timing")
    parser.add_argument("--build-repetitions", type=int, default=3, help="builds per example")
    parser.add_argument(
        "--build-times-for",
        help="comma-separated example paths to time (default: every example and bench app)",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the worker side, e.g. FAUST_WEB_ENABLED=false "
        "(the web server off; bench/README.md, 'The web server')",
    )
    parser.add_argument("--out", type=Path, default=BENCH / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="attach py-spy (--native, raw collapsed stacks) to every measured process and write "
        "DIR/<scenario>-<side>.txt; the figures of profiled runs are perturbed",
    )
    args = parser.parse_args(argv)
    if args.messages is None:
        args.messages = 100_000 if args.quick else 1_000_000
    known_peers = ("faust-streaming", "quixstreams")
    args.peers = known_peers if args.peers == "all" else tuple(filter(None, args.peers.split(",")))
    unknown = set(args.peers) - set(known_peers)
    if unknown:
        parser.error(f"unknown peer(s): {', '.join(sorted(unknown))}")
    args.latency_sides = tuple(filter(None, args.latency_sides.split(",")))
    if not set(args.latency_sides) <= set(LATENCY_SIDES):
        parser.error(f"--latency-sides: choose among {', '.join(LATENCY_SIDES)}")
    if args.latency_seconds is None:
        args.latency_seconds = 2.0 if args.quick else 5.0
    return args


#: scenarios with a harness of their own (not an input topic processed to its end)
SPECIAL = ("recovery", "takeover", "latency")


def select(spec: str) -> tuple[list[Scenario], list[str]]:
    """The throughput scenarios and the special ones (``SPECIAL``) named by ``spec``."""
    if spec in ("all", "available"):
        chosen = [s for s in SCENARIOS.values() if spec == "all" or s.app is not None]
        return chosen, list(SPECIAL)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS and name not in SPECIAL]
    if unknown:
        known = ", ".join([*SCENARIOS, *SPECIAL])
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)} (known: {known})")
    return [SCENARIOS[n] for n in names if n in SCENARIOS], [n for n in names if n in SPECIAL]


# -- building ------------------------------------------------------------------------------


def faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, check=False
    )


def build_app(app: Path, out_dir: Path) -> Path:
    result = faustc("build", str(app), "-o", str(out_dir))
    if result.returncode != 0:
        raise SystemExit(f"faustc build {app} failed:\n{result.stdout}{result.stderr}")
    return out_dir / f"{app.stem}_worker.py"


def build_times(work: Path, repetitions: int = 3, only: list[str] | None = None) -> dict[str, Any]:
    """Wall time of ``faustc build`` (a fresh process, as a user runs it) per example and
    bench app, in seconds: with type checking into an empty output directory (``cold``: mypy
    has no cache yet), again into the same one (``warm``, the median of the rest), and, where
    ``faustc build`` has it, with ``--no-typecheck`` (median)."""
    has_flag = "--no-typecheck" in faustc("build", "--help").stdout
    apps = sorted((REPO / "examples").glob("*.py")) + sorted((BENCH / "apps").glob("*.py"))
    if only:
        apps = [app for app in apps if str(app.relative_to(REPO)) in only]
    times: dict[str, Any] = {}
    for app in apps:
        entry: dict[str, Any] = {}
        out = work / "build-times" / app.stem
        checked = [timed_build(app, out / "checked") for _ in range(repetitions)]
        numbers = [seconds for seconds in checked if isinstance(seconds, float)]
        if len(numbers) == len(checked):
            key = "typecheck" if has_flag else "build"
            entry[f"{key}_cold"] = numbers[0]
            if len(numbers) > 1:
                entry[f"{key}_warm"] = round(statistics.median(numbers[1:]), 3)
        else:
            entry["fails"] = next(s for s in checked if isinstance(s, str))
        if has_flag:
            unchecked = [
                timed_build(app, out / "unchecked", "--no-typecheck") for _ in range(repetitions)
            ]
            numbers = [seconds for seconds in unchecked if isinstance(seconds, float)]
            if len(numbers) == len(unchecked):
                entry["no_typecheck"] = round(statistics.median(numbers), 3)
        else:
            entry["note"] = "faustc build has no type checking yet (issue 4): no second figure"
        times[str(app.relative_to(REPO))] = entry
    return times


def timed_build(app: Path, out: Path, *flags: str) -> float | str:
    started = time.perf_counter()
    result = faustc("build", str(app), "-o", str(out), *flags)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        return f"fails: {result.stderr.strip().splitlines()[-1:]}"
    return round(seconds, 3)


# -- the broker and its data ---------------------------------------------------------------


#: the input topics' retention, set explicitly: it is Kafka's default, but Tansu describes
#: only the configs a topic was created with, and Quix Streams reads ``retention.ms`` to
#: configure its changelogs
INPUT_CONFIG = {"retention.ms": "604800000"}


def create_topics(bootstrap: str, names: list[str], config: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(name, PARTITIONS, 1, config=config or {}) for name in names]
    )
    for future in futures.values():
        future.result()
    deadline = time.monotonic() + 15
    while not set(names) <= set(admin.list_topics(timeout=5).topics):
        if time.monotonic() > deadline:
            raise SystemExit(f"topics never appeared: {names}")
        time.sleep(0.05)


def preload(bootstrap: str, topic: str, orders: list[Order], codec: str) -> dict[int, int]:
    """Produce the orders; return each partition's end offset (from delivery reports)."""
    encode = json_value if codec == "json" else avro_value
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
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "enable.idempotence": True,
        }
    )
    produce = producer.produce
    for order in orders:
        while True:
            try:
                produce(
                    topic,
                    encode(order),
                    order.account_id.encode(),
                    on_delivery=delivered,
                    timestamp=order.timestamp_ms,
                )
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120) or errors:
        raise SystemExit(f"preloading {topic} failed: {errors[:1]}")
    if sum(ends.values()) != len(orders):
        raise SystemExit(f"preloading {topic}: end offsets {ends} do not add up to {len(orders)}")
    return ends


def read_topic(bootstrap: str, topic: str) -> Records:
    """Every record of ``topic`` (read_committed), up to each partition's end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-verify",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    records: Records = []
    at_end: set[int] = set()
    deadline = time.monotonic() + 120
    try:
        while len(at_end) < PARTITIONS:
            if time.monotonic() > deadline:
                raise RunFailed(f"reading {topic} back timed out")
            for message in consumer.consume(10_000, 0.5):
                error = message.error()
                if error is None:
                    records.append((message.key(), message.value()))
                elif error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition() or 0)
                else:
                    raise RunFailed(f"reading {topic}: {error}")
    finally:
        consumer.close()
    return records


# -- one repetition ------------------------------------------------------------------------


def run_side(
    side: str,
    scenario: Scenario,
    *,
    broker: EmbeddedBroker,
    workers: dict[str, Path],
    work: Path,
    args: argparse.Namespace,
    raw_options: dict[str, Any],
    repetition: int,
) -> ChildRun:
    bootstrap = broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    log_path = work / f"r{repetition}-{scenario.name}-{side}.log"
    timeout = 120 + args.messages / 5_000
    if side in scenario.peers:
        peer = scenario.peers[side]
        group = peer.group
        argv, env = peer_command(side, peer, broker, work / f"r{repetition}-{scenario.name}-{side}")
        if args.commit_interval is not None:
            env["BENCH_COMMIT_INTERVAL"] = env["BROKER_COMMIT_INTERVAL"] = str(args.commit_interval)
        timeout = 120 + args.messages / 500  # faust-streaming does ~2,000 msgs/s
    elif side == "worker":
        worker = workers[scenario.name]
        group = app_id(BENCH / "apps" / str(scenario.app))
        argv = [sys.executable, str(worker), "worker", "--broker", broker.url, "--loglevel", "info"]
        argv += ["--datadir", str(work / f"r{repetition}-{scenario.name}-worker-data")]
        env = dict(WORKER_ENV)
        env.update(variable.split("=", 1) for variable in args.worker_env)
        if args.commit_interval is not None:
            env["FAUST_BROKER_COMMIT_INTERVAL"] = str(args.commit_interval)
    else:
        group = f"raw-{scenario.name}"
        config = {
            "scenario": scenario.name,
            "bootstrap": bootstrap,
            "group": group,
            "input": scenario.input,
            "datadir": str(work / f"r{repetition}-{scenario.name}-raw-data"),
            **scenario.raw_topics,
            **scenario.raw_options,
            **raw_options,
        }
        if args.commit_interval is not None:
            config["commit_interval"] = args.commit_interval
        argv = [sys.executable, str(BENCH / "raw_loops.py"), json.dumps(config)]
        env = {}
    assert broker.process is not None
    profilers: list[subprocess.Popen[bytes]] = []

    def attach_profiler(pid: int) -> None:
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            output = args.profile / f"{scenario.name}-{side}.txt"
            spy = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
            spy += ["--native", "--rate", "250", "--format", "raw", "--output", str(output)]
            profilers.append(
                subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=log_path.open("ab"))
            )
            time.sleep(0.5)  # let py-spy attach before the work starts

    run = run_child(
        argv,
        log_path,
        progress=lambda: committed_total(admin, group),
        target=args.messages * scenario.stages,
        broker_pid=broker.process.pid,
        timeout=timeout,
        env=env,
        on_start=attach_profiler,
    )
    for profiler in profilers:
        profiler.wait(60)
    return run


def peer_command(
    name: str, peer: Peer, broker: EmbeddedBroker, data: Path
) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run a peer's app, with the harness's group
    settings (a Tansu join takes half the session timeout) and the worker's commit
    interval (2.8 s: faust-streaming's default, Quix Streams' is 5 s)."""
    from peers.install import peer_python

    app = BENCH / "peers" / peer.app
    python = str(peer_python(name))
    if name == "faust-streaming":
        env = {
            "PYTHONPATH": str(app.parent),
            "BROKER_URL": broker.url,
            "BROKER_SESSION_TIMEOUT": "6",
            "BROKER_HEARTBEAT_INTERVAL": "1",
        }
        argv = [python, "-m", "faust", "--datadir", str(data), "-A", app.stem]
        return [*argv, "worker", "--without-web", "--loglevel", "info"], env
    env = {"BENCH_BROKER": broker.bootstrap, "BENCH_STATE_DIR": str(data)}
    return [python, str(app)], env


def app_id(app: Path) -> str:
    """The consumer group of a built app: its App id (read the way faustc reads it)."""
    from faustc.front.reader import read_module
    from faustc.source import SourceFile

    return read_module(SourceFile.load(app)).app.app_id


def run_repetition(
    repetition: int,
    scenarios: list[Scenario],
    orders: list[Order],
    workers: dict[str, Path],
    work: Path,
    args: argparse.Namespace,
    raw_options: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Start a broker, preload, run both sides of each scenario; figures by scenario/side."""
    figures: dict[str, dict[str, Any]] = {}
    with EmbeddedBroker(log_file=work / f"r{repetition}-broker.log") as broker:
        inputs = sorted({s.input for s in scenarios})
        raw_topics = [t for s in scenarios for t in s.raw_topics.values()]
        for scenario in scenarios:
            for name in args.peers:
                peer = scenario.peers.get(name)
                if peer is not None and "output" in peer.topics:
                    raw_topics.append(peer.topics["output"])
        create_topics(broker.bootstrap, inputs, INPUT_CONFIG)
        create_topics(broker.bootstrap, raw_topics)
        for topic in inputs:
            started = time.monotonic()
            preload(broker.bootstrap, topic, orders, "json" if topic == JSON_INPUT else "avro")
            seconds = time.monotonic() - started
            log(f"  preloaded {len(orders):,} orders into {topic} in {seconds:.1f}s")
        for index, scenario in enumerate(scenarios):
            sides = ["raw"] if args.raw_only or scenario.app is None else ["worker", "raw"]
            sides += [name for name in args.peers if name in scenario.peers]
            if (repetition + index) % 2:
                sides.reverse()
            figures[scenario.name] = {}
            for side in sides:
                run = run_side(
                    side,
                    scenario,
                    broker=broker,
                    workers=workers,
                    work=work,
                    args=args,
                    raw_options=raw_options,
                    repetition=repetition,
                )
                stats = run.stats(args.messages, args.messages * scenario.stages)
                if args.verify:
                    topics = scenario.raw_topics if side == "raw" else scenario.worker_topics
                    verify = scenario.verify
                    if side in scenario.peers:
                        topics, verify = scenario.peers[side].topics, scenario.peers[side].verify
                    if topics:
                        verify(
                            orders,
                            side,
                            lambda topic: read_topic(broker.bootstrap, topic),
                            topics,
                        )
                        stats["verified"] = True
                figures[scenario.name][side] = stats
                log(
                    f"  {scenario.name:15s} {side:6s} {stats['msgs_s']:>10,.0f} msgs/s "
                    f"{stats['cpu_us_per_msg']:6.2f} us/msg CPU  "
                    f"(broker {stats['broker_cpu_us_per_msg']:.2f})  rss {stats['rss_mb']:.0f} MB"
                    + ("" if stats["steady_window"] else "  [no steady window: run too short]")
                )
    return figures


# -- summary -------------------------------------------------------------------------------


def summarize(
    scenarios: list[Scenario], runs: list[dict[str, dict[str, Any]]], raw_only: bool
) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        figures = [run[scenario.name] for run in runs]

        def median(side: str, key: str, figures: list[dict[str, Any]] = figures) -> float | None:
            values = [figure[side][key] for figure in figures if side in figure]
            return statistics.median(values) if values else None

        raw_rate, raw_cpu = median("raw", "msgs_s"), median("raw", "cpu_us_per_msg")
        worker_rate = median("worker", "msgs_s")
        entry: dict[str, Any]
        if worker_rate is None:
            reason = (
                f"pending ({scenario.pending})"
                if scenario.app is None
                else "not measured (--raw-only)"
            )
            entry = dict.fromkeys(RESULT_KEYS, reason)
        else:
            entry = {
                "worker_msgs_s": round(worker_rate),
                "ratio": round(worker_rate / raw_rate, 3) if raw_rate else None,
                "worker_cpu_us_per_msg": round(median("worker", "cpu_us_per_msg") or 0.0, 2),
                "worker_rss_mb": round(median("worker", "rss_mb") or 0.0, 1),
            }
        entry["raw_msgs_s"] = round(raw_rate) if raw_rate is not None else None
        entry["raw_cpu_us_per_msg"] = round(raw_cpu, 2) if raw_cpu is not None else None
        summary[scenario.name] = {key: entry[key] for key in RESULT_KEYS}
    return summary


def summarize_peers(
    scenarios: list[Scenario], runs: list[dict[str, dict[str, Any]]], peers: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """Medians of every contender of the scenarios that have peers: messages/s, CPU µs per
    message and its ratio to the raw loop's, peak RSS."""
    summary: dict[str, dict[str, Any]] = {}
    for scenario in scenarios:
        names = [name for name in peers if name in scenario.peers]
        if not names:
            continue
        entry: dict[str, Any] = {}
        for side in ["raw", "worker", *names]:
            figures = [run[scenario.name][side] for run in runs if side in run[scenario.name]]
            if not figures:
                continue
            entry[side] = {
                "msgs_s": round(statistics.median(f["msgs_s"] for f in figures)),
                "cpu_us_per_msg": round(statistics.median(f["cpu_us_per_msg"] for f in figures), 2),
                "rss_mb": round(statistics.median(f["rss_mb"] for f in figures)),
            }
        raw_cpu = entry.get("raw", {}).get("cpu_us_per_msg")
        for figures in entry.values():
            figures["cpu_ratio"] = (
                round(figures["cpu_us_per_msg"] / raw_cpu, 2) if raw_cpu else None
            )
        summary[scenario.name] = entry
    return summary


def print_peers(summary: dict[str, dict[str, Any]]) -> None:
    header = (
        f"{'scenario':16s} {'contender':16s} {'msgs/s':>10s} {'CPU us/msg':>10s} "
        f"{'x raw CPU':>9s} {'RSS MB':>7s}"
    )
    print(header)
    print("-" * len(header))
    for name, entry in summary.items():
        for side, figures in entry.items():
            print(
                f"{name:16s} {side:16s} {figures['msgs_s']:>10,} "
                f"{figures['cpu_us_per_msg']:>10.2f} {figures['cpu_ratio'] or 0:>9.2f} "
                f"{figures['rss_mb']:>7}"
            )


def print_table(summary: dict[str, dict[str, Any]], runs: list[dict[str, dict[str, Any]]]) -> None:
    def cell(value: Any, spec: str) -> str:
        return format(value, spec) if isinstance(value, int | float) else str(value)

    header = (
        f"{'scenario':16s} {'worker msg/s':>12s} {'raw msg/s':>10s} {'ratio':>6s} "
        f"{'worker CPU us/msg':>17s} {'raw CPU us/msg':>14s} {'worker RSS MB':>13s}"
    )
    print(header)
    print("-" * len(header))
    for name, entry in summary.items():
        pending = isinstance(entry["worker_msgs_s"], str)
        worker = entry["worker_msgs_s"] if pending else cell(entry["worker_msgs_s"], ",")
        if pending:
            print(
                f"{name:16s} {'-':>12s} {cell(entry['raw_msgs_s'], ','):>10s} {'-':>6s} "
                f"{'-':>17s} {cell(entry['raw_cpu_us_per_msg'], '.2f'):>14s} {'-':>13s}  "
                f"worker: {worker}"
            )
        else:
            print(
                f"{name:16s} {worker:>12s} {cell(entry['raw_msgs_s'], ','):>10s} "
                f"{cell(entry['ratio'], '.2f'):>6s} "
                f"{cell(entry['worker_cpu_us_per_msg'], '.2f'):>17s} "
                f"{cell(entry['raw_cpu_us_per_msg'], '.2f'):>14s} "
                f"{cell(entry['worker_rss_mb'], '.0f'):>13s}"
            )


def log(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios, special = select(args.scenarios)
    raw_options = {}
    for option in args.raw_option:
        key, _, value = option.partition("=")
        raw_options[key] = json.loads(value)
    work = Path(tempfile.mkdtemp(prefix="faustc-bench-"))
    extra: dict[str, Any] = {}
    log(
        f"faustc bench: {args.messages:,} orders, {args.repetitions} repetition(s); work dir {work}"
    )
    try:
        workers = {}
        if not args.raw_only:
            for scenario in scenarios:
                if scenario.app is not None:
                    workers[scenario.name] = build_app(
                        BENCH / "apps" / scenario.app, work / "build"
                    )
            apps = (
                ("recovery", "stateful_table"),
                ("latency", "stateless_json"),
                ("takeover", "takeover"),
            )
            for name, app in apps:
                if name in special and app not in workers:
                    workers[app] = build_app(BENCH / "apps" / f"{app}.py", work / "build")
        only = args.build_times_for.split(",") if args.build_times_for else None
        builds = {} if args.no_build_times else build_times(work, args.build_repetitions, only)
        started = time.monotonic()
        orders = make_orders(args.messages) if scenarios or "recovery" in special else []
        log(f"  generated the orders in {time.monotonic() - started:.1f}s")
        runs = []
        for repetition in range(args.repetitions if scenarios else 0):
            log(f"repetition {repetition + 1} of {args.repetitions}")
            runs.append(
                run_repetition(repetition, scenarios, orders, workers, work, args, raw_options)
            )
        if "recovery" in special:
            log("recovery")
            with EmbeddedBroker(log_file=work / "recovery-broker.log") as broker:
                extra["recovery"] = run_recovery(
                    broker=broker,
                    orders=orders,
                    worker=workers.get("stateful_table"),
                    work=work,
                    repetitions=args.repetitions,
                    variants=VARIANTS,
                    worker_env=WORKER_ENV,
                    log=log,
                    create_topics=create_topics,
                )
        if "takeover" in special and not args.raw_only:
            log("takeover")
            session = {"FAUST_BROKER_SESSION_TIMEOUT": f"{args.takeover_session_timeout:g}"}
            extra["takeover"] = run_takeover(
                worker=workers["takeover"],
                work=work,
                repetitions=args.repetitions,
                records=args.messages,
                worker_env={**WORKER_ENV, **session},
                broker_factory=lambda log_file: EmbeddedBroker(log_file=log_file),
                create_topics=create_topics,
                log=log,
                standby_replicas=tuple(int(n) for n in args.takeover_standby_replicas.split(",")),
            )
        if "latency" in special:
            log("latency")
            extra["latency"] = run_latency(
                worker=workers.get("stateless_json"),
                work=work,
                repetitions=args.repetitions,
                seconds=args.latency_seconds,
                rates=tuple(int(rate) for rate in args.latency_rates.split(",")),
                worker_env=WORKER_ENV,
                broker_factory=lambda log_file: EmbeddedBroker(log_file=log_file),
                create_topics=create_topics,
                log=log,
                sides=args.latency_sides,
                sink_fetch_wait_ms=args.latency_sink_fetch_wait,
            )
    except (RunFailed, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"logs kept in {work}", file=sys.stderr)
        return 1
    summary = summarize(scenarios, runs, args.raw_only)
    results: dict[str, Any] = {"scenarios": summary}
    if scenarios:
        print()
        print_table(summary, runs)
    if args.peers and runs:
        results["peers"] = summarize_peers(scenarios, runs, args.peers)
        print()
        print_peers(results["peers"])
    if "recovery" in extra:
        results["recovery"] = summarize_recovery(extra["recovery"])
        print()
        print_recovery(results["recovery"])
    if "takeover" in extra:
        results["takeover"] = summarize_takeover(extra["takeover"])
        print()
        print_takeover(results["takeover"], args.messages, args.takeover_session_timeout)
    if "latency" in extra:
        results["latency"] = summarize_latency(extra["latency"])
        print()
        print_latency(results["latency"])
    if builds:
        print()
        print("faustc build (median wall time of the command, seconds):")
        for app, entry in builds.items():
            print(f"  {app:32s} {json.dumps(entry)}")
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    details = {
        "messages": args.messages,
        "repetitions": args.repetitions,
        "partitions": PARTITIONS,
        "raw_options": raw_options,
        "verify": args.verify,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "build_seconds": builds,
        "runs": runs,
        **extra,
    }
    details_path = args.out.with_name(re.sub(r"\.json$", "", args.out.name) + "-details.json")
    details_path.write_text(json.dumps(details, indent=2) + "\n")
    print(f"\nwrote {args.out} and {details_path}")
    if args.keep:
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
