"""Measuring one process of the benchmark from the outside: progress, CPU time, peak memory.

The harness starts a worker (or a raw loop) and, every ``interval`` seconds, samples

- its progress: the sum of the offsets its consumer group has committed, read from the
  broker (so the worker needs no instrumentation and both sides are measured alike);
- its CPU time: user + system of all its threads, from ``/proc/<pid>/stat``;
- its peak resident memory: ``VmHWM`` from ``/proc/<pid>/status``.

Once the group has committed everything, the process is stopped with SIGTERM and reaped
with ``os.wait4`` (its total CPU time, startup and shutdown included, goes to the details).
Rates come from the *steady window*: from the first commit to the first commit that reaches
90% of the work, so start-up, the group join (about 3 s on Tansu) and the final commit
interval count in neither side's rate. Example::

    run = run_child(argv, log_dir, progress=lambda: committed_total(admin, group), target=n)
    run.rate(messages=n, stages=1)     # messages/s in the steady window
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka.admin import AdminClient

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: the steady window ends at the first commit that reaches this share of the work
WINDOW_END = 0.9
#: a shorter window measures the sampling, not the process (CPU time comes in 10 ms ticks)
MIN_WINDOW_SECONDS = 0.1
MIN_WINDOW_CPU_SECONDS = 0.05


class RunFailed(RuntimeError):
    """A measured process failed, timed out, or did not process everything."""


@dataclasses.dataclass
class Sample:
    time: float
    progress: int
    cpu: float
    broker_cpu: float


@dataclasses.dataclass
class ChildRun:
    """What one measured process did (see the module docstring)."""

    samples: list[Sample]
    started: float
    total_cpu: float
    peak_rss_mb: float
    exit_status: int
    log: Path
    #: CPU seconds by thread name when everything was committed (main thread: "python")
    threads_cpu: dict[str, float] = dataclasses.field(default_factory=dict)

    def window(self, target: int) -> tuple[Sample, Sample, bool]:
        """The first and last sample of the steady window; False when the run was too
        short to have one of MIN_WINDOW_SECONDS (then the whole run, start-up and group
        join included, is the window: figures of tiny runs only show that it works)."""
        first = next((s for s in self.samples if s.progress > 0), None)
        last = next((s for s in self.samples if s.progress >= WINDOW_END * target), None)
        if (
            first is None
            or last is None
            or last.progress <= first.progress
            or last.time - first.time < MIN_WINDOW_SECONDS
            or last.cpu - first.cpu < MIN_WINDOW_CPU_SECONDS
        ):
            start = Sample(self.started, 0, 0.0, self.samples[0].broker_cpu)
            return start, self.samples[-1], False
        return first, last, True

    def stats(self, messages: int, target: int) -> dict[str, Any]:
        """Messages/s and CPU µs per input message; ``target`` is the progress at the end
        (messages times stages: a group_by commits every message twice)."""
        first, last, steady = self.window(target)
        done = (last.progress - first.progress) * messages / target
        seconds = last.time - first.time
        return {
            "msgs_s": done / seconds if seconds > 0 else 0.0,
            "cpu_us_per_msg": (last.cpu - first.cpu) / done * 1e6 if done else 0.0,
            "broker_cpu_us_per_msg": (last.broker_cpu - first.broker_cpu) / done * 1e6
            if done
            else 0.0,
            "rss_mb": self.peak_rss_mb,
            "window_messages": round(done),
            "window_seconds": round(seconds, 3),
            "steady_window": steady,
            "total_cpu_s": round(self.total_cpu, 3),
            "committed": self.samples[-1].progress,
            "threads_cpu_s": self.threads_cpu,
            "samples": len(self.samples),
        }


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of every thread of ``pid`` so far (10 ms resolution)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    # fields[0] is the state (field 3 of stat(5)); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def threads_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds so far of each thread of ``pid``, summed by thread name (``rdk:broker1``
    and friends are librdkafka's; the interpreter's main thread is named after the program)."""
    by_name: dict[str, float] = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat", "rb") as stat:
                text = stat.read()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        name = text[text.index(b"(") + 1 : text.rindex(b")")].decode(errors="replace")
        name = name.rstrip("0123456789") if name.startswith("rdk:broker") else name
        fields = text.rsplit(b")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        by_name[name] = round(by_name.get(name, 0.0) + seconds, 3)
    return by_name


def peak_rss_mb(pid: int) -> float:
    """``VmHWM``: the peak resident set of ``pid`` since it started (its own image only)."""
    with open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def committed_total(admin: AdminClient, group: str) -> int:
    """The sum of every offset ``group`` has committed (0 before its first commit)."""
    request = [ConsumerGroupTopicPartitions(group)]
    try:
        result = admin.list_consumer_group_offsets(request, request_timeout=10)[group].result()
    except KafkaException:
        return 0
    return sum(tp.offset for tp in result.topic_partitions if tp.offset > 0)


def run_child(
    argv: Sequence[str],
    log_path: Path,
    *,
    progress: Callable[[], int],
    target: int,
    broker_pid: int,
    timeout: float,
    env: dict[str, str] | None = None,
    interval: float = 0.025,
    on_start: Callable[[int], None] | None = None,
) -> ChildRun:
    """Run ``argv`` until ``progress()`` reaches ``target``, then SIGTERM it; see above."""
    log = log_path.open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, **(env or {})),
    )
    pid = process.pid
    if on_start is not None:
        on_start(pid)
    samples: list[Sample] = []
    peak = 0.0
    try:
        deadline = started + timeout
        while True:
            done = progress()
            now = time.monotonic()
            reaped, status, _ = os.wait4(pid, os.WNOHANG)
            if reaped:
                process.returncode = os.waitstatus_to_exitcode(status)
                raise RunFailed(
                    f"{argv[1]} exited with status {process.returncode} before committing "
                    f"everything ({done} of {target}); see {log_path}"
                )
            samples.append(
                Sample(now, done, process_cpu_seconds(pid), process_cpu_seconds(broker_pid))
            )
            peak = max(peak, peak_rss_mb(pid))
            if done >= target:
                threads = threads_cpu_seconds(pid)
                break
            if now > deadline:
                raise RunFailed(
                    f"{argv[1]} committed {done} of {target} in {timeout:.0f}s; see {log_path}"
                )
            time.sleep(interval)
        process.send_signal(signal.SIGTERM)
        stop_deadline = time.monotonic() + 60
        while True:
            reaped, status, usage = os.wait4(pid, os.WNOHANG)
            if reaped:
                break
            if time.monotonic() > stop_deadline:
                raise RunFailed(f"{argv[1]} did not stop within 60 s of SIGTERM; see {log_path}")
            peak = max(peak, peak_rss_mb(pid))
            time.sleep(0.02)
        process.returncode = exit_status = os.waitstatus_to_exitcode(status)
        if exit_status != 0:
            raise RunFailed(f"{argv[1]} exited with status {exit_status}; see {log_path}")
        return ChildRun(
            samples=samples,
            started=started,
            total_cpu=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=peak,
            exit_status=exit_status,
            log=log_path,
            threads_cpu=threads,
        )
    finally:
        if process.returncode is None:
            process.kill()
            os.wait4(pid, 0)
            process.returncode = -9
        log.close()
