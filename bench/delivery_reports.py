"""What a worker with tables pays per record it sends, on the embedded broker: its
producer's CPU per record (queued, delivered, its report served) with every success
reported into Python (one client: the producer before the split) against the producer
that sends on a client reporting failures only (``tracked_only``), in turn.

    python bench/delivery_reports.py --records 200000 --rounds 3

Each round queues ``--records`` records of ~97 bytes through ``direct()`` (as a compiled
``group_by`` does), keyed by 100 keys over 4 partitions, and flushes; the figure is the
process's CPU time (every thread: librdkafka's included) over the records, and the
calling thread's (where the reports are served: what a worker's event loop pays); the
broker's own CPU is not in it. The machine's other work moves the figures: compare the two sides
of one round.
"""

from __future__ import annotations

import argparse
import time

from faust.settings import Settings
from faust.transport.base import TopicSpec
from faust.transport.kafka import KafkaTransport
from faustc.broker import EmbeddedBroker

VALUE = b'{"order_id":"o-0000001","account_id":"a-0001","product_id":"p-001","amount":1.5}'


def one_side(
    transport: KafkaTransport, topic: str, records: int, tracked_only: bool
) -> tuple[float, float]:
    """CPU µs per record (the process's, the calling thread's): queued through
    ``direct()``, flushed, reports served."""
    producer = transport.producer(track_deliveries=True, tracked_only=tracked_only)
    produce, retry = producer.direct()
    keys = [f"p-{i:03d}".encode() for i in range(100)]
    producer.send(topic, b"warm-up", VALUE)  # the client connects before the clock starts
    producer.flush(30)
    started, started_here = time.process_time(), time.thread_time()
    for i in range(records):
        key = keys[i % 100]
        try:
            produce(topic, VALUE, key)
        except retry:
            producer.send(topic, key, VALUE)
        if i % 10_000 == 0:
            producer.poll()  # as the worker polls between batches
    producer.flush(60)
    spent, here = time.process_time() - started, time.thread_time() - started_here
    producer.close()
    return spent / records * 1e6, here / records * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        transport = KafkaTransport(Settings(id="delivery-reports", broker=broker.url))
        topic = "delivery-reports"
        transport.ensure_topics([TopicSpec(topic, 4)], 30)
        print(
            f"{args.records:,} records a side, CPU µs per record: the process's (all threads) "
            "/ the calling thread's (where reports are served)"
        )
        for round_ in range(1, args.rounds + 1):
            every = one_side(transport, topic, args.records, tracked_only=False)
            split = one_side(transport, topic, args.records, tracked_only=True)
            print(
                f"round {round_}: every success reported {every[0]:.3f} / {every[1]:.3f}, "
                f"failures only {split[0]:.3f} / {split[1]:.3f}"
            )
        transport.close()


if __name__ == "__main__":
    main()
