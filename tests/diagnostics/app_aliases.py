import faust

# one App under two names: both declare topics and agents (no FC100 at line 1)
app = faust_app = faust.App("diag-aliases")
orders = faust_app.topic("orders", value_type=str)
payments = app.topic("payments", value_type=str)


@faust_app.agent(orders)
async def process(stream: faust.Stream[str]) -> None:
    async for order in stream:
        print(order)


@app.agent(ordrs)  # E: FC101 agent 'misspelt' consumes 'ordrs', which is not a topic
async def misspelt(stream: faust.Stream[str]) -> None:
    async for order in stream:
        print(order)
