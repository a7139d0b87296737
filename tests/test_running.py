"""What a running worker lends its App (``faust.running``): one ``Running`` object, lent
when the worker starts, used by the agents' sends, taken back when it has closed; the
same for ``agent.test_context()``. On the memory transport, with real agents."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import faust
from faust import contract
from faust.running import Running
from faust.transport.memory import MemoryTransport
from faust.worker import Worker

_ids = itertools.count()


def test_a_worker_lends_the_app_one_running_object_and_takes_it_back() -> None:
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    numbers = app.topic("numbers", value_type=int, partitions=1)
    doubled = app.topic("doubled", value_type=int, partitions=1)
    lent: list[Running | None] = []

    @app.agent(numbers)
    async def double(stream: faust.Stream[int]) -> None:
        async for number in stream:
            lent.append(app.running)
            await doubled.send(value=number * 2)

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 1)
    for number in range(3):
        transport.broker.append("numbers", None, str(number).encode(), partition=0)
    assert app.running is None
    asyncio.run(Worker(app, transport=transport, stop_when_idle=True).run())

    assert len(lent) == 3 and lent[0] is not None
    assert all(running is lent[0] for running in lent)  # one object for the whole run
    assert [int(m.value() or b"") for m in transport.broker.records("doubled")] == [0, 2, 4]
    assert app.running is None  # taken back
    with pytest.raises(RuntimeError, match="is not running"):
        app.send_raw("doubled", None, b"1")


def test_a_test_context_lends_a_running_object_for_the_block() -> None:
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    numbers = app.topic("numbers", value_type=int)
    doubled = app.topic("doubled", value_type=int)

    @app.agent(numbers)
    async def double(stream: faust.Stream[int]) -> None:
        async for number in stream:
            await doubled.send(value=number * 2)

    async def drive() -> list[object]:
        async with double.test_context() as agent:
            assert isinstance(app.running, Running)
            await agent.put(21)
            return list(agent.records("doubled"))

    assert asyncio.run(drive()) == [42]
    assert app.running is None


def test_a_send_with_a_callback_is_reported_with_its_metadata() -> None:
    """``Topic.send(callback=)`` and ``send_soon(callback=)``, as in Faust: the callback
    gets the FutureMessage once the record is written; ``fut.result()`` (or awaiting it)
    is where it landed."""
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    numbers = app.topic("numbers", value_type=int, partitions=1)
    doubled = app.topic("doubled", value_type=int, partitions=2)
    delivered: list[tuple[str, int, int, int]] = []
    awaited: list[faust.types.RecordMetadata] = []

    def on_delivered(fut: faust.types.FutureMessage) -> None:
        metadata = fut.result()
        delivered.append((metadata.topic, metadata.partition, metadata.offset, fut.message.value))

    async def on_delivered_async(fut: faust.types.FutureMessage) -> None:
        on_delivered(fut)

    @app.agent(numbers)
    async def double(stream: faust.Stream[int]) -> None:
        async for number in stream:
            fut = await doubled.send(value=number * 2, partition=1, callback=on_delivered)
            assert fut is not None
            awaited.append(await fut)
            doubled.send_soon(value=-number, partition=0, callback=on_delivered_async)
            assert await doubled.send(value=0) is None  # no callback: no future

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 1)
    for number in (1, 2):
        transport.broker.append("numbers", None, str(number).encode(), partition=0)
    asyncio.run(Worker(app, transport=transport, stop_when_idle=True).run())
    assert sorted(delivered) == [
        ("doubled", 0, 0, -1),
        ("doubled", 0, 2, -2),
        ("doubled", 1, 0, 2),
        ("doubled", 1, 1, 4),
    ]
    assert [(m.topic, m.partition, m.offset) for m in awaited] == [
        ("doubled", 1, 0),
        ("doubled", 1, 1),
    ]


def test_a_channel_carries_values_between_agents_in_memory() -> None:
    """``app.channel()``: sends stay in the process, as the objects sent, and go to the
    agent that reads the channel; nothing is created in (or subscribed from) the broker."""
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    lines = app.topic("lines", value_type=str, partitions=1)
    counts = app.topic("counts", value_type=int, partitions=1)
    cleaned = app.channel(value_type=str)
    sent: list[int] = []

    class Words(list[str]):
        """Not JSON: the channel carries the object itself."""

    @app.agent(lines)
    async def clean(stream: faust.Stream[str]) -> None:
        async for line in stream:
            if line.strip():
                fut = await cleaned.send(
                    key=line, value=Words(line.split()), callback=lambda f: sent.append(1)
                )
                assert fut is not None and fut.result().topic == cleaned.topics[0]

    @app.agent(cleaned)
    async def count(stream: faust.Stream[Words]) -> None:
        async for words in stream:
            assert isinstance(words, Words)
            await counts.send(value=len(words))

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("lines", 1)
    for line in ("hello channel world", "  ", "one"):
        transport.broker.append("lines", None, json.dumps(line).encode(), partition=0)
    asyncio.run(Worker(app, transport=transport, stop_when_idle=True).run())
    assert [int(m.value() or b"") for m in transport.broker.records("counts")] == [3, 1]
    assert sent == [1, 1]
    assert not any(name.startswith("channel") for name in transport.broker.topics)


def test_an_app_service_starts_and_stops_with_the_worker() -> None:
    """``@app.service`` on a ``faust.Service``: on_start, its ``@Service.task`` and
    ``@Service.timer`` while the worker runs, on_stop and on_shutdown when it stops."""
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    numbers = app.topic("numbers", value_type=int, partitions=1)
    seen: list[int] = []
    events: list[str] = []

    @app.agent(numbers)
    async def note(stream: faust.Stream[int]) -> None:
        async for number in stream:
            seen.append(number)

    @app.service
    class Watcher(faust.Service):
        async def on_start(self) -> None:
            events.append("start")

        async def on_started(self) -> None:
            events.append("started")

        async def on_stop(self) -> None:
            events.append("stop")

        async def on_shutdown(self) -> None:
            events.append("shutdown")

        @faust.Service.task
        async def _once(self) -> None:
            events.append("task")
            await self.sleep(3600)  # cut short by stop()
            assert self.should_stop

        @faust.Service.timer(0.001)
        async def _tick(self) -> None:
            if "tick" not in events:
                events.append("tick")

    async def run() -> None:
        worker = Worker(app, transport=transport)
        running = asyncio.create_task(worker.run())
        while "tick" not in events or len(seen) < 2:
            await asyncio.sleep(0.01)
        worker.request_stop()
        await running

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 1)
    for number in (1, 2):
        transport.broker.append("numbers", None, str(number).encode(), partition=0)
    asyncio.run(asyncio.wait_for(run(), 60))
    assert events[:2] == ["start", "task"] or events[:2] == ["start", "started"]
    assert set(events) == {"start", "started", "task", "tick", "stop", "shutdown"}
    assert events[-2:] == ["stop", "shutdown"] and app.running_services == []
    assert isinstance(app.services[0], type) and issubclass(app.services[0], faust.Service)
    with pytest.raises(TypeError, match=r"faust\.Service"):
        app.service(int)


def test_autodiscover_imports_the_origin_package_when_the_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``autodiscover=True, origin='pkg'``: the worker imports the package and its modules
    (not ``test_*``), so an agent declared in another module runs (Faust's discover)."""
    from faust import contract

    assert contract.discovery_modules(False, "pkg") == []
    assert contract.discovery_modules(True, "pkg") == ["pkg"]
    assert contract.discovery_modules(["a", "b"], "pkg") == ["a", "b", "pkg"]
    with pytest.raises(ValueError, match="needs origin"):
        contract.discovery_modules(True, None)
    assert contract.scanned("pkg.agents") and not contract.scanned("pkg.test_agents")

    package = f"disco{next(_ids)}"
    root = tmp_path / package
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sub" / "__init__.py").write_text("")
    (root / "app.py").write_text(
        "import faust\n"
        f"app = faust.App('{package}', broker='memory://{package}', origin='{package}',\n"
        "                autodiscover=True)\n"
        "numbers = app.topic('numbers', value_type=int, partitions=1)\n"
        "doubled = app.topic('doubled', value_type=int, partitions=1)\n"
    )
    (root / "sub" / "agents.py").write_text(
        f"from {package}.app import app, numbers, doubled\n"
        "@app.agent(numbers)\n"
        "async def double(stream):\n"
        "    async for number in stream:\n"
        "        await doubled.send(value=number * 2)\n"
    )
    (root / "test_agents.py").write_text("raise AssertionError('a test module is not scanned')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    app = importlib.import_module(f"{package}.app").app
    assert app.agents == {}
    transport = MemoryTransport.named(package)
    transport.broker.create_topic("numbers", 1)
    transport.broker.append("numbers", None, b"21", partition=0)
    asyncio.run(Worker(app, transport=transport, stop_when_idle=True).run())
    assert list(app.agents) == [f"{package}.sub.agents.double"]
    assert [m.value() for m in transport.broker.records("doubled")] == [b"42"]
    assert app.discover() == [package, f"{package}.app", f"{package}.sub", f"{package}.sub.agents"]
    with pytest.raises(faust.ImproperlyConfigured, match="no module named 'nowhere'"):
        faust.App("disco-missing", autodiscover=["nowhere"]).discover()


@pytest.mark.parametrize("disabled", [False, True])
def test_on_leader_runs_on_the_worker_holding_the_leader_partition(disabled: bool) -> None:
    """Faust's election: the worker assigned partition 0 of ``<app id>-__assignor-__leader``
    leads; ``on_leader=True`` tasks and timers run there only (``topic_disable_leader``:
    nowhere, as in Faust). The memory broker's consumer is its group's only member."""
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}", topic_disable_leader=disabled)
    numbers = app.topic("numbers", value_type=int, partitions=1)
    ran: list[str] = []
    leading: list[bool] = []

    @app.agent(numbers)
    async def note(stream: faust.Stream[int]) -> None:
        async for _ in stream:
            leading.append(app.is_leader())

    @app.task(on_leader=True)
    async def seed() -> None:
        ran.append("leader task")

    @app.task
    async def everywhere() -> None:
        ran.append("task")

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("numbers", 1)
    transport.broker.append("numbers", None, b"1", partition=0)
    asyncio.run(Worker(app, transport=transport, stop_when_idle=True).run())
    assert leading == [not disabled]
    assert sorted(ran) == (["task"] if disabled else ["leader task", "task"])
    assert (contract.leader_topic_name(name) in transport.broker.topics) is not disabled


