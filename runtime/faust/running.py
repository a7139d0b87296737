"""What a running worker lends its App: the producer, the streams' feeds, the replies.

The App is the registry of what an application declares (topics, agents, tables, timers)
and its settings. While a worker runs it, or ``agent.test_context()`` drives one agent, the
App holds one :class:`Running` object, lent when the run starts and taken back when it
ends; everything that needs the running engine reaches it through that object and nothing
else: a topic's send (``app.send_raw``, and ``app.sender()``/``app.counting_sender()``
that compiled agents bind once), the feed of an ``app.stream(topic)`` loop
(``app.attach_stream``), the consumer of ``agent.ask()`` replies (``app.replies()``).
Example::

    running = Running(producer, attach_stream=routes.attach, replies=Replies(app, transport))
    app.running = running        # the worker starts
    ...
    app.running = None           # the worker has stopped: sends raise "not running"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from faust.transport.base import DirectProduce, Producer, ProducerProxy, SendCell, unread_cell

if TYPE_CHECKING:
    from faust.replies import Replies
    from faust.streams import BatchSource, Stream

#: ``send(topic, key, value, partition=None, timestamp=None, headers=None)`` (App.sender)
RawSend = Callable[..., None]


@dataclasses.dataclass(frozen=True)
class Running:
    """The engine an App runs on (see the module docstring).

    ``attach_stream`` gives an ``app.stream(topic)`` loop its feed of messages (None: the
    runner has no consumer, as in ``agent.test_context()``); ``replies`` waits for the
    answers of ``agent.ask()`` (None: asking is not possible here).
    """

    producer: Producer
    attach_stream: Callable[[Stream[Any]], BatchSource] | None = None
    replies: Replies | None = None
    #: called by an agent about to wait for ``ask()`` replies in the middle of a batch:
    #: the worker stops waiting for that batch (None: nothing to detach here)
    detach: Callable[[], None] | None = None
    #: whether this worker is the group's leader (``app.is_leader()``)
    is_leader: Callable[[], bool] | None = None

    def sender(self) -> RawSend:
        """The producer's ``send``: what compiled agents bind once and call per record."""
        return self.producer.send

    def direct_sender(self) -> tuple[DirectProduce, tuple[type[Exception], ...]]:
        """The producer's own produce call and the errors after which :meth:`sender`'s
        ``send`` takes the record instead (``faust.transport.base.Producer.direct``)."""
        return self.producer.direct()

    def counting_sender(self) -> tuple[DirectProduce, tuple[type[Exception], ...], SendCell]:
        """:meth:`direct_sender` for a loop that counts the records it produces itself:
        ``(produce, retry, cell)``, ``cell(topic)`` the one-item list it adds each record
        ``produce`` queued for ``topic`` to (a worker's ``/metrics`` reads it:
        ``faust.worker.sensors.SensedProducer.counting_direct``)."""
        producer = self.producer
        if isinstance(producer, ProducerProxy):
            return producer.counting_direct()
        return (*producer.direct(), unread_cell)
