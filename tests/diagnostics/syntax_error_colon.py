import faust

app = faust.App("diag-syntax-colon")
orders = app.topic("orders", value_type=str)


@app.agent(orders)
async def process(stream)  # E: FC001 expected ':'
    async for order in stream:
        print(order)
