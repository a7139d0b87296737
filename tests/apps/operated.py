"""An app to operate: pages, a table to restore, errors and dead letters, a sensor and
signals (tests/test_web_on_kafka.py).

- ``numbers`` (JSON ints, 4 partitions) -> agent ``double``: a value ending in 3 raises
  (dead-lettered), a value that is not a number fails to decode (dead-lettered), others
  are counted per key in the table ``counts`` and sent doubled to ``doubled``;
- ``words`` (raw) -> agent ``shout`` under ``skip``: ``boom`` raises (skipped), others go
  upper-cased to ``shouted``;
- pages: ``/count/{key}/`` (a function view reading the table), ``/echo/`` (a class view:
  POST returns the JSON body, GET is an error);
- a sensor and the app's signals record what they are told; at shutdown it is written
  as JSON to ``$OPERATED_REPORT`` (when set).
"""

import json
import os
from typing import Any

import faust
from faust.web import Request, Response, View

app = faust.App("operated", broker="kafka://localhost:9092", error_policy="dead-letter")

numbers_topic = app.topic("numbers", key_type=str, value_type=int, partitions=4)
doubled_topic = app.topic("doubled", key_type=str, value_type=int, partitions=4)
words_topic = app.topic("words", value_type=str, value_serializer="raw", partitions=2)
shouted_topic = app.topic("shouted", value_type=str, value_serializer="raw", partitions=2)
counts = app.Table("counts", default=int)


@app.agent(numbers_topic)
async def double(numbers: faust.Stream[int]) -> None:
    async for number in numbers:
        if number % 10 == 3:
            raise ValueError(f"{number} ends in 3")
        counts[str(number)] += 1
        await doubled_topic.send(key=str(number), value=number * 2)


@app.agent(words_topic, error_policy="skip")
async def shout(words: faust.Stream[str]) -> None:
    async for word in words:
        if word == "boom":
            raise RuntimeError("boom")
        await shouted_topic.send(value=word.upper())


@app.page("/count/{key}/")
async def get_count(self: View, request: Request, key: str) -> Response:
    return self.json({"key": key, "count": counts[key]})


@app.page("/echo/")
class Echo(View):
    async def get(self, request: Request, **params: Any) -> Response:
        return self.error(400, "POST a JSON body", hint="echo")

    async def post(self, request: Request, **params: Any) -> Response:
        return self.json({"echo": await request.json()}, status=201)


class Recorder(faust.Sensor):
    """Counts what Faust's hooks say."""

    def __init__(self) -> None:
        self.messages_in = 0
        self.messages_out = 0
        self.events_in: dict[str, int] = {}
        self.events_out = 0
        self.sent: dict[str, int] = {}
        self.commits_started = 0
        self.commits_completed = 0
        self.rebalances_started = 0
        self.rebalances_ended = 0

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.messages_in += 1

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> Any:
        self.events_in[stream] = self.events_in.get(stream, 0) + 1
        return offset

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        assert state == offset
        self.events_out += 1

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        self.messages_out += 1

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> Any:
        self.sent[topic] = self.sent.get(topic, 0) + 1

    def on_commit_initiated(self, consumer: Any) -> Any:
        self.commits_started += 1
        return self.commits_started

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        assert state == self.commits_started
        self.commits_completed += 1

    def on_rebalance_start(self, app: Any) -> Any:
        self.rebalances_started += 1
        return {}

    def on_rebalance_end(self, app: Any, state: Any) -> None:
        self.rebalances_ended += 1


recorder = Recorder()
app.sensors.add(recorder)
signals: list[Any] = []


@app.on_worker_init.connect
def on_worker_init(sender: Any, **kwargs: Any) -> None:
    signals.append(["worker_init", sender.id])


@app.on_startup.connect
async def on_startup(sender: Any, **kwargs: Any) -> None:
    signals.append(["startup"])


@app.on_partitions_assigned.connect
async def on_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
    signals.append(["assigned", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)])


@app.on_partitions_revoked.connect
async def on_revoked(sender: Any, revoked: Any, **kwargs: Any) -> None:
    signals.append(["revoked", sorted(f"{tp.topic}[{tp.partition}]" for tp in revoked)])


@app.on_rebalance_complete.connect
async def on_rebalance_complete(sender: Any, **kwargs: Any) -> None:
    signals.append(["rebalance_complete"])


@app.on_before_shutdown.connect
async def on_before_shutdown(sender: Any, **kwargs: Any) -> None:
    signals.append(["before_shutdown"])


@app.on_shutdown.connect
async def on_shutdown(sender: Any, **kwargs: Any) -> None:
    signals.append(["shutdown"])
    report = os.environ.get("OPERATED_REPORT")
    if report:
        state = {**vars(recorder), "signals": signals, "monitor": app.monitor.asdict()}
        with open(report, "w") as file:
            json.dump(state, file, default=str)


monitor = app.monitor  # Faust's Monitor, installed before the worker starts

if __name__ == "__main__":
    app.main()
