"""The quick-start walkthrough: word count, compiled, on a real (embedded) Kafka broker.

Run by ``make demo``. Each step prints the command a user would type for it:

1. start the embedded broker (Tansu) on a free loopback port;
2. ``faustc build examples/wordcount.py``;
3. produce sample words to the ``words`` topic;
4. run the built worker until it has processed and committed every word, and until its
   timer has printed the counts; then stop it with SIGTERM (a clean, committed shutdown);
5. print the counts and check them against the words produced.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from faustc.broker import EmbeddedBroker

REPO = Path(__file__).resolve().parents[2]
#: librdkafka logs every disconnect; the demo's own clients keep quiet when the broker stops
QUIET = logging.getLogger("demo.librdkafka")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
TEXT = """
stream processing with faust keeps the model simple agents read streams tables keep state
faustc compiles the agents into one loop per batch and the tables keep their changelogs
kafka keeps the log the worker keeps up with kafka and every word is counted once
"""
REPEAT = 200


def step(command: str) -> None:
    print(f"\n$ {command}", flush=True)


def main() -> int:
    words = TEXT.split() * REPEAT
    expected = Counter(words)
    with EmbeddedBroker() as broker:
        step(f"faustc broker --port {broker.port}    # embedded Kafka-compatible broker")
        print(f"broker ready: {broker.url}")

        step("faustc build examples/wordcount.py")
        subprocess.run(
            [sys.executable, "-m", "faustc", "build", "examples/wordcount.py"],
            cwd=REPO,
            check=True,
        )

        step(
            f"# produce {len(words)} words to the 'words' topic "
            "(JSON strings keyed by the word, 4 partitions)"
        )
        admin = AdminClient({"bootstrap.servers": broker.bootstrap, "logger": QUIET})
        for future in admin.create_topics([NewTopic("words", 4, 1)]).values():
            future.result()
        ends: dict[int, int] = {}

        def delivered(error: object, message: object) -> None:
            assert error is None, error
            partition = message.partition()  # type: ignore[attr-defined]
            ends[partition] = max(ends.get(partition, 0), message.offset() + 1)  # type: ignore[attr-defined]

        producer = Producer(
            {
                "bootstrap.servers": broker.bootstrap,
                "logger": QUIET,
                "partitioner": "murmur2_random",
            }
        )
        for word in words:
            # keyed by the word: each word is counted in one partition of the table
            producer.produce(
                "words", json.dumps(word).encode(), word.encode(), on_delivery=delivered
            )
        producer.flush(30)

        step(f"python build/wordcount_worker.py worker --broker {broker.url}")
        environment = dict(os.environ, FAUST_BROKER_SESSION_TIMEOUT="6")
        worker = subprocess.Popen(
            [sys.executable, "build/wordcount_worker.py", "worker", "--broker", broker.url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            env=environment,
            text=True,
        )
        committed = _wait_for_commit(broker.bootstrap, ends, timeout=60)
        print(f"worker committed every offset: {committed}", flush=True)
        time.sleep(5.5)  # the example's timer prints the counts every five seconds
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
        print(f"worker exited with status {worker.returncode}")

    blocks = re.findall(r"((?:^\w+: \d+\n)+)", output, re.MULTILINE)
    last = dict(re.findall(r"^(\w+): (\d+)$", blocks[-1], re.MULTILINE)) if blocks else {}
    counts = {word: int(count) for word, count in last.items()}
    step("# the worker's last printed counts (most frequent first)")
    for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:12]:
        print(f"{word:>12}: {count}")
    print(f"{'...':>12}  ({len(counts)} distinct words)")
    ok = counts == expected and worker.returncode == 0
    print(f"\ncounts match the {len(words)} words produced: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def _wait_for_commit(bootstrap: str, ends: dict[int, int], timeout: float) -> dict[int, int]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "word-count-app", "logger": QUIET}
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            offsets = consumer.committed([TopicPartition("words", p) for p in ends], timeout=10)
            committed = {tp.partition: tp.offset for tp in offsets}
            if committed == ends:
                return committed
            time.sleep(0.5)
    finally:
        consumer.close()
    raise SystemExit(f"the worker did not commit every offset within {timeout:g}s")


if __name__ == "__main__":
    sys.exit(main())
