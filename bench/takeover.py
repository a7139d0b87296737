"""The ``takeover`` scenario: how long a partition is unavailable when its worker dies.

Two workers built from ``bench/apps/takeover.py`` (a RocksDB table of counts per account,
one output per order) share the four partitions of ``bench-takeover-orders``, each with a
data directory of its own. The table's changelog is preloaded with N records (the running
count of 1,000 accounts, on the partition of each account, as the worker writes it), so a
worker that takes a partition over has its table to restore. Then, on a fresh broker:

1. both workers start; once the group has settled (each holds two partitions, restored),
   a load process produces orders at ``RATE``/s and a sink notes when each output
   arrives, and from which partition;
2. after ``STEADY`` seconds the harness stops one worker: ``kill`` (SIGKILL: a crash; the
   group notices when its session times out) or ``term`` (SIGTERM: a deploy; it commits
   and leaves the group at once);
3. the **takeover time** is from that signal to the sink's first output of a partition
   the stopped worker held (so processed by the survivor).

Every output the sink saw is checked (``check_outputs``): no order of any partition is
missing up to the last one seen, each count is the account's preloaded count plus the
order's place among its account's orders (so the survivor restored the moved table from
the changelog before counting on), and only a crash (``kill``) may repeat an order, and
then only with a count at least the exact one (at-least-once: the survivor replays what
the dead worker processed after its last commit).

The survivor's log splits it: until its ``assigned`` line (failure detection and the
group's rebalance), until its ``restored: processing resumes`` line for a moved partition
(restoring the table from the changelog: its data directory has nothing of it), and the
rest (fetching from the committed offset, processing, producing, the sink's fetch).
Workers get the harness's group settings (``session.timeout.ms`` 6 s, heartbeats every
second); ``--takeover-session-timeout`` changes both. Example::

    python bench/run.py --scenarios takeover --messages 1000000 --repetitions 3
"""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Producer
from data import ACCOUNTS, PARTITIONS, make_orders

from faust.transport.partitioner import partition_for_key

BENCH = Path(__file__).resolve().parent
APP = "takeover.py"
INPUT, OUTPUT = "bench-takeover-orders", "bench-takeover-seen"
CHANGELOG = "bench-takeover-counts-changelog"
RATE = 1_000
STEADY = 3.0
MODES = ("kill", "term")
_LOG_TIME = re.compile(rb"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] .*$", re.MULTILINE)


def preload_changelog(bootstrap: str, records: int) -> None:
    """``records`` changelog records: account ``i % ACCOUNTS``'s running count, on the
    partition its orders go to (murmur2 of the account's bytes), keys and values JSON."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1_000_000})
    accounts = [f"a{i:04d}" for i in range(ACCOUNTS)]
    partitions = [partition_for_key(a.encode(), PARTITIONS) for a in accounts]
    keys = [orjson.dumps(a) for a in accounts]
    for i in range(records):
        account = i % ACCOUNTS
        while True:
            try:
                producer.produce(
                    CHANGELOG,
                    str(i // ACCOUNTS + 1).encode(),
                    keys[account],
                    partition=partitions[account],
                )
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120):
        raise RuntimeError("preloading the takeover changelog failed")


def preloaded_counts(records: int) -> dict[str, int]:
    """Each account's count in the preloaded changelog (``preload_changelog``)."""
    return {
        f"a{a:04d}": records // ACCOUNTS + (1 if a < records % ACCOUNTS else 0)
        for a in range(ACCOUNTS)
    }


