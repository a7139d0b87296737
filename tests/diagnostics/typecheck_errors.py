import faust

app = faust.App("diag-types")


class Order(faust.Record):
    account_id: str
    amount: float


orders = app.topic("orders", key_type=str, value_type=Order)


@app.agent(orders)
async def process(stream: faust.Stream[Order]) -> None:
    async for order in stream.filter(lambda o: o.amont > 50):  # E: FC200 "Order" has no attribute "amont"
        print(order.account_id)


def make() -> Order:
    return Order(account_id="a", amount="x")  # E: FC200 incompatible type "str"; expected "float"
