import faust

app = faust.App("diag-stages")
words = app.topic("words", value_type=str)
NAME = "other"
NAME = "rebound"  # bound twice: no constant


@app.agent(words, concurrency=4)
async def parallel(stream: faust.Stream[str]) -> None:
    async for word in stream.group_by(lambda w: w[:1], name="first"):  # E: FC113 concurrency=4
        print(word)


@app.agent(words)
async def forward(stream: faust.Stream[str]) -> None:
    async for word in stream.through(NAME):  # E: FC104 a topic in a stream chain
        print(word)


@app.agent(words)
async def answers(stream: faust.Stream[str]) -> None:
    async for word in stream:
        reply = yield word  # E: FC114 must be a statement of its own
        print(reply)
