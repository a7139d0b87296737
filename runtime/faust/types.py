"""Faust's abstract type names (``faust.types``), for annotations written as Faust's guides
write them: each is this runtime's own class.

Example::

    from faust.types import StreamT

    @app.agent(orders_topic)
    async def process(orders: StreamT[Order]) -> None:
        async for order in orders:
            ...

``StreamT[Order]`` is ``faust.Stream[Order]``, ``TopicT`` is ``faust.Topic``, and so on.
``ChannelT`` is ``faust.Topic`` too: ``app.channel()``'s ``faust.Channel`` is a topic that
stays in memory.
"""

from __future__ import annotations

from faust.agents import Agent as AgentT
from faust.app import App as AppT
from faust.delivery import TP, FutureMessage, PendingMessage, RecordMetadata
from faust.events import Event as EventT
from faust.models.record import Record as ModelT
from faust.serializers.codecs import Codec as CodecT
from faust.serializers.schemas import Schema as SchemaT
from faust.streams import Stream as StreamT
from faust.tables import Table as TableT
from faust.topics import Topic as ChannelT
from faust.topics import Topic as TopicT

__all__ = [
    "TP",
    "AgentT",
    "AppT",
    "ChannelT",
    "CodecT",
    "EventT",
    "FutureMessage",
    "ModelT",
    "PendingMessage",
    "RecordMetadata",
    "SchemaT",
    "StreamT",
    "TableT",
    "TopicT",
]
