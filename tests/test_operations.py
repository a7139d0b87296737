"""The runtime pieces behind the compiled operations: held offsets (take, noack) and the
worker's commit, the rate limiter, cron schedules, ask/reply, and tracebacks that cite the
user's line from inside an inlined lambda."""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import traceback
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_differential import load_worker

import faust
from faust.cron import CronSchedule
from faust.streams import RateLimiter
from faust.transport.memory import MemoryTransport
from faust.worker import Worker
from faust.worker.errors import AgentFailure

_names = itertools.count()


def fresh_app(**settings: object) -> tuple[faust.App, MemoryTransport]:
    number = next(_names)
    app = faust.App(f"ops-{number}", broker="kafka://unused:9092", **settings)
    return app, MemoryTransport.named(f"ops-{number}")


async def until(predicate: object, what: str) -> None:
    assert callable(predicate)
    for _ in range(2000):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def committed(transport: MemoryTransport, group: str, topic: str) -> dict[int, int]:
    return {
        partition: offset
        for (g, t, partition), offset in transport.broker.committed.items()
        if g == group and t == topic
    }


def test_take_buffer_holds_the_commit_until_its_list_is_processed() -> None:
    app, transport = fresh_app()
    numbers = app.topic("numbers", value_type=int, partitions=1)
    sums = app.topic("sums", value_type=int, partitions=1)

    @app.agent(numbers)
    async def add(stream: faust.Stream[int]) -> None:
        async for chunk in stream.take(3):
            await sums.send(value=sum(chunk))

    async def scenario() -> None:
        worker = Worker(app, transport=transport)
        running = asyncio.create_task(worker.run())
        await until(lambda: "numbers" in transport.broker.topics, "topics")
        for n in (1, 2):
            transport.broker.append("numbers", None, str(n).encode())
        await until(lambda: worker.processed == 2, "two numbers consumed")
        worker.commit()
        assert committed(transport, app.id, "numbers") == {0: 0}  # both still in the buffer
        transport.broker.append("numbers", None, b"3")
        transport.broker.append("numbers", None, b"4")
        await until(lambda: worker.processed == 4, "four numbers consumed")
        worker.commit()
        assert committed(transport, app.id, "numbers") == {0: 3}  # 4 waits for its list
        worker.request_stop()
        await running
        # stopping hands the partial list over, then commits everything
        assert committed(transport, app.id, "numbers") == {0: 4}

    asyncio.run(scenario())
    assert [json.loads(m.value() or b"") for m in transport.broker.records("sums")] == [6, 4]


def test_take_within_hands_over_a_partial_list_while_the_worker_runs() -> None:
    app, transport = fresh_app()
    numbers = app.topic("numbers", value_type=int, partitions=2)
    sums = app.topic("sums", value_type=int, partitions=1)

    @app.agent(numbers)
    async def add(stream: faust.Stream[int]) -> None:
        async for chunk in stream.take(100, 0.05):
            await sums.send(value=sum(chunk))

    async def scenario() -> None:
        worker = Worker(app, transport=transport)
        running = asyncio.create_task(worker.run())
        await until(lambda: "numbers" in transport.broker.topics, "topics")
        for n in (1, 2, 3):
            transport.broker.append("numbers", None, str(n).encode())
        # no more input and no stop: only `within` can hand the list over
        await until(lambda: transport.broker.records("sums"), "the partial list")
        worker.commit()
        assert sum(committed(transport, app.id, "numbers").values()) == 3
        worker.request_stop()
        await running

    asyncio.run(scenario())
    assert sum(json.loads(m.value() or b"") for m in transport.broker.records("sums")) == 6


