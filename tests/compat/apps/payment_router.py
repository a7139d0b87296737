"""A payment router: every payment is echoed to an audit topic, and large ones are
forwarded untouched (the original key, bytes and headers) to a review topic.

Constructs: ``stream.echo(topic)``; ``faust.current_event().forward(topic)``; untyped
values (``dict``) read by key.
"""
import faust

app = faust.App('payment-router', broker='kafka://localhost:9092', topic_partitions=1)

payments_topic = app.topic('router-payments')
audit_topic = app.topic('router-audit')
review_topic = app.topic('router-review')


@app.agent(payments_topic)
async def route(payments):
    async for payment in payments.echo(audit_topic):
        if payment['amount'] > 100:
            await faust.current_event().forward(review_topic)


if __name__ == '__main__':
    app.main()
