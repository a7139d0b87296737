import faust

app = faust.App("diag-unsupported")
orders = app.topic("orders", value_type=str)
other = app.topic("other", value_type=str)


@app.agent(orders)
async def process(stream: faust.Stream[str]) -> None:
    async for order in stream.filter(bool).tumble(10):  # E: FC102 unsupported stream operation 'tumble'
        print(order)


@app.agent(other)
def not_async(stream: faust.Stream[str]) -> None:  # E: FC107 must be an `async def`
    pass
