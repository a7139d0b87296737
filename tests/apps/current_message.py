"""Agents that read the message in hand, and one whose loop marks it only where it is read
(tests/test_current_message.py).

``tally`` reaches its tables only through the access the compiler writes, so its loop marks
the message current only before a table's own methods run (no direct access in a batch) and
before the error policy. ``spawn`` calls ``faust.current_event()`` in its body and spawns a
task per message that reads it, and writes a table, later: each must see the message it was
spawned at. ``regroup`` has two stages (a ``filter`` and a ``group_by``) and reaches its
table only through the direct access: both stages mark the message only at their fallbacks.
Nothing in the loops awaits.
"""

import asyncio

import faust

app = faust.App("current-message", broker="kafka://localhost:9092")


class Move(faust.Record, serializer="json"):
    account: str
    amount: int


moves_topic = app.topic("moves", key_type=str, value_type=Move, partitions=4)
spawns_topic = app.topic("spawns", key_type=str, value_type=Move, partitions=4)
regroups_topic = app.topic("regroups", key_type=str, value_type=Move, partitions=4)
seen_topic = app.topic("seen", value_type=str, partitions=1)

totals_table = app.Table("totals", default=int, partitions=4)
pairs_table = app.Table("pairs", value_type=list, partitions=4)
spawned_table = app.Table("spawned", partitions=4)
regrouped_table = app.Table("regrouped", default=int, partitions=4)

#: the spawned tasks, kept until they finish
TASKS: set[asyncio.Task[None]] = set()


def where(event: faust.EventT | None) -> str:
    if event is None:
        return "none"
    return f"{event.message.partition}:{event.message.offset}"


@app.agent(moves_topic)
async def tally(moves: faust.Stream[Move]) -> None:
    async for move in moves:
        totals_table[move.account] += move.amount
        count, total = pairs_table.get(move.account) or (0, 0)
        pairs_table[move.account] = [count + 1, total + abs(move.amount)]


@app.agent(regroups_topic)
async def regroup(moves: faust.Stream[Move]) -> None:
    async for move in moves.filter(lambda m: m.amount != 0).group_by(
        Move.account, name="acc", partitions=4
    ):
        regrouped_table[move.account] += move.amount


async def remember(move: Move) -> None:
    await asyncio.sleep(0)  # the agent has gone on to later messages by now
    spawned_table[move.account] = where(faust.current_event())
    seen_topic.send_soon(value=f"task {move.account} {where(faust.current_event())}")


@app.agent(spawns_topic)
async def spawn(moves: faust.Stream[Move]) -> None:
    async for move in moves:
        seen_topic.send_soon(value=f"body {move.account} {where(faust.current_event())}")
        task = asyncio.ensure_future(remember(move))
        TASKS.add(task)
        task.add_done_callback(TASKS.discard)
