"""Where the compiled stateless_json loop spends more than the raw loop, step by step.

The fused loop ``faustc build`` generates for ``bench/apps/stateless_json.py`` is copied
here, then its steps are replaced one at a time by what the raw loop does
(``bench/raw_loops.py``), cumulatively; each line's drop is that step's cost. All run over
the same in-memory batches and produce into a producer whose broker does not exist (as
``bench/loop_bench.py``), median CPU of 7 rounds, µs per input message::

    python bench/gap.py

The copy must follow the generated code: compare ``generated`` here with
``python bench/loop_bench.py --scenarios stateless_json`` (the real generated function).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import msgspec  # noqa: E402
import raw_loops  # noqa: E402
from loop_bench import NOWHERE, build_worker, make_batches  # noqa: E402

from faust.running import Running  # noqa: E402
from faust.transport.kafka import KafkaProducer  # noqa: E402

MESSAGES = 200_000
#: the cumulative replacements, in order
STEPS = [
    ("generated", set()),
    ("+ key.encode() instead of the key dumper", {"key"}),
    ("+ msgspec encode without the out-encoder", {"key", "encoder"}),
    ("+ no check of the (unused) keys", {"key", "encoder", "no_check"}),
    ("+ raw msgspec decode, no view (= raw)", {"key", "encoder", "no_check", "decode"}),
]


def fused(worker: Any, producer: KafkaProducer, replaced: set[str]) -> Callable[[Any], None]:
    """The generated loop of stateless_json, with the ``replaced`` steps done the raw way."""
    topic, out = worker.orders_topic, worker.big_orders_topic
    check_keys, load_key = topic.keys_check(), topic.key_loader()
    load_value, value_failed = topic.value_decoder(fields_only=True)
    if "decode" in replaced:
        load_value = msgspec.json.Decoder(raw_loops.OrderStruct).decode
    send = worker.app.sender()
    produce, produce_retry = worker.app.direct_sender()
    encode_key, dump_value = out.key_dumper(), out.value_dumper()
    if "key" in replaced:
        encode_key = str.encode
    encode_out = worker.encode_big_order_out
    if "encoder" in replaced:
        encode = msgspec.json.Encoder().encode

        def encode_out(value: Any, _dump: Any) -> Any:
            return encode(value)

    big_order_out = worker._BigOrderOut
    no_check = "no_check" in replaced

    def run(batches: Any) -> None:
        for batch in batches:
            keys_valid = True if no_check else check_keys(batch)
            for message in batch:
                if not keys_valid:
                    load_key(message.key())
                try:
                    value = load_value(message.value())
                except Exception as exc:
                    raise value_failed(exc, message.value()) from exc
                if not (value.amount >= 500.0):
                    continue
                value = big_order_out(value.order_id, value.account_id, round(value.amount * 100))
                big = value
                send_key = encode_key(big.account_id)
                send_value = encode_out(big, dump_value)
                try:
                    produce("out", send_value, send_key)
                except produce_retry:
                    send("out", send_key, send_value)
            producer.poll()

    return run


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        worker = build_worker("stateless_json", Path(out))
        producer = KafkaProducer(NOWHERE)
        worker.app.running = Running(producer)  # what the worker lends the app
        batches = make_batches("stateless_json", MESSAGES)
        runs = {name: fused(worker, producer, replaced) for name, replaced in STEPS}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for round_ in range(8):
            for name, run in runs.items():
                started = time.process_time()
                run(batches)
                if round_:  # the first round warms up
                    times[name].append(time.process_time() - started)
                producer._producer.purge()
                producer.poll()
                producer._failures.clear()
    print(f"stateless_json, {MESSAGES:,} messages, µs per input message (median of 7)")
    for name, spent in times.items():
        print(f"  {name:42s} {statistics.median(spent) / MESSAGES * 1e6:.3f}")


if __name__ == "__main__":
    main()