def check_outputs(
    arrivals: list[list[Any]], *, records: int, moved: set[int], survivor: int, crash: bool
) -> None:
    """Check the sink's outputs (``[partition, wall ns, worker pid, order index, account,
    count]``); raise ``RuntimeError`` naming the first wrong one. Rules: the outputs of
    each account cover its orders with no gap up to the last one seen; an
    order's count is its account's preloaded count plus its place among the account's
    orders (1 for the first); only the survivor's outputs of a moved partition after a
    crash may repeat an order, with a count at least that."""
    if not arrivals:
        raise RuntimeError("takeover: the sink saw no output")
    orders = make_orders(max(arrival[3] for arrival in arrivals) + 1)
    preloaded = preloaded_counts(records)
    place: dict[int, int] = {}
    positions: dict[str, list[int]] = {}
    for index, order in enumerate(orders):
        mine = positions.setdefault(order.account_id, [])
        mine.append(index)
        place[index] = len(mine)
    seen: dict[str, set[int]] = {}
    for _partition, _ns, pid, index, account, count in arrivals:
        if orders[index].account_id != account:
            raise RuntimeError(f"takeover: order {index} came out for account {account}")
        partition = partition_for_key(account.encode(), PARTITIONS)
        exact = preloaded[account] + place[index]
        replay = crash and pid == survivor and partition in moved
        repeated = index in seen.setdefault(account, set())
        if repeated and not replay:
            raise RuntimeError(f"takeover: order {index} came out twice (worker {pid})")
        if count != exact and not (replay and count > exact):
            raise RuntimeError(
                f"takeover: order {index} of {account} (partition {partition}, worker {pid}) "
                f"counted {count}, expected {exact}"
                + (" (the moved table was not restored?)" if count < exact else "")
            )
        seen[account].add(index)
    for account, indices in seen.items():
        wanted = [i for i in positions[account] if i <= max(indices)]
        if len(indices) != len(wanted):
            missing = sorted(set(wanted) - indices)
            raise RuntimeError(f"takeover: orders {missing[:5]} of {account} never came out")


def sink(config: dict[str, Any]) -> None:
    """Read ``topic`` from its start until SIGTERM; write ``[partition, wall ns, worker
    pid, order index, account, count]`` of every output to ``out``."""
    from confluent_kafka import Consumer, TopicPartition

    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    consumer = Consumer(
        {
            "bootstrap.servers": config["bootstrap"],
            "group.id": "bench-takeover-sink",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 1,
        }
    )
    consumer.list_topics(OUTPUT, timeout=10)
    consumer.assign([TopicPartition(OUTPUT, p, 0) for p in range(PARTITIONS)])
    arrivals: list[tuple[int, int, int, int, str, int]] = []
    clock = time.time_ns
    while not stopping:
        first = consumer.poll(0.05)
        if first is None:
            continue
        batch = [first, *consumer.consume(10_000, 0)]
        now = clock()
        for message in batch:
            if message.error() is None:
                seen = orjson.loads(message.value())
                index = int(seen["order_id"][1:])
                arrivals.append(
                    (
                        message.partition(),
                        now,
                        seen["worker"],
                        index,
                        seen["account_id"],
                        seen["count"],
                    )
                )
    consumer.close()
    Path(config["out"]).write_bytes(orjson.dumps(arrivals))


def _log_lines(path: Path) -> list[tuple[float, bytes]]:
    """(wall time, line) of every timestamped line of a worker's log."""
    lines = []
    for line in path.read_bytes().splitlines():
        match = _LOG_TIME.match(line)
        if match:
            stamp = datetime.datetime.strptime(match[1].decode(), "%Y-%m-%d %H:%M:%S,%f")
            lines.append((stamp.timestamp(), line))
    return lines


def _partitions_in(line: bytes) -> set[int]:
    found = {int(p) for p in re.findall(rb"%s\[(\d+)\]" % INPUT.encode(), line)}
    listed = re.search(rb"partition\(s\) \[([\d, ]+)\]", line)
    if listed:
        found |= {int(p) for p in listed[1].split(b",")}
    return found


