import faust

app = faust.App("diag-unknown-topic")
orders = app.topic("orders", value_type=str)


@app.agent(ordrs)  # E: FC101 'ordrs', which is not a topic
async def process(stream: faust.Stream[str]) -> None:
    async for order in stream:
        print(order)
