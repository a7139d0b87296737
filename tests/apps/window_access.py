"""Windowed tables a fused loop updates directly (tests/test_window_access.py).

Moves of an amount on an account arrive on four partitions. The agent updates, in place,
a tumbling window that expires (Faust's most common form), a hopping window that never
expires and a hopping window that expires (with a step that does not divide its size).
The loop computes their windows and keys itself, and leaves to the wrapper any write to
a window that may have expired. Each closed window is recorded.
"""

from typing import Any

import faust

app = faust.App("window-access", broker="kafka://localhost:9092")


class Move(faust.Record, serializer="json"):
    account: str
    amount: int


#: (table, key, value) of every window closed, in order
closed: list[tuple[str, Any, Any]] = []


def close_expiring(key: Any, value: Any) -> None:
    closed.append(("expiring", key, value))


def close_hops(key: Any, value: Any) -> None:
    closed.append(("hops-expiring", key, value))


moves_topic = app.topic("moves", key_type=str, value_type=Move, partitions=4)
expiring_table = app.Table(
    "expiring", default=int, partitions=4, on_window_close=close_expiring
).tumbling(10.0, expires=20.0)
hops_table = app.Table("hops", default=int, partitions=4).hopping(10.0, 5.0)
hops_expiring_table = app.Table(
    "hops-expiring", default=int, partitions=4, on_window_close=close_hops
).hopping(10.0, 4.0, expires=15.0)


@app.agent(moves_topic)
async def account(moves: faust.Stream[Move]) -> None:
    async for move in moves:
        expiring_table[move.account] += 1
        hops_table[move.account] += move.amount
        hops_expiring_table[move.account] -= move.amount
