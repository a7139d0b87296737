"""Ten-second trade bars, after Faust's windowed-aggregation example: each window of a
symbol collects its trades in a list, and when the window closes a callback sends the
bar (trade count and mean price) with ``send_soon``.

Constructs: ``Table(default=list, on_window_close=callback)``;
``.tumbling(10, expires=timedelta(seconds=...)).relative_to_field(Trade.date)``;
``table[key].value()`` then ``table[key] = ...``; ``Topic.send_soon`` from a sync
callback; ``app.conf.table_cleanup_interval``.
"""
from datetime import datetime, timedelta

import faust


class Trade(faust.Record):
    symbol: str
    price: float
    date: datetime


class Bar(faust.Record):
    symbol: str
    trades: int
    mean: float


app = faust.App('trade-bars', broker='kafka://localhost:9092', topic_partitions=1)
app.conf.table_cleanup_interval = 1.0

trades_topic = app.topic('trades', value_type=Trade)
bars_topic = app.topic('trade-bars', value_type=Bar)


def close_bar(key, trades):
    symbol, _window = key
    mean = sum(trade.price for trade in trades) / len(trades)
    bars_topic.send_soon(key=symbol, value=Bar(symbol=symbol, trades=len(trades), mean=mean))


trade_windows = app.Table(
    'trade_windows', default=list, on_window_close=close_bar,
).tumbling(10, expires=timedelta(seconds=20)).relative_to_field(Trade.date)


@app.agent(trades_topic)
async def collect(trades):
    async for trade in trades:
        bucket = trade_windows[trade.symbol].value()
        bucket.append(trade)
        trade_windows[trade.symbol] = bucket


if __name__ == '__main__':
    app.main()
