"""Every table access a fused loop makes directly (tests/test_table_access.py).

Moves of an amount on an account arrive on four partitions. The agent reads and writes
its tables in each form the compiler turns into access to the message's store
(``table[k]``, ``table.get(k)``, ``table.get(k, default)``, ``table[k] = v``,
``table[k] <op>= v``, a tumbling window's ``w[k] += v``), and in some it leaves to the
table (``del``, ``in``), and reports what it read. Nothing in the loop awaits.
"""

import faust

app = faust.App("table-access", broker="kafka://localhost:9092")


class Move(faust.Record, serializer="json"):
    account: str
    amount: int


moves_topic = app.topic("moves", key_type=str, value_type=Move, partitions=4)
report_topic = app.topic("report", value_type=str, partitions=1)

totals_table = app.Table("totals", default=int, partitions=4)
last_table = app.Table("last", partitions=4)
pairs_table = app.Table("pairs", value_type=list, partitions=4)
windowed_table = app.Table("per-window", default=int, partitions=4).tumbling(10.0)


@app.agent(moves_topic)
async def account(moves: faust.Stream[Move]) -> None:
    async for move in moves:
        totals_table[move.account] += move.amount
        seen = last_table.get(move.account)
        previous = last_table.get(move.account, -1)
        last_table[move.account] = move.amount
        count, total = pairs_table.get(move.account) or (0, 0)
        pairs_table[move.account] = [count + 1, total + totals_table[move.account]]
        windowed_table[move.account] += 1
        windowed_table["all"] -= move.amount
        try:
            missing = last_table["nobody"]
        except KeyError:
            missing = None
        if move.amount == 0 and move.account in last_table:
            del last_table[move.account]
        report_topic.send_soon(
            value=f"{move.account}:{seen}:{previous}:{totals_table[move.account]}:{missing}"
        )
