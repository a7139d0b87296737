"""Record construction and field reads, against a plain class and a slotted class.

Not a test (no assertions): agents build Records per message in their map functions, so a
Record should cost what a plain class costs. Run::

    .venv/bin/python bench/records.py

Each case runs 15 rounds of 100,000 calls, interleaved, and the best round is reported
(the machine is shared and noisy; the best round is the least disturbed one).
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import faust


class Order(faust.Record, namespace="bench.Order"):
    order_id: str
    account_id: str
    amount: float = 0.0


class Plain:
    def __init__(self, order_id: str, account_id: str, amount: float = 0.0) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.amount = amount


class Slotted:
    __slots__ = ("account_id", "amount", "order_id")

    def __init__(self, order_id: str, account_id: str, amount: float = 0.0) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.amount = amount


def best_ns(
    cases: dict[str, Callable[[], Any]], rounds: int = 15, number: int = 100_000
) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, fn in cases.items():
            elapsed = timeit.timeit(fn, number=number) / number * 1e9
            best[name] = min(best.get(name, elapsed), elapsed)
    return best


def main() -> None:
    record, plain, slotted = (
        Order("o1", "a1", 12.5),
        Plain("o1", "a1", 12.5),
        Slotted("o1", "a1", 12.5),
    )
    cases: dict[str, Callable[[], Any]] = {
        "Record(positional)": lambda: Order("o1", "a1", 12.5),
        "plain class(positional)": lambda: Plain("o1", "a1", 12.5),
        "__slots__ class(positional)": lambda: Slotted("o1", "a1", 12.5),
        "Record(keywords)": lambda: Order(order_id="o1", account_id="a1", amount=12.5),
        "plain class(keywords)": lambda: Plain(order_id="o1", account_id="a1", amount=12.5),
        "Record: read 3 fields": lambda: (record.order_id, record.account_id, record.amount),
        "plain class: read 3 fields": lambda: (plain.order_id, plain.account_id, plain.amount),
        "__slots__ class: read 3 fields": lambda: (
            slotted.order_id,
            slotted.account_id,
            slotted.amount,
        ),
    }
    for name, ns in best_ns(cases).items():
        print(f"  {name:32s} {ns:7.0f} ns")


if __name__ == "__main__":
    main()