def test_noack_events_hold_the_commit_until_acked() -> None:
    app, transport = fresh_app()
    jobs = app.topic("jobs", value_type=str, partitions=1)
    pending: list[faust.Event[object, str]] = []

    @app.agent(jobs)
    async def work(stream: faust.Stream[str]) -> None:
        async for event in stream.noack().events():
            if event.value == "later":
                pending.append(event)
            else:
                event.ack()

    async def scenario() -> None:
        worker = Worker(app, transport=transport)
        running = asyncio.create_task(worker.run())
        await until(lambda: "jobs" in transport.broker.topics, "topics")
        for value in ("now", "later", "now"):
            transport.broker.append("jobs", None, json.dumps(value).encode())
        await until(lambda: worker.processed == 3, "three jobs consumed")
        worker.commit()
        assert committed(transport, app.id, "jobs") == {0: 1}  # offset 1 is not acked
        pending[0].ack()
        worker.commit()
        assert committed(transport, app.id, "jobs") == {0: 3}
        worker.request_stop()
        await running

    asyncio.run(scenario())


def test_rate_limiter_delays_past_the_budget() -> None:
    now = [100.0]
    limiter = RateLimiter(2, per=1.0, clock=lambda: now[0])
    assert [limiter.delay(), limiter.delay()] == [0.0, 0.0]
    assert limiter.delay() == pytest.approx(1.0)  # third value of the window waits for the next
    now[0] = 101.5
    assert limiter.delay() == 0.0
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_cron_schedule() -> None:
    schedule = CronSchedule.parse("*/15 9-17 * * mon-fri")
    friday = datetime.datetime(2024, 1, 5, 9, 7)
    assert schedule.next_after(friday) == datetime.datetime(2024, 1, 5, 9, 15)
    assert schedule.next_after(datetime.datetime(2024, 1, 5, 17, 50)) == datetime.datetime(
        2024, 1, 8, 9, 0
    )
    assert CronSchedule.parse("0 0 1 * *").next_after(friday) == datetime.datetime(2024, 2, 1)
    for bad in ("* * *", "61 * * * *", "@sometimes", ""):
        with pytest.raises(ValueError, match="bad cron expression") as info:
            CronSchedule.parse(bad)
        assert "\n" not in str(info.value)


def test_crontab_macros_and_time_zones_as_faust_reads_them() -> None:
    """croniter's forms, as Faust (``faust/utils/cron.py``): macros and a seconds field;
    the crontab's ``timezone=``, else the App's ``timezone`` setting, UTC by default."""
    from zoneinfo import ZoneInfo

    friday = datetime.datetime(2024, 1, 5, 9, 7)
    assert CronSchedule.parse("@daily").next_after(friday) == datetime.datetime(2024, 1, 6)
    assert CronSchedule.parse("@hourly").next_after(friday) == datetime.datetime(2024, 1, 5, 10)
    assert CronSchedule.parse("@weekly").next_after(friday) == datetime.datetime(2024, 1, 7)
    assert CronSchedule.parse("*/20 * * * * 30").next_after(friday) == datetime.datetime(
        2024, 1, 5, 9, 20, 30
    )
    noon_utc = datetime.datetime(2024, 1, 5, 12, tzinfo=datetime.UTC).timestamp()
    daily = CronSchedule.parse("@daily")
    assert daily.seconds_until_next(noon_utc) == 12 * 3600  # UTC unless told otherwise
    paris = daily.with_timezone(ZoneInfo("Europe/Paris"))  # UTC+1 in January
    assert paris.seconds_until_next(noon_utc) == 11 * 3600

    app = faust.App("crontab-zones")

    @app.crontab("@daily")
    async def in_utc() -> None: ...

    @app.crontab("0 0 * * *", timezone=ZoneInfo("Asia/Tokyo"))
    async def in_tokyo() -> None: ...

    zoned = faust.App("crontab-zoned", timezone="Europe/Paris")

    @zoned.crontab("@daily")
    async def in_paris() -> None: ...

    assert [c.schedule.timezone for c in app.crontabs] == [datetime.UTC, ZoneInfo("Asia/Tokyo")]
    assert zoned.crontabs[0].schedule.timezone == ZoneInfo("Europe/Paris")
    with pytest.raises(faust.ImproperlyConfigured, match="'Mars/Olympus' is not a known"):
        faust.App("crontab-bad-zone", timezone="Mars/Olympus")


