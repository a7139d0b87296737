"""The shop's Faust app, spread over a package the way larger Faust projects are: the App
here, the models, topics, tables and agents each in a module of their own, found at start
by ``autodiscover``. Run it with ``faust -A shop.app worker``.

Constructs: ``autodiscover=True`` with ``origin=``; ``app = faust_app = faust.App(...)``;
agents, topics and tables in other modules; ``web_enabled=False``; no ``app.main()``.
"""
import faust

app = faust_app = faust.App(
    'shop',
    broker='kafka://localhost:9092',
    origin='shop',
    autodiscover=True,
    web_enabled=False,
    topic_partitions=2,
)
