"""An app configured for a three-broker cluster: ``broker=`` is a list of URLs, as apps
deployed next to a real cluster write it (the run points it at the test broker).

Constructs: ``broker=[url, url, url]``; ``broker_request_timeout``;
``broker_commit_every``.
"""
import faust

app = faust.App(
    'cluster-broker',
    broker=[
        'kafka://kafka-1.internal:9092',
        'kafka://kafka-2.internal:9092',
        'kafka://kafka-3.internal:9092',
    ],
    broker_request_timeout=40.0,
    broker_commit_every=100,
    topic_partitions=1,
)
pings_topic = app.topic('cluster-pings', value_type=str)
pongs_topic = app.topic('cluster-pongs', value_type=str)


@app.agent(pings_topic)
async def pong(pings):
    async for ping in pings:
        await pongs_topic.send(value=ping.replace('ping', 'pong'))


if __name__ == '__main__':
    app.main()
