"""Faust's sensor API: ``faust.Sensor``, ``app.sensors`` and ``app.monitor``.

A sensor is told what a running worker does through Faust's hook names
(``on_message_in``, ``on_commit_completed``, ``on_send_initiated`` ...); subclass
:class:`Sensor`, override the hooks you want and add an instance to the app. Example::

    class Sent(faust.Sensor):
        def __init__(self) -> None:
            self.sent = 0

        def on_send_initiated(self, producer, topic, message, keysize, valsize):
            self.sent += 1

    app.sensors.add(Sent())
    app.monitor.messages_received_total     # the built-in Monitor's counters

The worker calls the per-message hooks only when an installed sensor overrides them
(``faust.sensors.bridge``): a sensor that only counts commits costs nothing per message.
"""

from faust.sensors.base import PendingMessage, Sensor, SensorDelegate
from faust.sensors.monitor import Monitor, TableState

__all__ = ["Monitor", "PendingMessage", "Sensor", "SensorDelegate", "TableState"]
