"""A two-step pipeline through an in-memory channel: the first agent cleans up incoming
lines and puts them on a channel, a second agent reads the channel and counts words.

Constructs: ``app.channel(value_type=str)``; a channel as an agent's source;
``channel.send(value=...)``; ``faust.ChannelT`` and ``faust.StreamT`` annotations.
"""
import faust
from faust import ChannelT, StreamT

app = faust.App('channel-pipeline', broker='kafka://localhost:9092', topic_partitions=1)

lines_topic = app.topic('raw-lines', value_type=str)
word_counts_topic = app.topic('line-word-counts', value_type=int)
cleaned: ChannelT = app.channel(value_type=str)


@app.agent(lines_topic)
async def clean(lines: StreamT[str]) -> None:
    async for line in lines:
        text = line.strip().lower()
        if text:
            await cleaned.send(value=text)


@app.agent(cleaned)
async def count_words(lines: StreamT[str]) -> None:
    async for line in lines:
        await word_counts_topic.send(key=line, value=len(line.split()))


if __name__ == '__main__':
    app.main()
