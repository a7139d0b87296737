"""Progress reporting through a module global, as Faust's isolated-partitions example
does it: the agent counts into ``seen_events`` with ``global`` and a timer prints it.

Constructs: ``global`` in an agent; a module counter read by ``@app.timer``.
"""
import faust

app = faust.App('seen-counter', broker='kafka://localhost:9092', topic_partitions=2)
events_topic = app.topic('seen-events', value_type=int)
seen_events = 0


@app.agent(events_topic)
async def track(events):
    global seen_events
    async for _event in events:
        seen_events += 1


@app.timer(1.0)
async def report():
    print(f'SEEN {seen_events}')


if __name__ == '__main__':
    app.main()
