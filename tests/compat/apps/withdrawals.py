"""Withdrawals: what each user takes out per hour, and each country per minute, the
classic Faust example. The per-country totals go through an agent with no topic of its
own and a ``group_by`` on the country.

Constructs: a Record with ``isodates=True`` and an untyped ``date: datetime = None``;
``version=`` (Faust then names the app ``<id>-v<version>``), ``origin=``,
``store='rocksdb://'``; ``tumbling(3600).relative_to_stream()``;
``tumbling(60, expires=timedelta(...)).relative_to_field(Withdrawal.date)``;
``@app.agent()`` fed by ``agent.send``; ``group_by(Withdrawal.country)``.
"""
from datetime import datetime, timedelta

import faust


class Withdrawal(faust.Record, isodates=True, serializer='json'):
    user: str
    country: str
    amount: float
    date: datetime = None


app = faust.App(
    'withdrawals-app',
    version=2,
    broker='kafka://localhost:9092',
    store='rocksdb://',
    origin='withdrawals',
    topic_partitions=4,
)
withdrawals_topic = app.topic('withdrawals', value_type=Withdrawal)

user_to_total = app.Table(
    'user_to_total', default=float,
).tumbling(3600, expires=timedelta(days=1)).relative_to_stream()

country_to_total = app.Table(
    'country_to_total', default=float,
).tumbling(60.0, expires=timedelta(hours=4)).relative_to_field(Withdrawal.date)


@app.agent(withdrawals_topic)
async def track_user_withdrawal(withdrawals):
    async for withdrawal in withdrawals:
        user_to_total[withdrawal.user] += withdrawal.amount
        await track_country_withdrawal.send(value=withdrawal)


@app.agent()
async def track_country_withdrawal(withdrawals):
    async for withdrawal in withdrawals.group_by(Withdrawal.country):
        country_to_total[withdrawal.country] += withdrawal.amount


if __name__ == '__main__':
    app.main()
