"""A counting app for the table, crash and scale-out tests (tests/test_tables_*.py).

Counts payments and sums their amounts per account in two tables, and sends a receipt
naming the payment and the worker's pid. Test hooks, from the environment:

- ``COUNTING_STALL_ID``/``COUNTING_STALL_FILE``: the first worker to meet that payment
  writes its pid to the file, prints ``stalled``, and blocks (mid-batch) while the file
  ``<file>.hold`` exists: tests kill it there, or let it go on as a zombie;
- a payment with a negative amount makes the agent raise (a poison message).
"""

import os
import time
from pathlib import Path

import faust

app = faust.App("counting", broker="kafka://localhost:9092")


class Payment(faust.Record):
    id: int
    account: str
    amount: int


payments_topic = app.topic("payments", key_type=str, value_type=Payment, partitions=4)
receipts_topic = app.topic("receipts", key_type=str, value_type=str, partitions=4)
counts_table = app.Table("counts", default=int)
totals_table = app.Table("totals", default=int)

STALL_ID = int(os.environ.get("COUNTING_STALL_ID", "-1"))
STALL_FILE = os.environ.get("COUNTING_STALL_FILE", "")


def stall() -> None:
    if STALL_FILE and not os.path.exists(STALL_FILE):
        Path(STALL_FILE).write_text(str(os.getpid()))
        print(f"stalled pid={os.getpid()}", flush=True)
        while os.path.exists(STALL_FILE + ".hold"):
            time.sleep(0.05)


def check(payment: Payment) -> None:
    if payment.amount < 0:
        raise ValueError(f"negative amount in payment {payment.id}")


@app.agent(payments_topic)
async def count_payments(payments: faust.Stream[Payment]) -> None:
    async for payment in payments:
        if payment.id == STALL_ID:
            stall()
        check(payment)
        counts_table[payment.account] += 1
        totals_table[payment.account] += payment.amount
        await receipts_topic.send(key=payment.account, value=f"{payment.id}:{os.getpid()}")


if __name__ == "__main__":
    app.main()
