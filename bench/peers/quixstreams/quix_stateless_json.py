"""stateless_json for Quix Streams, as its users write it: keep the orders of 500 or more,
send each (amount in cents) keyed by account. Run by bench/run.py --peers::

    BENCH_BROKER=127.0.0.1:9092 python quix_stateless_json.py
"""

import os

from quixstreams import Application

app = Application(
    broker_address=os.environ["BENCH_BROKER"],
    consumer_group="bench-peer-quix-stateless-json",
    auto_offset_reset="earliest",
    commit_interval=float(os.environ.get("BENCH_COMMIT_INTERVAL", "2.8")),
    consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000},
)
orders = app.topic("bench-orders", key_deserializer="str", value_deserializer="json")
big_orders = app.topic(
    "bench-peer-quix-stateless-json-out", key_serializer="str", value_serializer="json"
)

sdf = app.dataframe(orders)
sdf = sdf.filter(lambda order: order["amount"] >= 500.0)
sdf = sdf.apply(
    lambda order: {
        "order_id": order["order_id"],
        "account_id": order["account_id"],
        "amount_cents": round(order["amount"] * 100),
    }
)
sdf.to_topic(big_orders)

if __name__ == "__main__":
    app.run()
