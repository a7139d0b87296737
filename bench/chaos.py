"""A ``kill -9`` campaign against built workers: is anything lost or counted twice?

Each run starts its own embedded broker, builds tests/apps/counting.py (two RocksDB tables
counting payments per account, 4 partitions), preloads the payments, and runs one worker
that is killed with SIGKILL at random moments (a fixed seed) and restarted, alternating
its own data directory and a fresh empty one; after the last kill the worker finishes the
input and stops with SIGTERM. Its tables are then compared with what the input says:
a count below the truth is a lost message, above it a message counted twice. Usage::

    python bench/chaos.py                                # 10 runs of each guarantee
    python bench/chaos.py --runs 1 --messages 4000 --kills 1 --seed 7   # the suite's run
    python bench/chaos.py --churn 300 --messages 60000  # rebalance churn, 5 minutes

``--churn SECONDS`` runs the rebalance churn instead (tests/test_churn_on_kafka.py, longer):
three workers, each on its own data directory, stopped (SIGTERM or ``kill -9``) and started
every 2-5 s while the payments are produced over the churn; then worker ``a`` alone
finishes the input. It prints the SIGTERM exit times, whether the group got stuck
(Tansu), and the lost and twice-counted messages.

It prints one line per run and a table like issue 15's; exit status 1 if anything was
lost, counted twice, or a run did not finish.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "tests" / "apps" / "counting.py"
sys.path.insert(0, str(REPO / "runtime"))
sys.path.insert(0, str(REPO / "compiler"))

from faust.tables.stores import RocksDBStore, TableCodec  # noqa: E402
from faustc.broker import EmbeddedBroker  # noqa: E402

PARTITIONS = 4
ACCOUNTS = 50
WORKER_ENV = {
    "FAUST_BROKER_SESSION_TIMEOUT": "6",
    "FAUST_BROKER_HEARTBEAT_INTERVAL": "1",
    "FAUST_BROKER_COMMIT_INTERVAL": "0.5",
    "FAUST_WEB_ENABLED": "false",
    "FAUST_STORE": "rocksdb://",
    "FAUST_STREAM_BUFFER_MAXSIZE": "1000",
}


def build(work: Path, tag: str) -> Path:
    text = APP.read_text().replace('"counting"', f'"chaos-{tag}"')
    text = text.replace('"payments"', f'"payments-{tag}"').replace(
        '"receipts"', f'"receipts-{tag}"'
    )
    source = work / f"chaos_{tag}.py"
    source.write_text(text)
    subprocess.run(
        [sys.executable, "-m", "faustc", "build", str(source), "-o", str(work)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    return work / f"{source.stem}_worker.py"


def preload(bootstrap: str, topic: str, messages: int) -> dict[int, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result()
    ends: dict[int, int] = {}

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)

    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 5}
    )
    for i in range(messages):
        payment = {"id": i, "account": f"acct-{i % ACCOUNTS}", "amount": i % 97}
        while True:
            try:
                producer.produce(
                    topic, json.dumps(payment).encode(), payment["account"].encode(),
                    on_delivery=delivered,
                )  # fmt: skip
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(30) == 0
    return ends


def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed(
            [TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=10
        )
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in offsets if tp.offset >= 0}


def read_counts(datadir: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    root = datadir / "tables" / "counts"
    for path in sorted(root.iterdir()) if root.exists() else []:
        store = RocksDBStore(path, TableCodec(str, int, "json", "json"), int(path.name))
        for key, value in store.items():
            counts[key] += value
        store.close()
    return counts


def one_run(
    run: int, guarantee: str, messages: int, kills: int, rng: random.Random
) -> dict[str, Any]:
    tag = f"{guarantee.replace('_', '')}{run}"
    with tempfile.TemporaryDirectory(prefix="faustc-chaos-") as tmp:
        work = Path(tmp)
        with EmbeddedBroker(log_file=work / "tansu.log") as broker:
            worker_py = build(work, tag)
            topic = f"payments-{tag}"
            ends = preload(broker.bootstrap, topic, messages)
            env = {**os.environ, **WORKER_ENV, "FAUST_PROCESSING_GUARANTEE": guarantee}
            datadirs = [work / "data-0"]
            logs: list[Path] = []

            def start() -> subprocess.Popen[bytes]:
                log = work / f"worker-{len(logs)}.log"
                logs.append(log)
                argv = [sys.executable, str(worker_py), "worker", "--broker", broker.url]
                argv += ["--datadir", str(datadirs[-1]), "--loglevel", "info"]
                return subprocess.Popen(
                    argv, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env,
                )  # fmt: skip

            worker = start()
            at_kills = []
            for kill in range(kills):
                time.sleep(rng.uniform(3.5, 8.0))  # a group join takes ~3 s here
                worker.kill()
                done = sum(committed(broker.bootstrap, f"chaos-{tag}", topic).values())
                at_kills.append(f"{done}/{messages}")
                worker.wait()
                if kill % 2 == 0:  # alternate a fresh, empty data directory and the same
                    datadirs.append(work / f"data-{len(datadirs)}")
                worker = start()
            deadline = time.monotonic() + 180
            finished = False
            while time.monotonic() < deadline:
                # the last worker restored its tables (a fresh directory: from the
                # changelogs) and the group committed the whole input
                restored = "recovered " in logs[-1].read_text(errors="replace")
                if restored and committed(broker.bootstrap, f"chaos-{tag}", topic) == ends:
                    finished = True
                    break
                time.sleep(0.5)
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            truth = Counter(f"acct-{i % ACCOUNTS}" for i in range(messages))
            counts = read_counts(datadirs[-1])
            lost = sum(max(0, truth[key] - counts[key]) for key in truth)
            twice = sum(max(0, counts[key] - truth[key]) for key in counts)
            tracebacks = sum("Traceback" in log.read_text(errors="replace") for log in logs)
            return {
                "guarantee": guarantee,
                "kills": kills,
                "messages": messages,
                "lost": lost,
                "twice": twice,
                "finished": finished,
                "tracebacks": tracebacks,
                "committed_at_kills": at_kills,
            }


CHURN_SLOTS = ("a", "b", "c")


def churn_step(
    rng: random.Random,
    running: dict[str, Any],
    start: Callable[[str], None],
    sigterm: Callable[[str], None],
) -> bool:
    """The churn's next event, drawn from ``rng``, carried out: a worker slot picked at
    random is started when it is not running, else stopped with ``sigterm(slot)`` or
    killed (``kill -9``: popped from ``running``), even odds. True when it killed one.
    Shared by ``--churn`` and tests/test_churn_on_kafka.py, so a seed means the same churn
    in both."""
    slot = rng.choice(CHURN_SLOTS)
    if slot not in running:
        start(slot)
    elif rng.random() < 0.5:
        sigterm(slot)
    else:
        running.pop(slot).kill()
        return True
    return False


def churn_run(seconds: float, messages: int, rng: random.Random) -> dict[str, Any]:
    """Three workers churning for ``seconds`` while ``messages`` payments are produced."""
    tag = "churn"
    with tempfile.TemporaryDirectory(prefix="faustc-churn-") as tmp:
        work = Path(tmp)
        with EmbeddedBroker(log_file=work / "tansu.log") as broker:
            worker_py = build(work, tag)
            topic = f"payments-{tag}"
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
                future.result()
            env = {**os.environ, **WORKER_ENV, "FAUST_PROCESSING_GUARANTEE": "at_least_once"}
            running: dict[str, subprocess.Popen[bytes]] = {}
            logs: dict[str, Path] = {}
            exits: list[float] = []
            kills = 0

            def start(slot: str) -> None:
                log = work / f"worker-{slot}-{len(logs)}.log"
                logs[slot] = log
                argv = [sys.executable, str(worker_py), "worker", "--broker", broker.url]
                argv += ["--datadir", str(work / f"data-{slot}"), "--loglevel", "info"]
                running[slot] = subprocess.Popen(
                    argv, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env,
                )  # fmt: skip

            def sigterm(slot: str) -> None:
                worker = running.pop(slot)
                began = time.monotonic()
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
                exits.append(time.monotonic() - began)

            ends: dict[int, int] = {}
            chunks = max(1, int(seconds))  # a chunk a second
            chunk = messages // chunks
            for slot in CHURN_SLOTS:
                start(slot)
            began = time.monotonic()
            produced = 0
            next_event = began + rng.uniform(2.0, 5.0)
            while time.monotonic() - began < seconds or produced < messages:
                if produced < messages:
                    count = min(chunk, messages - produced) or messages - produced
                    for partition, end in preload_range(
                        broker.bootstrap, topic, produced, produced + count
                    ).items():
                        ends[partition] = max(ends.get(partition, 0), end)
                    produced += count
                if time.monotonic() >= next_event and time.monotonic() - began < seconds:
                    next_event = time.monotonic() + rng.uniform(2.0, 5.0)
                    kills += churn_step(rng, running, start, sigterm)
                time.sleep(1.0)
            for slot in "bc":
                if slot in running:
                    sigterm(slot)
            if "a" not in running:
                start("a")
            deadline = time.monotonic() + 180
            finished = False
            while time.monotonic() < deadline:
                text = logs["a"].read_text(errors="replace")
                assigned = [line for line in text.splitlines() if "faust.worker: assigned" in line]
                holds_all = bool(assigned) and all(
                    f"{topic}[{p}]" in assigned[-1] for p in range(PARTITIONS)
                )
                holds_all = holds_all and "recovered " in text.rsplit(assigned[-1], 1)[-1]
                if holds_all and committed(broker.bootstrap, f"chaos-{tag}", topic) == ends:
                    finished = True
                    break
                time.sleep(0.5)
            stuck = any(
                "has not completed a rebalance" in log.read_text(errors="replace")
                for log in work.glob("worker-*.log")
            )
            sigterm("a")
            for worker in running.values():
                worker.kill()
                worker.wait()
            truth = Counter(f"acct-{i % ACCOUNTS}" for i in range(messages))
            counts = read_counts(work / "data-a")
            return {
                "starts": len(list(work.glob("worker-*.log"))),
                "kills": kills,
                "exits": exits,
                "finished": finished,
                "stuck": stuck,
                "lost": sum(max(0, truth[key] - counts[key]) for key in truth),
                "twice": sum(max(0, counts[key] - truth[key]) for key in counts),
                "tracebacks": sum(
                    "Traceback" in log.read_text(errors="replace")
                    for log in work.glob("worker-*.log")
                ),
            }


def preload_range(bootstrap: str, topic: str, first: int, last: int) -> dict[int, int]:
    """Produce payments ``first`` to ``last - 1``; the partitions' ends they reached."""
    ends: dict[int, int] = {}

    def delivered(error: Any, message: Any) -> None:
        assert error is None, error
        ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)

    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    for i in range(first, last):
        payment = {"id": i, "account": f"acct-{i % ACCOUNTS}", "amount": i % 97}
        producer.produce(
            topic, json.dumps(payment).encode(), payment["account"].encode(),
            on_delivery=delivered,
        )  # fmt: skip
        producer.poll(0)
    assert producer.flush(30) == 0
    return ends


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per guarantee")
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--kills", type=int, default=3, help="kills per run")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--guarantee", choices=["at_least_once", "exactly_once", "both"], default="both"
    )
    parser.add_argument(
        "--churn", type=float, metavar="SECONDS", help="run the rebalance churn instead"
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    if args.churn:
        churn = churn_run(args.churn, args.messages, rng)
        exits = ", ".join(f"{t:.1f}" for t in churn["exits"])
        print(
            f"churn {args.churn:.0f}s: {churn['starts']} starts, {churn['kills']} kill -9, "
            f"SIGTERM exits in s: {exits or 'none'} (max "
            f"{max(churn['exits'], default=0.0):.1f}); {args.messages} messages: "
            + (
                f"{churn['lost']} lost, {churn['twice']} counted twice, finished, "
                if churn["finished"]
                else "NOT FINISHED (counts not judged), "
            )
            + f"{'group stuck (reported)' if churn['stuck'] else 'group never stuck'}, "
            f"{churn['tracebacks']} traceback(s)",
            flush=True,
        )
        slow = [t for t in churn["exits"] if t >= 30]
        return 1 if churn["lost"] or churn["twice"] or slow or not churn["finished"] else 0
    guarantees = ["at_least_once", "exactly_once"] if args.guarantee == "both" else [args.guarantee]
    results = []
    for guarantee in guarantees:
        for run in range(args.runs):
            result = one_run(run, guarantee, args.messages, args.kills, rng)
            results.append(result)
            print(
                f"{guarantee} run {run + 1}: {result['kills']} kill(s), {result['messages']} "
                f"messages: {result['lost']} lost, {result['twice']} counted twice, "
                f"{'finished' if result['finished'] else 'NOT FINISHED'}, "
                f"{result['tracebacks']} traceback(s) (committed when killed: "
                f"{', '.join(result['committed_at_kills'])})",
                flush=True,
            )
    print()
    print(f"{'guarantee':<15}{'runs':>6}{'kills':>7}{'messages':>10}{'lost':>7}{'twice':>7}"
          f"{'unfinished':>12}")  # fmt: skip
    bad = False
    for guarantee in guarantees:
        rows = [r for r in results if r["guarantee"] == guarantee]
        lost = sum(r["lost"] for r in rows)
        twice = sum(r["twice"] for r in rows)
        unfinished = sum(not r["finished"] for r in rows)
        bad = bad or bool(lost or twice or unfinished)
        print(
            f"{guarantee:<15}{len(rows):>6}{sum(r['kills'] for r in rows):>7}"
            f"{sum(r['messages'] for r in rows):>10}{lost:>7}{twice:>7}{unfinished:>12}"
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
