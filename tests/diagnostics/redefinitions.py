"""What Faust refuses or would silently drop, defined twice, and declarations Faust cannot
run: each a diagnostic at the second definition (issue 15: these were internal errors)."""

import faust

app = faust.App("diag-redefinitions")
words = app.topic("words", value_type=str)
words = app.topic("other-words", value_type=str)  # E: FC118 'words' is assigned a second topic
nameless = app.topic()  # E: FC119 app.topic() names no topic
by_pattern = app.topic(pattern="^words-")  # E: FC119 pattern= is not compiled
counts = app.Table("counts", default=int)
totals = app.Table("counts", default=int)  # E: FC118 a second table named 'counts'


class Order(faust.Record):
    amount: int


class Order(faust.Record):  # E: FC118 Record 'Order' is defined a second time
    total: int


@app.agent(words)
async def count(stream: faust.Stream[str]) -> None:
    async for word in stream:
        counts[word] += 1


@app.agent(words)
async def count(stream: faust.Stream[str]) -> None:  # E: FC118 is defined a second time
    async for word in stream:
        counts[word] += 2


@app.agent(words, concurrency=-1)  # E: FC119 concurrency=-1: Faust would start no instance
async def never(stream: faust.Stream[str]) -> None:
    async for word in stream:
        print(word)


@app.agent(words, concurrency=0)  # Faust's `concurrency or 1`: one instance
async def once(stream: faust.Stream[str]) -> None:
    async for word in stream:
        print(word)


@app.agent(words, name="first-printer")
async def printer(stream: faust.Stream[str]) -> None:
    async for word in stream:
        print(word)


@app.agent(words, name="second-printer")
async def printer(stream: faust.Stream[str]) -> None:  # E: FC118 function 'printer' is defined
    async for word in stream:
        print(word, 2)