def test_a_rebalance_that_moves_the_leader_partition_ends_the_leadership() -> None:
    from confluent_kafka import TopicPartition

    from faust.worker.schedule import Leadership

    worker = Worker(faust.App(f"running-{next(_ids)}", broker="memory://x"))
    leader = contract.leader_topic_name(worker.app.id)
    seen: list[list[TopicPartition]] = []

    class Recorder:
        def on_assigned(self, partitions: list[TopicPartition]) -> None:
            seen.append(partitions)

        def on_revoked(self, partitions: list[TopicPartition]) -> None:
            seen.append(partitions)

    worker._rebalance = Recorder()  # type: ignore[assignment]
    worker._on_assigned([TopicPartition("numbers", 0), TopicPartition(leader, 0)])
    assert worker._leadership.is_leader and seen[-1] == [TopicPartition("numbers", 0)]
    worker._on_revoked([TopicPartition(leader, 0)])
    assert not worker._leadership.is_leader and seen[-1] == []
    assert Leadership(always=True).is_leader


def test_ask_in_faust_s_envelope_when_the_agent_takes_no_reply_headers() -> None:
    """``@app.agent(use_reply_headers=False)``: ``ask()`` sends a ``ReqRepRequest``
    (``@ReqRepRequest``: value, reply_to, correlation_id) and the agent sees the value."""
    from faust.agents import ReqRepRequest

    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    answers = app.topic("answers", value_type=str, partitions=1)
    seen: list[object] = []

    @app.agent(use_reply_headers=False)
    async def double(numbers: faust.Stream[int]) -> AsyncIterator[int]:
        async for number in numbers:
            seen.append(number)
            yield number * 2

    @app.task
    async def ask_some() -> None:
        # join asks both at once (a worker stopping when idle waits while a reply is due;
        # between two single asks nothing would be)
        replies = await double.join([1, 21])
        await answers.send(value=f"{replies}")

    transport = MemoryTransport.named(name)
    asyncio.run(Worker(app, transport=transport, stop_when_idle=True).run())
    assert seen == [1, 21]
    requests = transport.broker.records(double.channel.get_topic_name())
    assert all(json.loads(m.value() or b"")["__faust"]["ns"] == "@ReqRepRequest" for m in requests)
    assert all(m.headers() is None for m in requests) and len(requests) == 2
    assert [m.value() for m in transport.broker.records("answers")] == [b'"[2, 42]"']
    assert ReqRepRequest(value=1, reply_to="r", correlation_id="c").value == 1


