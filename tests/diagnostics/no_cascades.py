import faust

app = faust.App("diag-no-cascades")
words = app.topic("words", value_type=str)
counts = app.Table("counts", default=int)


def bump(word: str) -> None:
    counts[word] += 1  # called by a rejected agent: not "which no agent calls"


# one error for the rejected agent, none for the table writes in it or in what it calls
@app.agent(words)
async def two_loops(stream: faust.Stream[str]) -> None:  # E: FC103 exactly one top-level
    async for word in stream:
        counts[word] += 1
    async for word in stream:
        bump(word)


@app.agent(wordz)  # E: FC101 agent 'misnamed' consumes 'wordz'
async def misnamed(stream: faust.Stream[str]) -> None:
    async for word in stream:
        counts[word] -= 1
