import faust

app = faust.App("diag-tables")
words = app.topic("words", value_type=str)
counts = app.Table("counts", default=int)

counts["start"] = 1  # E: FC111 written at module level


def bump(word: str) -> None:
    counts[word] += 1


def reset() -> None:
    counts.clear()  # E: FC111 in reset(), which no agent, task or timer calls


@app.agent(words)
async def count(stream: faust.Stream[str]) -> None:
    async for word in stream:
        bump(word)
