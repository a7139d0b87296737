"""Withdrawals: repartition by user with ``group_by``, keep running totals, raise alerts.

Withdrawals arrive keyed by account; ``group_by(Withdrawal.user)`` sends each one on to
the repartition topic ``withdrawals.track_users-withdrawals-Withdrawal.user-repartition``
keyed by user, so every user's withdrawals are counted by one worker, in order. The
``filter`` before ``group_by`` runs before the repartition (the code says so). Run it::

    faustc run examples/withdrawals.py --broker kafka://127.0.0.1:9092
"""

import faust

app = faust.App("withdrawals", broker="kafka://localhost:9092", topic_partitions=4)


class Withdrawal(faust.Record, serializer="json"):
    user: str
    account: str
    amount: float


withdrawals_topic = app.topic("withdrawals", key_type=str, value_type=Withdrawal, partitions=4)
alerts_topic = app.topic("withdrawal-alerts", key_type=str, value_type=str, partitions=4)
user_totals = app.Table("user-totals", default=float)

#: a user whose withdrawals add up to more than this gets one alert
LIMIT = 10_000.0


@app.agent(withdrawals_topic)
async def track_users(withdrawals: faust.Stream[Withdrawal]) -> None:
    async for withdrawal in withdrawals.filter(lambda w: w.amount > 0).group_by(Withdrawal.user):
        before = user_totals[withdrawal.user]
        after = before + withdrawal.amount
        user_totals[withdrawal.user] = after
        if before <= LIMIT < after:
            await alerts_topic.send(key=withdrawal.user, value=f"{withdrawal.user} over {LIMIT}")


@app.timer(interval=10.0)
async def report_totals() -> None:
    print(f"{len(user_totals)} users, {sum(user_totals.values()):.2f} withdrawn", flush=True)


if __name__ == "__main__":
    app.main()
