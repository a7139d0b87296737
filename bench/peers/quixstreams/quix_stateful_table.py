"""stateful_table for Quix Streams, as its users write it: count and sum of amounts per
account (the message key) in its RocksDB state, with the changelog Quix keeps for it. Run
by bench/run.py --peers::

    BENCH_BROKER=127.0.0.1:9092 BENCH_STATE_DIR=/tmp/state python quix_stateful_table.py
"""

import os

from quixstreams import Application

app = Application(
    broker_address=os.environ["BENCH_BROKER"],
    consumer_group="bench-peer-quix-stateful-table",
    auto_offset_reset="earliest",
    commit_interval=float(os.environ.get("BENCH_COMMIT_INTERVAL", "2.8")),
    consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000},
    state_dir=os.environ.get("BENCH_STATE_DIR", "state"),
)
orders = app.topic("bench-orders", key_deserializer="str", value_deserializer="json")


def tally(order, state):
    count, total = state.get("totals", (0, 0.0))
    state.set("totals", [count + 1, total + order["amount"]])


sdf = app.dataframe(orders)
sdf.update(tally, stateful=True)

if __name__ == "__main__":
    app.run()
