"""Settings Faust apps commonly pass that change nothing in the dataflow: they must be
accepted (or warned about), not refused. With ``version=3`` Faust names the app
``settings-tour-v3``: its consumer group and its changelog topics carry that name.

Constructs: ``version``, ``origin``, ``autodiscover=False``, ``reply_create_topic``,
``web_enabled=False``, ``web_port``, ``cache``, ``timezone``, ``stream_buffer_maxsize``,
``stream_wait_empty``, ``table_cleanup_interval``, ``consumer_auto_offset_reset``,
``producer_acks``, ``broker_client_id``, ``topic_replication_factor``,
``topic_allow_declare``, ``worker_redirect_stdouts``; ``key_serializer``/
``value_serializer`` defaults.
"""
from datetime import timezone

import faust

app = faust.App(
    'settings-tour',
    broker='kafka://localhost:9092',
    version=3,
    origin='settings_tour',
    autodiscover=False,
    reply_create_topic=True,
    web_enabled=False,
    web_port=6067,
    cache='memory://',
    timezone=timezone.utc,
    stream_buffer_maxsize=1024,
    stream_wait_empty=False,
    table_cleanup_interval=10.0,
    consumer_auto_offset_reset='earliest',
    producer_acks=-1,
    broker_client_id='settings-tour-client',
    topic_replication_factor=1,
    topic_allow_declare=True,
    worker_redirect_stdouts=True,
    key_serializer='raw',
    value_serializer='json',
    topic_partitions=2,
)

events_topic = app.topic('tour-events', value_type=str)
event_counts = app.Table('event_counts', default=int)


@app.agent(events_topic)
async def count(events):
    async for event in events:
        event_counts[event] += 1


if __name__ == '__main__':
    app.main()
