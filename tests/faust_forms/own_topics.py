"""Agents declared without a topic, as Faust's word count and RPC examples write them:
each gets ``<app id>-<agent name>``, fed by ``send``, ``cast`` and sinks."""

import faust

app = faust.App("own-topics", broker="memory://", topic_partitions=2)


class Order(faust.Record, serializer="json"):
    id: str
    account: str
    amount: int


posts_topic = app.topic("posts", value_type=str)
orders_topic = app.topic("orders", value_type=Order)
doubled_topic = app.topic("doubled", value_type=int)
word_counts = app.Table("word_counts", default=int)
audited = app.Table("audited", default=int)


@app.agent(posts_topic)
async def split(posts: faust.Stream[str]) -> None:
    async for post in posts:
        for word in post.split():
            await count_words.send(key=word, value=word)
            await double.send(value=len(word))


@app.agent()
async def count_words(words):  # type: ignore[no-untyped-def]
    async for word in words:
        word_counts[word] += 1


@app.agent(orders_topic)
async def accept(orders: faust.Stream[Order]) -> None:
    async for order in orders:
        await audit.cast(order, key=order.id)


@app.agent(value_type=Order)
async def audit(orders: faust.Stream[Order]) -> None:
    async for order in orders.group_by(Order.account):
        audited[order.account] += order.amount


@app.agent(sink=[doubled_topic])
async def double(numbers):  # type: ignore[no-untyped-def]
    async for number in numbers:
        yield number * 2
