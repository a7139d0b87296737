"""Records no codec can write, though no topic carries them (FC300)."""

import datetime
import http
import threading

import faust

app = faust.App("unencodable")


class Guarded(faust.Record, serializer="avro"):
    name: str
    lock: threading.Lock  # E: FC300 the avro codec of Guarded (its serializer=) cannot represent it


class Status(faust.Record, serializer="json"):
    code: http.HTTPStatus  # a standard enum: the runtime writes it
    at: datetime.datetime


class InMemory(faust.Record):
    lock: threading.Lock  # W: FC300 the json codec of InMemory (Faust's default for a Record)


orders = app.topic("orders", value_type=str)


@app.agent(orders)
async def process(stream: faust.Stream[str]) -> None:
    async for order in stream:
        print(Guarded(name=order, lock=threading.Lock()).dumps())
