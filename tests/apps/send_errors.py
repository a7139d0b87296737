"""An app one of whose sends cannot be delivered (tests/test_send_errors_on_kafka.py).

``inputs`` (raw strings) -> agent ``relay``: ``astray`` goes to partition 99 of the topic
``astray``, which does not exist when it is sent (the app declares no topic: the test
creates ``inputs`` and ``relayed``), so the producer queues the record, learns the topic's
partitions from the broker afterwards and fails the record in its delivery report;
everything else goes to ``relayed``. A sensor writes each
``on_send_error`` it is told of, as a JSON line, to ``$SEND_ERRORS``.
"""

import json
import os
from typing import Any

import faust

app = faust.App(
    "send-errors",
    broker="kafka://localhost:9092",
    topic_allow_declare=False,
    topic_disable_leader=True,
)

inputs_topic = app.topic("inputs", value_type=str, value_serializer="raw", partitions=1)
relayed_topic = app.topic("relayed", value_type=str, value_serializer="raw", partitions=1)
astray_topic = app.topic("astray", value_type=str, value_serializer="raw")


@app.agent(inputs_topic)
async def relay(values: faust.Stream[str]) -> None:
    async for value in values:
        if value == "astray":
            await astray_topic.send(value=value, partition=99)
        else:
            await relayed_topic.send(value=value)


class SendErrors(faust.Sensor):
    """Writes what on_send_error is told."""

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        with open(os.environ["SEND_ERRORS"], "a") as report:
            line = {"type": type(exc).__name__, "error": str(exc), "state": state}
            report.write(json.dumps(line) + "\n")


app.sensors.add(SendErrors())


if __name__ == "__main__":
    app.main()
