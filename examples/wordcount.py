"""Word count: the Faust basic example, typed.

Counts the words arriving on the ``words`` topic in a table and prints the counts every
five seconds. Produce the words keyed by the word: a table is partitioned like the stream
that writes it, so each word is then counted in one place. Run it compiled::

    faustc run examples/wordcount.py --broker kafka://127.0.0.1:9092

or as written, on the uncompiled runtime: ``python examples/wordcount.py worker``.
"""

import faust

app = faust.App("word-count-app", broker="kafka://localhost:9092")

words_topic = app.topic("words", value_type=str)
word_counts_table = app.Table("word-counts", default=int)


@app.agent(words_topic)
async def count_words(words: faust.Stream[str]) -> None:
    async for word in words:
        word_counts_table[word] += 1


@app.timer(interval=5.0)
async def print_counts() -> None:
    for word, count in sorted(word_counts_table.items()):
        print(f"{word}: {count}", flush=True)


if __name__ == "__main__":
    app.main()
