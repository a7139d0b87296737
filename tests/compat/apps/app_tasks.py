"""Tasks and timers that take the app, as Faust's task guide shows: a start-up task that
announces the app, a leader-only task that seeds some numbers, and a timer that reports the
running sum kept by an agent.

Constructs: ``@app.task`` on ``async def f(app)``; ``@app.task(on_leader=True)``;
``@app.timer(interval)`` on ``async def f(app)``; ``app.conf.id``; a table read in a timer.
"""
import faust

app = faust.App('app-tasks', broker='kafka://localhost:9092', topic_partitions=2)
numbers_topic = app.topic('task-numbers', key_type=str, value_type=int)
sums = app.Table('sums', default=int)


@app.agent(numbers_topic)
async def add(numbers):
    async for number in numbers:
        sums['total'] += number


@app.task
async def announce(app):
    print(f'STARTED {app.conf.id}')


@app.task(on_leader=True)
async def seed(app):
    for number in (1, 2, 3):
        await numbers_topic.send(key='total', value=number)


@app.timer(1.0)
async def report(app):
    print(f'TOTAL {sums["total"]}')


if __name__ == '__main__':
    app.main()
