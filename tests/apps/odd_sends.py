"""A test app whose sends get values and keys of every type (tests/test_send_site.py).

The map builds ``Reading`` only to send it, so its send site writes the struct with msgspec
where every value has its field's declared type and falls back to the generic dumper where
one does not; the keys are ``str`` on the raw codec (encoded at the send site) or, through
a name the compiler cannot read, JSON (the runtime says so: the key dumper writes them).
"""

from typing import Any

import faust

app = faust.App("odd-sends", broker="kafka://localhost:9092")


class Tags(faust.Record):
    """Which value of ``ODD`` each field or key gets."""

    name: str
    count: str
    limit: str
    key: str


class Reading(faust.Record):
    name: str
    count: int
    limit: int | None


class Text(str):
    """A str subclass (msgspec and orjson may not write it as the str it holds)."""


#: tag -> the value sent: every type a field or a key may get at run time
ODD: dict[str, Any] = {
    "text": "text",
    "unicode": "ü\u2028",
    "subclass": Text("sub"),  # msgspec refuses it, orjson writes the str
    "int": 7,
    "zero": 0,
    "bool": True,
    "float": 1e16,  # orjson writes 1e+16, msgspec 1e16
    "int_max": 2**64 - 1,
    "int_over": 2**64,  # msgspec writes it, orjson refuses it
    "int_min": -(2**63),
    "int_under": -(2**63) - 1,
    "none": None,
    "bytes": b"raw",
    "list": [1, "a"],
}

#: the keys' serializer, through a name the compiler does not read (it expects text keys)
KEYS = "json"

tags = app.topic("tags", key_type=str, value_type=Tags, partitions=1)
readings = app.topic("readings", key_type=str, value_type=Reading, partitions=1)
text_keyed = app.topic("text-keyed", key_type=str, value_type=str, partitions=1)
json_keyed = app.topic(
    "json-keyed", key_type=str, key_serializer=KEYS, value_type=str, partitions=1
)


def odd(tag: str) -> Any:
    return ODD[tag]


@app.agent(tags)
async def send_readings(stream: faust.Stream[Tags]) -> None:
    async for reading in stream.map(lambda t: Reading(odd(t.name), odd(t.count), odd(t.limit))):
        await readings.send(key=reading.name, value=reading)


@app.agent(tags)
async def send_keys(stream: faust.Stream[Tags]) -> None:
    async for t in stream:
        await text_keyed.send(key=odd(t.key), value=t.name)
        await json_keyed.send(key=odd(t.key), value=t.name)
