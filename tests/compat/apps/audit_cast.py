"""An audit trail fed by ``cast``: the order agent casts every order, keyed by account, to
an agent that has no topic but declares its value type.

Constructs: ``@app.agent(value_type=Order)``; ``Agent.cast(value, key=...)``; a table
written by an agent with no topic; a Record with an ``int`` field.
"""
import faust


class Order(faust.Record):
    id: str
    account: str
    amount: int


app = faust.App('audit-cast', broker='kafka://localhost:9092', topic_partitions=2)

orders_topic = app.topic('orders', value_type=Order)
audited_amounts = app.Table('audited_amounts', default=int)


@app.agent(orders_topic)
async def accept(orders):
    async for order in orders:
        await audit.cast(order, key=order.account)


@app.agent(value_type=Order)
async def audit(orders):
    async for order in orders:
        audited_amounts[order.account] += order.amount


if __name__ == '__main__':
    app.main()
