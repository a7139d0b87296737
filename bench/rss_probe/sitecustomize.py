"""An RSS probe for the benchmark's processes: where a worker's or a raw loop's memory is at
its peak. Python imports ``sitecustomize`` at start-up from ``PYTHONPATH``, so::

    PYTHONPATH=bench/rss_probe RSS_PROBE_DIR=/tmp/rss \
        python bench/run.py --scenarios windowed --repetitions 1 --no-build-times
    python bench/rss_summary.py /tmp/rss

Only the measured processes are probed (a built worker's ``worker`` command, and
``bench/raw_loops.py``). A thread reads the process's RSS every 50 ms; at every new peak
(by 256 KiB or more) it writes ``<side>-<pid>.smaps`` (``/proc/self/smaps``),
``<side>-<pid>.malloc`` (glibc's ``malloc_info``: every malloc arena's size and free
space) and ``<side>-<pid>.modules`` (the modules imported by then). The thread and its
reads cost ~0.3 MB and a little CPU: compare probed runs with probed runs.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time


def _side() -> str | None:
    if any(arg.endswith("raw_loops.py") for arg in sys.argv):
        return "raw"
    if "worker" in sys.argv[1:2]:
        return "worker"
    return None


def _probe(out: str) -> None:
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    peak = 0
    while True:
        time.sleep(0.05)
        with open("/proc/self/statm") as statm:
            rss_kb = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        if rss_kb < peak + 256:
            continue
        peak = rss_kb
        with open("/proc/self/smaps") as smaps:
            text = smaps.read()
        with open(f"{out}.smaps", "w") as file:
            file.write(f"# rss_kb {rss_kb}\n{text}")
        stream = libc.fopen(f"{out}.malloc".encode(), b"w")
        if stream:
            libc.malloc_info(0, stream)
            libc.fclose(stream)
        with open(f"{out}.modules", "w") as file:
            file.write("\n".join(sorted(sys.modules)))


_directory = os.environ.get("RSS_PROBE_DIR")
_name = _side()
if _directory and _name:
    os.makedirs(_directory, exist_ok=True)
    _out = os.path.join(_directory, f"{_name}-{os.getpid()}")
    threading.Thread(target=_probe, args=(_out,), daemon=True, name="rss-probe").start()
