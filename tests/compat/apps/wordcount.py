"""Word count, as the Faust tutorials start: posts are split into words by one agent and
counted by a second agent that has no topic of its own (``@app.agent()``, fed with
``count_words.send``). The tally is printed with ``Table.as_ansitable``.

Constructs: ``@app.agent()`` fed by ``agent.send``; ``version=``; ``store='rocksdb://'``;
``help=`` on a table; ``Table.as_ansitable``; an untyped agent. Run it::

    faust -A wordcount worker -l info
"""
import faust

app = faust.App(
    'word-counts',
    broker='kafka://localhost:9092',
    store='rocksdb://',
    version=1,
    topic_partitions=4,
)

posts_topic = app.topic('posts', value_type=str)
word_counts = app.Table('word_counts', default=int, help='How often each word was seen.')


@app.agent(posts_topic)
async def split_posts(posts):
    async for post in posts:
        for word in post.lower().split():
            await count_words.send(key=word, value=word)


@app.agent()
async def count_words(words):
    """Count each word; the stream is keyed by the word, so a word lives in one partition."""
    async for word in words:
        word_counts[word] += 1


@app.timer(2.0)
async def show_tally():
    print(word_counts.as_ansitable(title='Tally', key='word', value='count', sort=True))
