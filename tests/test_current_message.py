"""The message in hand, as tables, sensors, ``current_event()`` and spawned tasks see it.

A fused loop marks each message current (``set_current_message``) so that a table's own
methods find its partition; when nothing its loop runs per message reads the mark, it marks
the message only before the paths that run a table's methods and before the error policy
(``faustc.plan.observers``). ``tests/apps/current_message.py``'s built worker must leave
what the uncompiled app leaves, and what the worker built without that pass leaves (the
generic path: every message marked), table by table and partition by partition; a sensor's
table hook must see the message being processed; ``current_event()`` in an agent's body and
in a task it spawns must be the message the task was spawned at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import test_differential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import append_moves, sorted_tables

import faust
from faust.events import current_message
from faust.testing import AppDriver
from faustc.build import compile_source
from faustc.plan.passes import PASSES, mark_messages_at_fallbacks
from faustc.plan.printer import format_plan
from faustc.plan.validate import validate_plan
from faustc.source import SourceFile

APP = Path(__file__).parent / "apps" / "current_message.py"
#: the topic of ``regroup``'s group_by
REPARTITION = "current_message.regroup-regroups-acc-repartition"

#: (topic, account, amount, partition)
Moves = list[tuple[str, str, int, int]]


class MessagesAtTableHooks(faust.Sensor):
    """Records, at every table hook, the table, the key and where the message that
    ``current_message()`` returns comes from."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def _where(self) -> str:
        message = current_message()
        return "none" if message is None else f"{message.partition()}:{message.offset()}"

    def on_table_get(self, table: Any, key: Any) -> None:
        self.events.append(("get", table.name, key, self._where()))

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        self.events.append(("set", table.name, key, self._where()))


