"""Module state kept with ``global``, as Faust's isolated-partitions example counts its
progress: the agent writes ``seen_events``, reads ``limit`` (which ``set_limit`` rebinds),
and a timer reports the count."""

import faust

app = faust.App("seen-events", broker="memory://", topic_partitions=2)
events_topic = app.topic("seen-events", value_type=int)
kept_topic = app.topic("kept-events", value_type=int)
seen_events = 0
limit = 100


def set_limit(value: int) -> None:
    global limit
    limit = value


@app.agent(events_topic)
async def track(events: faust.Stream[int]) -> None:
    global seen_events
    async for _event in events.filter(lambda e: e < limit):
        seen_events += 1
        await kept_topic.send(value=seen_events)


@app.timer(1.0)
async def report() -> None:
    print(f"SEEN {seen_events}")
