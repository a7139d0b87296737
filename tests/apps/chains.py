"""A test app exercising every shape the compiler fuses (tests/test_differential.py)."""

import faust
from faust import current_event

app = faust.App("chains", broker="kafka://localhost:9092")


class Reading(faust.Record):
    sensor: str
    value: float


readings = app.topic("readings", key_type=str, value_type=Reading, partitions=3)
out_values = app.topic("out-values", key_type=str, value_type=float, partitions=3)
out_items = app.topic("out-items", key_type=str, value_type=str, partitions=3)
out_events = app.topic("out-events", key_type=str, value_type=str, partitions=3)
totals = app.Table("totals", default=float)

THRESHOLD = 10.0


async def is_positive(reading: Reading) -> bool:
    return reading.value > 0


def scale(factor: float):  # type: ignore[no-untyped-def]
    def apply(reading: Reading) -> Reading:
        return reading.derive(value=reading.value * factor)

    return apply


@app.agent(readings)
async def sum_values(stream: faust.Stream[Reading]) -> None:
    seen = 0  # state that lives across batches
    async for reading in (
        stream.filter(is_positive).map(scale(2.0)).filter(lambda r: r.value < THRESHOLD * 10)
    ):
        seen += 1
        totals[reading.sensor] += reading.value
        await out_values.send(key=reading.sensor, value=round(reading.value + seen * 0, 6))


@app.agent(readings)
async def round_items(stream: faust.Stream[Reading]) -> None:
    async for sensor, value in stream.map(lambda r: round(r.value)).items():
        note = """multi-line
   string kept exactly"""
        out_items.send_soon(key=sensor, value=f"{sensor}={value}:{len(note)}")


@app.agent(readings)
async def tag_events(stream: faust.Stream[Reading]) -> None:
    # the comprehension rebinds `r`: inlining must rename only the lambda parameter
    async for event in stream.filter(lambda r: [r for r in [r.value]][0] > 1.0).events():  # noqa: RUF015
        current = current_event()
        assert current is event
        message = event.message
        await out_events.send(
            key=event.key, value=f"{message.partition}:{message.offset}:{event.value.sensor}"
        )
