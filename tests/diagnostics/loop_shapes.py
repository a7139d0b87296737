import faust

app = faust.App("diag-loops")
orders = app.topic("orders", value_type=str)
other = app.topic("other", value_type=str)


@app.agent(orders)
async def with_break(stream: faust.Stream[str]) -> None:
    async for order in stream:
        if order == "stop":
            break  # E: FC108 `break` out of agent 'with_break'
        for letter in order:
            if letter == "x":
                break


@app.agent(other)
async def no_loop(stream: faust.Stream[str]) -> None:  # E: FC103 must have exactly one top-level `async for
    print(stream)
