"""Account balances in a table whose changelog topic the app names itself, and a table
with its own partition count, as apps migrated from other systems often need.

Constructs: ``app.Table(..., changelog_topic=app.topic(...))``; ``Table(partitions=)``;
``key_type``/``value_type`` on a table; ``Table.get``.
"""
import faust

app = faust.App('ledger', broker='kafka://localhost:9092', topic_partitions=2)


class Entry(faust.Record):
    account: str
    amount: int


entries_topic = app.topic('ledger-entries', key_type=str, value_type=Entry)
balances_changelog = app.topic('ledger-balances-history', partitions=2, compacting=True)
balances = app.Table(
    'balances', key_type=str, value_type=int, default=int,
    changelog_topic=balances_changelog,
)
entry_counts = app.Table('entry_counts', default=int, partitions=2)


@app.agent(entries_topic)
async def post(entries):
    async for entry in entries:
        balances[entry.account] = balances.get(entry.account, 0) + entry.amount
        entry_counts[entry.account] += 1


if __name__ == '__main__':
    app.main()
