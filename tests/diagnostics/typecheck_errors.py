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


class Payment(faust.Record):
    payer: str


counts = app.Table("counts", default=int)


@app.agent(orders)  # E: FC200 Argument 1 has incompatible type
async def wrong_stream(stream: faust.Stream[Payment]) -> None:
    async for payment in stream:
        counts[payment.payer] += "one"  # E: FC200 Unsupported operand types for + ("int" and "str")
