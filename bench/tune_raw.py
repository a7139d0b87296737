"""Measure the alternatives for the raw loops (bench/README.md, "How fast is the raw loop").

Each line of :data:`VARIANTS` is one ``bench/run.py --raw-only`` invocation with options
for ``bench/raw_loops.py``; the table shows the medians. Usage::

    python bench/tune_raw.py                      # 1,000,000 orders, 3 repetitions each
    python bench/tune_raw.py --messages 300000 --only stateless_json
    python bench/tune_raw.py --labels 'orjson,8 MB'   # variants whose label contains either
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent

#: (scenario, label, raw_loops options)
VARIANTS: list[tuple[str, str, dict[str, Any]]] = [
    ("stateless_json", "default: msgspec, drain (consume(4096, 0) + poll), produce()", {}),
    ("stateless_json", "orjson dicts instead of msgspec structs", {"codec": "orjson"}),
    ("stateless_json", "consume(4096, 0.1): waits for a full batch", {"consume": "batch"}),
    ("stateless_json", "batch 500", {"batch": 500}),
    ("stateless_json", "batch 1000", {"batch": 1000}),
    ("stateless_json", "batch 10000", {"batch": 10000}),
    ("stateless_json", "produce_batch() per batch", {"produce": "produce_batch"}),
    ("stateless_json", "linger.ms 20", {"producer": {"linger.ms": 20}}),
    (
        "stateless_json",
        "linger.ms 100, batch.size 1 MB",
        {"producer": {"linger.ms": 100, "batch.size": 1000000}},
    ),
    ("stateless_json", "no idempotence", {"producer": {"enable.idempotence": False}}),
    (
        "stateless_json",
        "max.partition.fetch.bytes 8 MB",
        {"consumer": {"max.partition.fetch.bytes": 8_000_000}},
    ),
    ("stateless_json", "gc tuned: gc.freeze(), threshold 50,000", {"gc": "tuned"}),
    ("stateless_avro", "default: batch decoded as one array, encoder by hand", {}),
    ("stateless_avro", "fastavro schemaless_writer", {"avro_encode": "fastavro"}),
    ("stateless_avro", "fastavro schemaless_reader per message", {"avro_decode": "message"}),
    ("stateful_table", "default: changelog once per key per commit", {}),
    ("stateful_table", "changelog per update (as Faust does)", {"changelog": "update"}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--only", help="comma-separated scenarios")
    parser.add_argument("--labels", help="comma-separated parts of variant labels")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    rows = []
    for scenario, label, options in VARIANTS:
        if only and scenario not in only:
            continue
        if args.labels and not any(part in label for part in args.labels.split(",")):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "results.json"
            argv = [
                sys.executable,
                str(BENCH / "run.py"),
                "--raw-only",
                "--no-build-times",
                "--scenarios",
                scenario,
                "--messages",
                str(args.messages),
                "--repetitions",
                str(args.repetitions),
                "--out",
                str(out),
            ]
            for key, value in options.items():
                argv += ["--raw-option", f"{key}={json.dumps(value)}"]
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                rows.append((scenario, label, "failed", result.stderr.strip()[-200:]))
                continue
            entry = json.loads(out.read_text())["scenarios"][scenario]
            rows.append(
                (scenario, label, f"{entry['raw_msgs_s']:,}", f"{entry['raw_cpu_us_per_msg']:.2f}")
            )
        scenario, label, rate, cpu = rows[-1]
        print(f"{scenario:15s} {label:55s} {rate:>10s} msgs/s {cpu:>6s} us/msg", flush=True)


if __name__ == "__main__":
    main()
