import faust
from faust import Topic as imported_topic  # a name bound here, not a topic of this module

app = faust.App("diag-uncompiled")
orders = app.topic("orders", value_type=str)
receipts = app.topic("receipts", value_type=str)


@app.agent(orders)
async def fused(stream: faust.Stream[str]) -> None:
    async for order in stream:
        await receipts.send(value=order)


def make_mirror(source: faust.Topic[str, str]) -> None:
    @app.agent(source)  # W: FC115 agent 'mirror' is registered inside make_mirror()
    async def mirror(stream: faust.Stream[str]) -> None:
        async for value in stream:
            print(value)


async def echo(stream: faust.Stream[str]) -> None:
    async for value in stream:
        print(value)


echoing = app.agent(receipts, name="echo")(echo)  # W: FC115 agent 'echo' is registered by a call


@app.agent(imported_topic)  # W: FC115 agent 'elsewhere' consumes 'imported_topic', which is not a topic
async def elsewhere(stream: faust.Stream[str]) -> None:
    async for value in stream:
        print(value)


@app.agent(receipts, use_reply_headers=False)  # W: FC115 agent 'enveloped' has use_reply_headers=False
async def enveloped(stream: faust.Stream[str]) -> None:
    async for value in stream:
        print(value)


@app.agent(receipts, isolated_partitions=True)  # W: FC115 agent 'isolated' has isolated_partitions=True
async def isolated(stream: faust.Stream[str]) -> None:
    async for value in stream:
        print(value)