def test_an_isolated_agent_runs_one_instance_per_partition() -> None:
    """``isolated_partitions=True``: each partition gets its own run of the agent
    function (its own locals), as Faust's actors; a revoked partition's instance ends."""
    name = f"running-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}")
    payments = app.topic("payments", value_type=int, partitions=2)
    tallies = app.topic("tallies", value_type=str, partitions=1)
    ended: list[int] = []

    @app.agent(payments, isolated_partitions=True)
    async def tally(stream: faust.Stream[int]) -> None:
        seen_here = 0
        partition = -1
        async for _ in stream:
            seen_here += 1
            event = faust.current_event()
            assert event is not None
            partition = event.message.partition
            await tallies.send(value=f"{partition}:{seen_here}")
        ended.append(partition)

    transport = MemoryTransport.named(name)
    transport.broker.create_topic("payments", 2)
    for partition in (0, 1, 1, 0, 1):
        transport.broker.append("payments", None, b"5", partition=partition)
    worker = Worker(app, transport=transport, stop_when_idle=True)
    asyncio.run(worker.run())
    sent = sorted(m.value() for m in transport.broker.records("tallies"))
    assert sent == [b'"0:1"', b'"0:2"', b'"1:1"', b'"1:2"', b'"1:3"']
    assert sorted(ended) == [0, 1]  # each instance ran to its end when the worker stopped


