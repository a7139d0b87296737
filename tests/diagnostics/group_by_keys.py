import faust

app = faust.App("diag-group-by")


class Order(faust.Record):
    account_id: str
    amount: float


class Payment(faust.Record):
    payer: str


orders = app.topic("orders", value_type=Order)


@app.agent(orders)
async def by_account(stream: faust.Stream[Order]) -> None:
    async for order in stream.group_by(Order.acount_id):  # E: FC109 Order has no field 'acount_id'
        print(order)


@app.agent(orders)
async def by_payer(stream: faust.Stream[Order]) -> None:
    async for order in stream.group_by(Payment.payer):  # E: FC109 the stream carries Order values
        print(order)


@app.agent(orders)
async def by_function(stream: faust.Stream[Order]) -> None:
    async for order in stream.group_by(lambda o: o.amount > 10):  # E: FC112 needs name=
        print(order)
