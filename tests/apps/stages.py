"""A test app with stage boundaries, terminals, sinks and tasks (tests/test_differential.py)."""

from collections.abc import AsyncIterator

import faust
from faust import current_event

app = faust.App("stages", broker="kafka://localhost:9092", topic_partitions=2)


class Payment(faust.Record):
    account: str
    amount: int


payments = app.topic("payments", key_type=str, value_type=Payment, partitions=3)
by_account_out = app.topic("by-account-out", value_type=str, partitions=1)
batches_out = app.topic("batches-out", value_type=str, partitions=1)
audit = app.topic("audit", value_type=str, partitions=1)
echoed = app.topic("echoed", value_type=Payment, partitions=1)
mirror = app.topic("payments-mirror", key_type=str, value_type=Payment, partitions=2)
acked_out = app.topic("acked-out", value_type=str, partitions=1)
task_out = app.topic("task-out", value_type=str, partitions=1)
parallel_out = app.topic("parallel-out", value_type=str, partitions=1)
totals = app.Table("account-totals", default=int)


def tag(payment: Payment) -> Payment:
    return payment.derive(account=payment.account.lower())


async def audit_sink(value: str) -> None:
    await audit.send(value=f"sink:{value}")


@app.agent(payments)
async def per_account(stream: faust.Stream[Payment]) -> None:
    stream.add_processor(tag)
    async for index, payment in (
        stream.filter(lambda p: p.amount != 13)
        .group_by(Payment.account, partitions=2)
        .map(lambda p: p.derive(amount=p.amount * 2))
        .enumerate(start=1)
    ):
        totals[payment.account] += payment.amount
        event = current_event()
        assert event is not None
        await by_account_out.send(value=f"{index}:{event.key}:{payment.amount}")


@app.agent(payments, sink=[audit, audit_sink])
async def batched(stream: faust.Stream[Payment]) -> AsyncIterator[str]:
    async for chunk in (
        stream.echo(echoed).group_by(lambda p: p.amount % 3, name="mod3").take(4, within=3600)
    ):
        total = sum(p.amount for p in chunk)
        await batches_out.send(value=f"{len(chunk)}:{total}")
        yield f"{len(chunk)}"


@app.agent(payments)
async def mirrored(stream: faust.Stream[Payment]) -> None:
    async for key, payment in stream.rate_limit(1_000_000).through(mirror).items():
        if payment.amount < 0:
            continue
        await acked_out.send(value=f"mirror:{key}:{payment.amount}")


@app.agent(mirror)
async def acking(stream: faust.Stream[Payment]) -> None:
    async for event in stream.noack().events():
        await acked_out.send(value=f"acked:{event.key}:{event.value.amount}")
        event.ack()


@app.task
async def small_payments() -> None:
    async for payment in app.stream(payments).filter(lambda p: p.amount < 5):
        await task_out.send(value=f"small:{payment.account}:{payment.amount}")


@app.agent(payments, concurrency=3)
async def in_parallel(stream: faust.Stream[Payment]) -> None:
    seen = 0  # each instance counts its own
    async for payment in stream:
        seen += 1
        await parallel_out.send(value=f"{payment.account}:{payment.amount}:{seen}")
