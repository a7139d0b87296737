"""Faust written as Faust's own guides write it, typed: mypy --strict must accept every line.

Each form here is documented Faust usage that our runtime's annotations once refused
(tests/test_typing.py checks this module with ``faustc check``, which is strict).
"""

from collections.abc import AsyncIterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import faust
from faust import ChannelT, StreamT, TopicT
from faust.types import AppT, EventT
from faust.types import StreamT as TypesStreamT


class Trade(faust.Record, serializer="json"):
    symbol: str
    price: float
    date: datetime


app = faust.App(
    "documented-forms",
    broker=["kafka://kafka-1:9092", "kafka://kafka-2:9092"],
    topic_partitions=2,
)
trades_topic = app.topic("trades", key_type=str, value_type=Trade)
trades_schema = faust.Schema(key_type=str, value_type=Trade, key_serializer="raw")
schema_topic = app.topic("trades-by-schema", schema=trades_schema)
history_topic = app.topic("history", partitions=2, compacting=True, retention=timedelta(days=7))
any_channel: ChannelT[str, float] = app.topic("prices", key_type=str, value_type=float)
typed_topic: TopicT[str, float] = any_channel
visitors = app.SetTable("visitors")
untyped_counts = app.Table("untyped-counts")
bars = (
    app.Table("bars", default=int)
    .tumbling(10, expires=timedelta(seconds=20))
    .relative_to_field(Trade.date)
)


@app.agent(trades_topic)
async def prices(trades: StreamT[Trade]) -> AsyncIterable[float]:
    async for trade in trades:
        yield trade.price


@app.agent()
async def audit(records: TypesStreamT[str]) -> None:
    async for record in records:
        print(record)


@app.agent(value_type=Trade, help="Trades sent with audit_trade.cast(...)")
async def audit_trade(trades: faust.Stream[Trade]) -> None:
    async for trade in trades:
        event: EventT[str, Trade] | None = faust.current_event()
        print(trade.symbol, event, faust.uuid())


@app.task
async def announce(app: AppT) -> None:
    print(app.conf.id)
    await audit_trade.cast(Trade(symbol="A", price=1.0, date=datetime.now()), key="A")


@app.task(on_leader=True)
async def seed() -> None:
    await audit.send(value="seeded")


@app.timer(timedelta(seconds=1))
async def report(app: AppT) -> None:
    print(app.id, visitors["page"], untyped_counts["x"])


@app.crontab("0 8 * * 1-5", tz=ZoneInfo("Europe/Stockholm"), on_leader=True)
async def morning() -> None:
    print(bars["A"].now())
