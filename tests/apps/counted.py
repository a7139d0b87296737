"""An app whose sends ``/metrics`` counts, and nothing else does (tests/test_metrics_counts.py).

No sensor of the app's own: the worker's ``/metrics`` sensor is the only one that counts
sends, so a compiled loop counts its records itself (``app.counting_sender()``):

- ``numbers`` (JSON ints, 4 partitions) -> agent ``split`` under ``skip``: even numbers
  go to ``evens``, odd ones to ``odds``; a multiple of 7 raises *after* its send (the
  record was produced: it counts), a value that is not a number fails to decode;
- ``evens`` -> agent ``halve`` (two instances, ``concurrency=2``): each even number
  halved to ``halves``, and a multiple of 4 also to ``quarters`` (two sends, two topics).
"""

import faust

app = faust.App("counted", broker="kafka://localhost:9092", error_policy="skip")

numbers_topic = app.topic("numbers", key_type=str, value_type=int, partitions=4)
evens_topic = app.topic("evens", key_type=str, value_type=int, partitions=4)
odds_topic = app.topic("odds", key_type=str, value_type=int, partitions=2)
halves_topic = app.topic("halves", key_type=str, value_type=int, partitions=2)
quarters_topic = app.topic("quarters", key_type=str, value_type=int, partitions=2)


@app.agent(numbers_topic)
async def split(numbers: faust.Stream[int]) -> None:
    async for number in numbers:
        if number % 2 == 0:
            await evens_topic.send(key=str(number), value=number)
        else:
            await odds_topic.send(key=str(number), value=number)
        if number % 7 == 0:
            raise ValueError(f"{number} is a multiple of 7 (raised after its send)")


@app.agent(evens_topic, concurrency=2)
async def halve(evens: faust.Stream[int]) -> None:
    async for number in evens:
        await halves_topic.send(key=str(number), value=number // 2)
        if number % 4 == 0:
            await quarters_topic.send(key=str(number), value=number // 4)


if __name__ == "__main__":
    app.main()