def _wait(predicate: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _held(path: Path) -> set[int]:
    """The partitions the worker logging to ``path`` holds and has restored."""
    held: set[int] = set()
    restored: set[int] = set()
    for _, line in _log_lines(path) if path.exists() else []:
        if b"faust.worker: assigned " in line:
            held = _partitions_in(line)
            restored = set()
        elif b"restored: processing resumes" in line:
            restored |= _partitions_in(line)
    return held & restored


def _caught_up(path: Path) -> set[int]:
    """The changelog partitions the worker logging to ``path`` follows as a standby and
    has caught up with (``standby: <changelog>[p] caught up``), since its last release."""
    followed: set[int] = set()
    for _, line in _log_lines(path) if path.exists() else []:
        match = re.search(rb"standby: %s\[(\d+)\] caught up" % CHANGELOG.encode(), line)
        if match:
            followed.add(int(match[1]))
        elif b"standby: released " in line:
            followed -= {int(p) for p in re.findall(rb"%s\[(\d+)\]" % CHANGELOG.encode(), line)}
    return followed


def _replayed(path: Path, since: float) -> int:
    """Changelog records the worker's recoveries replayed after ``since`` (its log)."""
    total = 0
    for stamp, line in _log_lines(path):
        match = re.search(rb"recovered \d+ table partitions: (\d+) changelog record", line)
        if match and stamp >= since - 0.001:
            total += int(match[1])
    return total


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(
    mode: str,
    *,
    standbys: int,
    worker: Path,
    work: Path,
    tag: str,
    records: int,
    worker_env: dict[str, str],
    broker_factory: Callable[[Path], Any],
    create_topics: Callable[[str, list[str]], None],
) -> dict[str, Any]:
    python = sys.executable
    with broker_factory(work / f"{tag}-broker.log") as broker:
        create_topics(broker.bootstrap, [INPUT, OUTPUT, CHANGELOG])
        preload_changelog(broker.bootstrap, records)
        processes: list[subprocess.Popen[bytes]] = []
        logs = [work / f"{tag}-worker{n}.log" for n in (0, 1)]
        sink_out = work / f"{tag}-sink.json"
        helper_log = (work / f"{tag}-helpers.log").open("wb")
        try:
            for n, log_path in enumerate(logs):
                argv = [python, str(worker), "worker", "--broker", broker.url]
                argv += ["--loglevel", "info", "--datadir", str(work / f"{tag}-data{n}")]
                with log_path.open("wb") as handle:
                    processes.append(
                        subprocess.Popen(
                            argv,
                            stdout=handle,
                            stderr=subprocess.STDOUT,
                            env=dict(
                                os.environ,
                                **worker_env,
                                FAUST_TABLE_STANDBY_REPLICAS=str(standbys),
                            ),
                        )
                    )
            _wait(
                lambda: all(len(_held(path)) == 2 for path in logs),
                "both workers to hold two restored partitions",
                120 + records / 20_000,
            )
            sink_config = {"bootstrap": broker.bootstrap, "out": str(sink_out)}
            sink_process = subprocess.Popen(
                [python, __file__, "sink", json.dumps(sink_config)],
                stdout=helper_log,
                stderr=subprocess.STDOUT,
            )
            processes.append(sink_process)
            load_config = {
                "bootstrap": broker.bootstrap,
                "topic": INPUT,
                "count": RATE * 600,
                "rate": RATE,
                "out": str(work / f"{tag}-sent.bin"),
            }
            load_process = subprocess.Popen(
                [python, str(BENCH / "latency.py"), "load", json.dumps(load_config)],
                stdout=helper_log,
                stderr=subprocess.STDOUT,
            )
            processes.append(load_process)
            _wait(lambda: Path(load_config["out"] + ".started").exists(), "the load", 60)
            moved = _held(logs[0])
            if standbys:
                _wait(
                    lambda: moved <= _caught_up(logs[1]),
                    "the survivor's standbys to catch up",
                    120 + records / 20_000,
                )
            cpu_before = _cpu_seconds(processes[1].pid)
            time.sleep(STEADY)
            steady_cpu = _cpu_seconds(processes[1].pid) - cpu_before
            victim, survivor = processes[0], processes[1]
            killed_at = time.time()
            victim.send_signal(signal.SIGKILL if mode == "kill" else signal.SIGTERM)
            victim.wait(60)
            gone_at = time.time()
            _wait(
                lambda: moved <= _held(logs[1]),
                "the survivor to restore the moved partitions",
                120 + records / 20_000,
            )
            time.sleep(2.0)  # the first outputs of the moved partitions reach the sink
            sink_process.send_signal(signal.SIGTERM)
            sink_process.wait(30)
            survivor.send_signal(signal.SIGTERM)
            if survivor.wait(60) != 0:
                raise RuntimeError(f"the surviving worker exited with {survivor.returncode}")
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            helper_log.close()
    arrivals = orjson.loads(sink_out.read_bytes())
    check_outputs(
        arrivals, records=records, moved=moved, survivor=survivor.pid, crash=mode == "kill"
    )
    after = [ns / 1e9 for p, ns, pid, *_ in arrivals if p in moved and pid == survivor.pid]
    if not after:
        raise RuntimeError(f"takeover {tag}: the survivor sent nothing of {sorted(moved)}")
    first = min(after)
    assigned = restored = None
    for stamp, line in _log_lines(logs[1]):
        if stamp < killed_at - 0.001:
            continue
        if assigned is None and b"worker: assigned " in line and moved <= _partitions_in(line):
            assigned = stamp
        elif (
            assigned is not None
            and restored is None
            and b"restored: processing resumes" in line
            and moved & _partitions_in(line)
        ):
            restored = stamp
    if assigned is None or restored is None:
        raise RuntimeError(f"takeover {tag}: the survivor's log has no takeover; see {logs[1]}")
    return {
        "moved_partitions": sorted(moved),
        "takeover_s": round(first - killed_at, 3),
        "victim_exit_s": round(gone_at - killed_at, 3),
        "until_assigned_s": round(assigned - killed_at, 3),
        "restore_s": round(restored - assigned, 3),
        "until_first_output_s": round(first - restored, 3),
        "replayed_records": _replayed(logs[1], assigned),
        # the survivor's CPU per second of steady load (its standbys' cost included)
        "steady_cpu_share": round(steady_cpu / STEADY, 3),
        "outputs": len(arrivals),
        "survivor_outputs_of_moved": len(after),
        "verified": True,
    }


def run_takeover(
    *,
    worker: Path,
    work: Path,
    repetitions: int,
    records: int,
    worker_env: dict[str, str],
    broker_factory: Callable[[Path], Any],
    create_topics: Callable[[str, list[str]], None],
    log: Callable[[str], None],
    standby_replicas: tuple[int, ...] = (0,),
) -> dict[str, list[dict[str, Any]]]:
    """Each stop mode with each ``table_standby_replicas`` value, ``repetitions`` times;
    results keyed ``kill``, ``term`` (no standbys) and ``kill, standby 1`` ..."""
    variants = [(mode, n) for n in standby_replicas for mode in MODES]
    figures: dict[str, list[dict[str, Any]]] = {_key(m, n): [] for m, n in variants}
    for repetition in range(repetitions):
        order = variants if repetition % 2 == 0 else list(reversed(variants))
        for mode, standbys in order:
            key = _key(mode, standbys)
            result = run_once(
                mode,
                standbys=standbys,
                worker=worker,
                work=work,
                tag=f"takeover-{mode}-s{standbys}-r{repetition}",
                records=records,
                worker_env=worker_env,
                broker_factory=broker_factory,
                create_topics=create_topics,
            )
            figures[key].append(result)
            log(
                f"  takeover {key:16s} {result['takeover_s']:6.2f}s: until assigned "
                f"{result['until_assigned_s']:.2f}s, restore {result['restore_s']:.2f}s "
                f"({result['replayed_records']} records replayed), then first output "
                f"{result['until_first_output_s']:.2f}s (partitions {result['moved_partitions']})"
            )
    return figures


def _key(mode: str, standbys: int) -> str:
    return mode if not standbys else f"{mode}, standby {standbys}"


def summarize(figures: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    keys = (
        "takeover_s",
        "until_assigned_s",
        "restore_s",
        "until_first_output_s",
        "replayed_records",
        "steady_cpu_share",
    )
    return {
        mode: {key: round(statistics.median(r[key] for r in runs), 3) for key in keys}
        for mode, runs in figures.items()
        if runs
    }


def print_table(summary: dict[str, Any], records: int, session_timeout: float) -> None:
    print(
        f"takeover ({records:,} changelog records, session timeout {session_timeout:g} s): "
        "medians, seconds"
    )
    for mode, entry in summary.items():
        print(
            f"  {mode:16s} total {entry['takeover_s']:6.2f}  until assigned "
            f"{entry['until_assigned_s']:6.2f}  restore {entry['restore_s']:5.2f} "
            f"({entry['replayed_records']:.0f} records)  "
            f"then first output {entry['until_first_output_s']:5.2f}  "
            f"steady CPU {entry['steady_cpu_share']:.1%}"
        )


if __name__ == "__main__":
    {"sink": sink}[sys.argv[1]](json.loads(sys.argv[2]))
