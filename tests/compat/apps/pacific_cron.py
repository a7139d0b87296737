"""A cron job in US Pacific time written as Faust's crontab example and task guide write
it, with ``tz=``, plus an agent that does the app's real work.

Constructs: ``@app.crontab('16 20 * * *', tz=..., on_leader=True)`` (the ``tz=`` spelling
of the Faust docs); ``ZoneInfo``.
"""
from zoneinfo import ZoneInfo

import faust

app = faust.App('pacific-cron', broker='kafka://localhost:9092', topic_partitions=1)
pacific = ZoneInfo('America/Los_Angeles')
pings_topic = app.topic('pacific-pings', value_type=str)
pongs_topic = app.topic('pacific-pongs', value_type=str)


@app.agent(pings_topic)
async def pong(pings):
    async for ping in pings:
        await pongs_topic.send(value=f'pong {ping}')


@app.crontab('16 20 * * *', tz=pacific, on_leader=True)
async def evening_in_california():
    await pings_topic.send(value='evening')


if __name__ == '__main__':
    app.main()
