"""A visit log written the way much Faust code is: untyped, with ``None`` defaults on typed
fields and parameters, a module-level dict, and a set table with no value type.

Constructs: ``user: str = None`` and ``seconds: int = None`` on a Record; a function
parameter ``prefix: str = None``; ``seen = {}``; ``app.SetTable('visitors')`` with no
value type; an untyped agent.
"""
from datetime import datetime

import faust


class Visit(faust.Record, serializer='json'):
    page: str
    user: str = None
    seconds: int = None
    date: datetime = None


app = faust.App('visit-log', broker='kafka://localhost:9092', topic_partitions=2)
visits_topic = app.topic('visits', key_type=str, value_type=Visit)
page_counts_topic = app.topic('visit-page-counts', key_type=str, value_type=int)
visitors = app.SetTable('visitors')
seen = {}


def page_key(visit, prefix: str = None):
    return f'{prefix}:{visit.page}' if prefix else visit.page


@app.agent(visits_topic)
async def log_visit(visits):
    async for visit in visits:
        key = page_key(visit)
        visitors[key].add(visit.user or 'anonymous')
        seen[key] = seen.get(key, 0) + 1
        await page_counts_topic.send(key=key, value=seen[key])


if __name__ == '__main__':
    app.main()
