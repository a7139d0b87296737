"""Cron jobs next to an agent: a nightly report with Faust's ``@daily`` macro, a weekday
job in a named time zone and an hourly one on the leader only. Crontabs fire at fixed
times, so the run checks that the app starts and its agent works with them declared.

Constructs: ``@app.crontab('@daily')``; ``@app.crontab(..., timezone=ZoneInfo(...))``;
``@app.crontab('@hourly', on_leader=True)``; the ``timezone=`` App setting.
"""
from datetime import timezone
from zoneinfo import ZoneInfo

import faust

app = faust.App(
    'nightly-report',
    broker='kafka://localhost:9092',
    timezone=timezone.utc,
    topic_partitions=1,
)
sales_topic = app.topic('nightly-sales', value_type=float)
sales_total = app.Table('sales_total', default=float)


@app.agent(sales_topic)
async def record_sale(sales):
    async for amount in sales:
        sales_total['today'] += amount


@app.crontab('@daily')
async def nightly_report():
    print(f'NIGHTLY {sales_total["today"]}')


@app.crontab('0 8 * * 1-5', timezone=ZoneInfo('Europe/Stockholm'))
async def morning_report():
    print(f'MORNING {sales_total["today"]}')


@app.crontab('@hourly', on_leader=True)
async def hourly_report():
    print(f'HOURLY {sales_total["today"]}')


if __name__ == '__main__':
    app.main()