def test_ask_waits_for_what_the_agent_yields() -> None:
    app, transport = fresh_app()
    questions = app.topic("questions", value_type=int, partitions=2)
    answers: list[object] = []

    @app.agent(questions)
    async def double(stream: faust.Stream[int]) -> AsyncIterator[int]:
        async for n in stream:
            yield n * 2

    @app.task
    async def asker() -> None:
        answers.append(await double.ask(21, timeout=10))
        answers.append(await double.ask(5, timeout=10))

    async def scenario() -> None:
        worker = Worker(app, transport=transport)
        running = asyncio.create_task(worker.run())
        await until(lambda: len(answers) == 2, "both answers")
        worker.request_stop()
        await running

    asyncio.run(scenario())
    assert answers == [42, 10]


APP_WITH_A_BAD_LAMBDA = """
import faust

app = faust.App("bad-lambda", broker="kafka://localhost:9092")
numbers = app.topic("numbers", value_type=int, partitions=1)


@app.agent(numbers)
async def invert(stream: faust.Stream[int]) -> None:
    async for n in stream.map(lambda n: 1 / n):
        print(n)
"""


def test_a_traceback_from_an_inlined_lambda_cites_the_user_line(tmp_path: Path) -> None:
    source = tmp_path / "bad_lambda.py"
    source.write_text(APP_WITH_A_BAD_LAMBDA)
    worker_module = load_worker(source, tmp_path / "build")
    app = worker_module.app
    transport = MemoryTransport.named(f"bad-lambda-{next(_names)}")
    transport.ensure_topics([], 1)
    transport.broker.create_topic("numbers", 1)
    transport.broker.append("numbers", None, b"0")
    worker = Worker(
        app, compiled_agents=worker_module.COMPILED_AGENTS, transport=transport, stop_when_idle=True
    )
    with pytest.raises(AgentFailure) as failure:
        asyncio.run(worker.run())
    cause = failure.value.__cause__
    assert isinstance(cause, ZeroDivisionError)
    text = "".join(traceback.format_exception(cause))
    # the frame is the generated worker's, and its source line names the user's line
    assert "bad_lambda_worker.py" in text
    assert "value = 1 / value  # bad_lambda.py:10" in text
    assert "bad_lambda.py:10" in str(failure.value)  # the error policy cites it too


APP_FAILING_DEEP_IN_ITS_BODY = """
import faust

app = faust.App("deep-failure", broker="kafka://localhost:9092")
numbers = app.topic("numbers", value_type=int, partitions=1)
out = app.topic("out", value_type=str, partitions=1)


@app.agent(numbers)
async def divide(stream: faust.Stream[int]) -> None:
    async for n in stream:
        # a comment the worker drops
        half = n / 2

        await out.send(
            value=f"{half}",
        )
        if n > 100:  # lines 19 and 20 read the same
            print(1 / (n - n))
        print(1 / (n - n))
"""


def test_an_error_in_the_loop_body_cites_its_own_line(tmp_path: Path) -> None:
    """The worker's line table maps every copied line back to the user's, across comment
    and blank lines and a statement the compiler replaced (a send of three lines), even to
    one of two lines that read the same."""
    source = tmp_path / "deep.py"
    source.write_text(APP_FAILING_DEEP_IN_ITS_BODY)
    worker_module = load_worker(source, tmp_path / "build")
    transport = MemoryTransport.named(f"deep-{next(_names)}")
    transport.broker.create_topic("numbers", 1)
    transport.broker.create_topic("out", 1)
    transport.broker.append("numbers", None, b"4")
    worker = Worker(
        worker_module.app,
        compiled_agents=worker_module.COMPILED_AGENTS,
        transport=transport,
        stop_when_idle=True,
    )
    with pytest.raises(AgentFailure) as failure:
        asyncio.run(worker.run())
    assert isinstance(failure.value.__cause__, ZeroDivisionError)
    assert "(deep.py:20)" in str(failure.value)