def test_a_revoked_partition_ends_its_isolated_instance_and_a_new_one_starts_afresh() -> None:
    from faust.transport.memory import MemoryMessage
    from faust.worker.runner import AgentRunner, IsolatedAgent

    made: list[Fake] = []

    class Fake:
        def __init__(self) -> None:
            self.batches: list[list[int]] = []
            self.stopped = False
            made.append(self)

        def start(self) -> None: ...

        async def process(self, batch: list[MemoryMessage]) -> None:
            self.batches.append([m.partition() for m in batch])

        def held_offsets(self) -> dict[tuple[str, int], int]:
            return {}

        async def stop(self, timeout: float) -> None:
            self.stopped = True

    def message(partition: int) -> MemoryMessage:
        return MemoryMessage("payments", partition, 0, None, b"1", None, 0)

    def make() -> AgentRunner:
        return Fake()  # type: ignore[return-value]

    async def drive() -> None:
        isolated = IsolatedAgent(make, "tally", ["payments"])
        await isolated.process([message(0), message(1), message(0)])
        assert [fake.batches for fake in made] == [[[0, 0]], [[1]]]
        isolated.revoke([0], timeout=1.0)
        await isolated.process([message(0)])  # a fresh instance for the reassigned partition
        await isolated.stop(timeout=1.0)
        assert [fake.stopped for fake in made] == [True, True, True]
        assert made[2].batches == [[0]] and set(isolated.instances) == {0, 1}

    asyncio.run(drive())
