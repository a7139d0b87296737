"""The benchmark's input data, its Avro schemas, and the results each scenario must reach.

Every scenario reads the same orders: ``N`` small records, keyed by ``account_id``,
spread over 4 partitions by Kafka's default (murmur2) partitioner, with event timestamps 1 ms
apart. JSON input is ~100 bytes a record, Avro ~32. Example::

    orders = make_orders(1000)
    orders[0]      # Order(order_id='o0000000', account_id='a0137', product_id='p072', ...)
    json_value(orders[0])  # b'{"order_id":"o0000000","account_id":"a0137",...}'

The expected results (``expected_*``) are what verification compares the outputs with.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from typing import Any, NamedTuple

import fastavro
import orjson

PARTITIONS = 4
ACCOUNTS = 1000
PRODUCTS = 100
#: stateless scenarios keep orders of at least this amount (about half of them)
BIG = 500.0
#: the windowed scenario counts per account in tumbling windows of this size
WINDOW_MS = 10_000
#: event time of the first order; each next one is 1 ms later
BASE_TIMESTAMP_MS = 1_700_000_000_000

JSON_INPUT = "bench-orders"
AVRO_INPUT = "bench-orders-avro"

ORDER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "bench",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "account_id", "type": "string"},
        {"name": "product_id", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "currency", "type": "string"},
    ],
}
BIG_ORDER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "BigOrder",
    "namespace": "bench",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "account_id", "type": "string"},
        {"name": "amount_cents", "type": "long"},
    ],
}


class Order(NamedTuple):
    order_id: str
    account_id: str
    product_id: str
    amount: float
    currency: str
    timestamp_ms: int


def make_orders(count: int, seed: int = 6) -> list[Order]:
    """``count`` orders, the same for the same ``count`` and ``seed``."""
    rng = random.Random(seed)
    return [
        Order(
            f"o{i:07d}",
            f"a{rng.randrange(ACCOUNTS):04d}",
            f"p{rng.randrange(PRODUCTS):03d}",
            round(rng.uniform(0.0, 1000.0), 2),
            "EUR" if rng.random() < 0.5 else "USD",
            BASE_TIMESTAMP_MS + i,
        )
        for i in range(count)
    ]


def json_value(order: Order) -> bytes:
    """An order as an external producer writes it (no Faust ``__faust`` metadata)."""
    return orjson.dumps(
        {
            "order_id": order.order_id,
            "account_id": order.account_id,
            "product_id": order.product_id,
            "amount": order.amount,
            "currency": order.currency,
        }
    )


_PARSED_ORDER = fastavro.parse_schema(ORDER_SCHEMA)


def avro_value(order: Order) -> bytes:
    """An order as a schemaless Avro datum (the ``avro`` codec of issue 3)."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _PARSED_ORDER, order._asdict())
    return buffer.getvalue()


# -- what each scenario must produce -------------------------------------------------------


def expected_big_orders(orders: list[Order]) -> Counter[tuple[str, str, int]]:
    """stateless_*: (key, order_id, amount_cents) of every output record."""
    return Counter(
        (o.account_id, o.order_id, round(o.amount * 100)) for o in orders if o.amount >= BIG
    )


def expected_totals(orders: list[Order]) -> dict[str, tuple[int, float]]:
    """stateful_table, exactly_once: (count, sum of amounts) per account, summed in order."""
    totals: dict[str, list[Any]] = {}
    for o in orders:
        entry = totals.setdefault(o.account_id, [0, 0.0])
        entry[0] += 1
        entry[1] += o.amount
    return {key: (count, total) for key, (count, total) in totals.items()}


def expected_window_counts(orders: list[Order]) -> Counter[tuple[str, int]]:
    """windowed: count per (account, window start in ms)."""
    return Counter((o.account_id, o.timestamp_ms - o.timestamp_ms % WINDOW_MS) for o in orders)


def expected_product_counts(orders: list[Order]) -> Counter[str]:
    """group_by: count per product."""
    return Counter(o.product_id for o in orders)