class Built(test_differential.Built):
    def __init__(self, out_dir: Path, passes: tuple[Any, ...] = PASSES) -> None:
        super().__init__(APP, out_dir, passes)

    def run(
        self, moves: Moves, *, compiled: bool, store: str = "memory://", sensor: Any = None
    ) -> dict[str, Any]:
        """Outputs and tables (each partition's, read before the worker closes)."""
        app = self.app
        if sensor is not None:
            app.sensors.add(sensor)
        try:
            agents = self.worker.COMPILED_AGENTS if compiled else None
            with AppDriver(app, compiled_agents=agents, store=store) as driver:
                append_moves(driver, ((*move, None) for move in moves))
                driver.run()
                result: dict[str, Any] = {
                    "seen": [m.value() for log in driver.broker.topics["seen"] for m in log],
                    # (account, "partition:offset") of each record regroup's group_by sent
                    "repartitioned": sorted(
                        (m.key().decode(), f"{m.partition()}:{m.offset()}")
                        for m in driver.broker.records(REPARTITION)
                    ),
                    **sorted_tables(app),
                }
                for table in app.tables.values():
                    if store == "memory://":
                        result[f"{table.name} by partition"] = {
                            partition: sorted(held.data.items(), key=repr)
                            for partition, held in table._stores.items()
                        }
        finally:
            if sensor is not None:
                app.sensors.remove(sensor)
        return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def generic(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The same app built without ``mark_messages_at_fallbacks``: every message marked."""
    passes = tuple(each for each in PASSES if each is not mark_messages_at_fallbacks)
    return Built(tmp_path_factory.mktemp("generic"), passes)


def positions(moves: Moves, topic: str) -> list[tuple[str, str]]:
    """(account, "partition:offset") of each move on ``topic``, in order."""
    offsets: dict[int, int] = {}
    found = []
    for on, account, _, partition in moves:
        if on == topic:
            offset = offsets.get(partition, 0)
            offsets[partition] = offset + 1
            found.append((account, f"{partition}:{offset}"))
    return found


def test_only_the_loop_nothing_else_reads_marks_at_its_fallbacks(tmp_path: Path) -> None:
    plan = compile_source(SourceFile.load(APP), tmp_path / "build").plan
    agents = {agent.agent_var: agent for agent in plan.agents}
    assert agents["tally"].message_at_fallbacks and not agents["tally"].set_current_message
    # two stages (a filter and a group_by before the body): each marks at its fallbacks
    regroup = agents["regroup"]
    assert len(regroup.stages) == 2
    assert regroup.message_at_fallbacks and not regroup.set_current_message
    assert agents["spawn"].set_current_message and not agents["spawn"].message_at_fallbacks
    assert agents["spawn"].set_current_event
    validate_plan(plan)
    printed = format_plan(plan)  # what --dump-plan shows
    assert "[values, sets current message at fallbacks]" in printed
    assert "hole 1 table set pairs_table[move.account] = [count + 1, " in printed


SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
moves = st.lists(
    st.tuples(
        st.sampled_from(["moves", "spawns", "regroups"]),
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=-3, max_value=5),
        st.integers(min_value=0, max_value=3),  # any partition: memory keys move
    ),
    max_size=30,
)


@SETTINGS
@given(moves=moves)
def test_compiled_as_uncompiled_and_as_the_generic_path(
    built: Built, generic: Built, moves: Moves
) -> None:
    reference = built.run(moves, compiled=False)
    assert built.run(moves, compiled=True) == reference
    assert generic.run(moves, compiled=True) == reference


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves)
def test_compiled_as_uncompiled_on_rocksdb(built: Built, generic: Built, moves: Moves) -> None:
    reference = built.run(moves, compiled=False, store="rocksdb://")
    assert built.run(moves, compiled=True, store="rocksdb://") == reference
    assert generic.run(moves, compiled=True, store="rocksdb://") == reference


MOVES: Moves = [
    ("moves", "a", 1, 0),
    ("moves", "b", 2, 3),
    ("moves", "a", 3, 0),
    ("spawns", "a", 1, 1),
    ("moves", "c", 4, 2),
    ("spawns", "b", 1, 2),
    ("spawns", "a", 1, 1),
    ("moves", "b", 5, 3),
    ("regroups", "a", 2, 1),
    ("regroups", "b", 0, 2),  # filtered out
    ("regroups", "c", -3, 3),
    ("regroups", "a", 4, 0),
]


@pytest.mark.parametrize("compiled", [False, True])
def test_a_table_hook_sees_the_message_in_hand(built: Built, compiled: bool) -> None:
    """A sensor with table hooks turns the direct access off: ``tally``'s loop runs the
    tables' methods, and marks each message before them; the hooks (and the table, which
    writes to that message's partition) see it. ``spawn``'s tasks write their table
    after the loop has gone on: they see the message they were spawned at. ``regroup``'s
    second stage likewise marks each repartitioned record before its table's methods."""
    sensor = MessagesAtTableHooks()
    result = built.run(MOVES, compiled=compiled, sensor=sensor)
    expected: list[tuple[Any, ...]] = []
    for account, at in positions(MOVES, "moves"):
        expected += [
            ("get", "totals", account, at),  # totals[k] += v: a read and a write
            ("set", "totals", account, at),
            ("get", "pairs", account, at),
            ("set", "pairs", account, at),
        ]
    expected += [("set", "spawned", account, at) for account, at in positions(MOVES, "spawns")]
    # regroup's second stage: the repartitioned record in hand (none for the filtered move)
    repartitioned = result["repartitioned"]
    assert sorted(account for account, _ in repartitioned) == ["a", "a", "c"]
    for account, at in repartitioned:
        expected += [("get", "regrouped", account, at), ("set", "regrouped", account, at)]
    assert sorted(sensor.events) == sorted(expected)


@pytest.mark.parametrize("compiled", [False, True])
def test_current_event_in_the_body_and_in_a_spawned_task(built: Built, compiled: bool) -> None:
    """``current_event()`` in the agent's body is the message in hand; in a task spawned
    there, which runs after the agent has gone on to later messages, the message it was
    spawned at; the task's table write lands in that message's partition."""
    result = built.run(MOVES, compiled=compiled)
    spawned = positions(MOVES, "spawns")
    seen = [json.loads(line) for line in result["seen"]]
    body = [f"body {account} {at}" for account, at in spawned]
    tasks = [f"task {account} {at}" for account, at in spawned]
    assert sorted(line for line in seen if line.startswith("body")) == sorted(body)
    assert sorted(line for line in seen if line.startswith("task")) == sorted(tasks)
    by_partition = result["spawned by partition"]
    for account, at in spawned:
        partition = int(at.split(":")[0])
        assert dict(by_partition[partition])[account] in {
            where for other, where in spawned if other == account
        }
    # each account's last spawn wrote last
    last = dict(spawned)
    assert dict(result["spawned"]) == last
