"""A test app for the shapes the compiler's hot path specialises (tests/test_hot_path.py).

Sends become direct produces (with partition, timestamp and headers, from send_soon, and to
a topic with two names, which raises per message); a chain that reads only fields decodes
msgspec structs instead of Records; str keys are decoded only to be checked.
"""

import faust

app = faust.App("hot-path", broker="kafka://localhost:9092")


class Payment(faust.Record):
    account: str
    amount: int
    note: str


class Summary(faust.Record):
    account: str
    cents: int


payments = app.topic("payments", key_type=str, value_type=Payment, partitions=2)
summaries = app.topic("summaries", key_type=str, value_type=Summary, partitions=2)
pinned = app.topic("pinned", key_type=str, value_type=str, partitions=3)
twins = app.topic("twin-a", "twin-b", value_type=str)


@app.agent(payments)
async def summarise(stream: faust.Stream[Payment]) -> None:
    # only fields of Payment are read up to the map: the loop decodes structs, not Payments
    async for summary in stream.filter(lambda p: p.amount > 0 and p.note != "skip").map(
        lambda p: Summary(p.account.upper(), p.amount * 100)
    ):
        await summaries.send(key=summary.account, value=summary)
        pinned.send_soon(
            key=summary.account,
            value=f"{summary.cents}",
            partition=summary.cents % 3,
            timestamp=1_700_000_000.5,
            headers=[("from", b"summarise")],
        )


@app.agent(payments)
async def echo_notes(stream: faust.Stream[Payment]) -> None:
    # the value escapes into the body: Payments are built
    async for payment in stream.filter(lambda p: p.note.startswith("twin")):
        await twins.send(value=payment.note)  # a topic with two names: raises per message
