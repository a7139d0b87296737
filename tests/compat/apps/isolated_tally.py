"""Per-partition tallies with ``isolated_partitions=True``: Faust runs one instance of the
agent for each partition, so the local counter in the agent's body counts that
partition's payments only.

Constructs: ``@app.agent(topic, isolated_partitions=True)``; agent-local state;
``faust.current_event().message.partition``.
"""
import faust

app = faust.App('isolated-tally', broker='kafka://localhost:9092', topic_partitions=2)
payments_topic = app.topic('isolated-payments', value_type=int)
tallies_topic = app.topic('isolated-tallies')


@app.agent(payments_topic, isolated_partitions=True)
async def tally(payments):
    seen_here = 0
    async for amount in payments:
        seen_here += 1
        partition = faust.current_event().message.partition
        await tallies_topic.send(value={'partition': partition, 'seen_here': seen_here})


if __name__ == '__main__':
    app.main()
