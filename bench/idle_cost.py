"""What a running worker spends per second of wall clock whatever it processes, by variant.

A cost paid per second (a thread that wakes up, a client that polls the broker) is paid
per message too, divided by the rate: at 140,000 messages/s, 1% of a core is 0.07 µs a
message. ``bench/run.py``'s figures cannot tell it from the per-message work, so this
starts the built ``stateless_json`` worker on an embedded broker whose input topic is
empty, waits until it has joined its group, and reads its CPU (every thread, by name)
over a quiet interval; the variants take turns. Usage::

    python bench/idle_cost.py                               # web on and off, 3 rounds
    python bench/idle_cost.py --seconds 20 --rounds 5
    python bench/idle_cost.py --variant on= --variant off=FAUST_WEB_ENABLED=false

A variant is ``name=ENV,ENV`` (environment variables of the worker, ``NAME=VALUE``).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from measure import process_cpu_seconds, threads_cpu_seconds  # noqa: E402
from run import WORKER_ENV, build_app, create_topics  # noqa: E402

from faustc.broker import EmbeddedBroker  # noqa: E402

DEFAULT_VARIANTS = ["on=", "off=FAUST_WEB_ENABLED=false"]


def parse_variant(spec: str) -> tuple[str, dict[str, str]]:
    name, _, env = spec.partition("=")
    pairs = [item.split("=", 1) for item in env.split(",") if item]
    return name, {key: value for key, value in pairs}


def joined(log: Path) -> bool:
    """Whether the worker logged its assignment (it holds its partitions)."""
    return "assigned bench-orders" in log.read_text(errors="replace")


def idle_cpu(
    worker: Path, broker: EmbeddedBroker, env: dict[str, str], seconds: float, work: Path
) -> tuple[float, dict[str, float]]:
    """CPU seconds per second of the worker once joined, in total and by thread name."""
    argv = [sys.executable, str(worker), "worker", "--broker", broker.url, "--loglevel", "info"]
    argv += ["--datadir", str(work / "data")]
    log_path = work / "worker.log"
    log_path.write_bytes(b"")
    log = log_path.open("ab")
    child = subprocess.Popen(argv, env={**os.environ, **WORKER_ENV, **env}, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not joined(log_path):
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError(f"the worker did not join (see {work / 'worker.log'})")
            time.sleep(0.5)
        time.sleep(3.0)  # the directory's first publication, the first commit
        cpu, threads = process_cpu_seconds(child.pid), threads_cpu_seconds(child.pid)
        time.sleep(seconds)
        cpu_after, threads_after = process_cpu_seconds(child.pid), threads_cpu_seconds(child.pid)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(30)
        log.close()
    by_thread = {
        name: (spent - threads.get(name, 0.0)) / seconds for name, spent in threads_after.items()
    }
    return (cpu_after - cpu) / seconds, by_thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=ENV,ENV")
    args = parser.parse_args(argv)
    variants = [parse_variant(spec) for spec in args.variant or DEFAULT_VARIANTS]
    with tempfile.TemporaryDirectory(prefix="faustc-idle-") as tmp:
        work = Path(tmp)
        worker = build_app(BENCH / "apps" / "stateless_json.py", work / "build")
        results: dict[str, list[float]] = {name: [] for name, _ in variants}
        threads: dict[str, dict[str, list[float]]] = {name: {} for name, _ in variants}
        with EmbeddedBroker(log_file=work / "broker.log") as broker:
            create_topics(broker.bootstrap, ["bench-orders"], {})
            for round_ in range(args.rounds):
                for name, env in variants:
                    spent, by_thread = idle_cpu(worker, broker, env, args.seconds, work)
                    results[name].append(spent)
                    for thread, share in by_thread.items():
                        threads[name].setdefault(thread, []).append(share)
                    share = f"{100 * spent:6.2f}% of a core"
                    print(f"round {round_ + 1} {name:12s} {share}", flush=True)
        print(f"\nmedian CPU while idle (% of a core), {args.rounds} rounds of {args.seconds:g} s")
        for name, spent in results.items():
            parts = ", ".join(
                f"{thread} {100 * statistics.median(shares):.2f}"
                for thread, shares in sorted(threads[name].items())
                if statistics.median(shares) >= 0.0005
            )
            print(f"{name:12s} {100 * statistics.median(spent):6.2f}   ({parts})")


if __name__ == "__main__":
    main()
