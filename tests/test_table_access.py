"""Table access compiled into the fused loop (issue 16) against the tables' own methods.

``tests/apps/table_access.py`` reads and writes its tables in every form the compiler
turns into direct access to the message's store. Its built worker must leave exactly
what the uncompiled app leaves (outputs and every table), on ``memory://`` (whose keys
move between partitions) and on ``rocksdb://``; the same worker with a sensor that has
table hooks (which turns the direct access off, per batch) must too; and the sensor must
hear exactly the table events of the uncompiled run (Faust's ``on_table_get/set/del``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import test_differential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import append_moves, sorted_tables

import faust
from faust.compiled import table_access, window_access
from faust.testing import AppDriver

APPS = Path(__file__).parent / "apps"

#: (account, amount, partition, timestamp ms)
Moves = list[tuple[str, int, int, int]]


class TableEvents(faust.Sensor):
    """Records every table hook call: (hook, table, key[, value])."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_table_get(self, table: Any, key: Any) -> None:
        self.events.append(("get", table.name, key))

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        self.events.append(("set", table.name, key, value))

    def on_table_del(self, table: Any, key: Any) -> None:
        self.events.append(("del", table.name, key))


class Built(test_differential.Built):
    def __init__(self, out_dir: Path) -> None:
        super().__init__(APPS / "table_access.py", out_dir)

    def run(
        self, moves: Moves, *, compiled: bool, store: str = "memory://", sensor: Any = None
    ) -> dict[str, Any]:
        """Outputs and tables (read before the worker closes) of one run."""
        app = self.app
        if sensor is not None:
            app.sensors.add(sensor)
        try:
            agents = self.worker.COMPILED_AGENTS if compiled else None
            with AppDriver(app, compiled_agents=agents, store=store) as driver:
                append_moves(driver, (("moves", *move) for move in moves))
                driver.run()
                result: dict[str, Any] = {
                    "report": [m.value() for log in driver.broker.topics["report"] for m in log],
                    **sorted_tables(app),
                }
        finally:
            if sensor is not None:
                app.sensors.remove(sensor)
        return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("build"))


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
moves = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "ü"]),
        st.integers(min_value=-3, max_value=5),
        st.integers(min_value=0, max_value=3),  # any partition: memory keys move
        st.integers(min_value=995_000, max_value=1_030_000),
    ),
    max_size=40,
)


def test_the_worker_reads_and_writes_its_tables_directly(built: Built) -> None:
    """The generated loop binds each table's stores per batch and its partition's store
    per message, and calls no table method on the direct path."""
    text = Path(built.worker.__file__).read_text()
    assert "_table_access(totals_table)" in text
    flat = "".join(text.split())
    assert "_window_access(windowed_table)" in flat  # only updated
    assert "totals_data.get(" in text and "totals_store.dirty.add(" in text


@SETTINGS
@given(moves=moves)
def test_compiled_as_uncompiled_on_memory(built: Built, moves: Moves) -> None:
    reference = built.run(moves, compiled=False)
    assert built.run(moves, compiled=True) == reference
    assert len(reference["report"]) == len(moves)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves)
def test_compiled_as_uncompiled_on_rocksdb(built: Built, moves: Moves) -> None:
    reference = built.run(moves, compiled=False, store="rocksdb://")
    assert built.run(moves, compiled=True, store="rocksdb://") == reference


@SETTINGS
@given(moves=moves)
def test_a_sensor_hears_the_same_table_events_compiled_and_uncompiled(
    built: Built, moves: Moves
) -> None:
    """With a table-hook sensor the worker takes the tables' methods (and its results
    stay those of the direct path); the sensor hears every get, set and del, in order,
    as in the uncompiled run."""
    direct = built.run(moves, compiled=True)
    uncompiled, compiled = TableEvents(), TableEvents()
    assert built.run(moves, compiled=False, sensor=uncompiled) == direct
    assert built.run(moves, compiled=True, sensor=compiled) == direct
    assert compiled.events == uncompiled.events


def test_the_table_events_of_one_message(built: Built) -> None:
    """What Faust's hooks hear for one move (Faust's arguments: the table, the key, the
    value; a windowed table's key with its window)."""
    sensor = TableEvents()
    built.run([("a", 0, 0, 1_000_000)], compiled=True, sensor=sensor)
    window = (1000.0, 1009.9)
    assert sensor.events == [
        ("get", "totals", "a"),
        ("set", "totals", "a", 0),
        ("get", "last", "a"),
        ("get", "last", "a"),
        ("set", "last", "a", 0),
        ("get", "pairs", "a"),
        ("get", "totals", "a"),
        ("set", "pairs", "a", [1, 0]),
        ("get", "per-window", ("a", window)),
        ("set", "per-window", ("a", window), 1),
        ("get", "per-window", ("all", window)),
        ("set", "per-window", ("all", window), 0),
        ("get", "last", "nobody"),
        ("del", "last", "a"),
        ("get", "totals", "a"),
    ]


def test_direct_access_is_decided_per_batch(built: Built) -> None:
    """``table_access``: a plain table's stores; ``window_access``: a tumbling window's
    size for a loop that only updates it; and nothing (the methods) while a sensor has
    table hooks or the table is another kind."""
    app = built.app
    totals = app.tables["totals"]
    windowed = app.tables["per-window"]
    wrapper = sys.modules[built.worker.app_module.__name__].windowed_table
    none = ({}, 0.0, None)
    assert table_access(totals) == (totals._stores, 0.0, totals)
    assert window_access(totals)[:4] == (totals._stores, 0.0, totals, None)
    assert window_access(wrapper) == (
        windowed._stores,
        10.0,
        windowed,
        None,
        windowed.clock,
        None,
    )
    assert table_access(wrapper) == none  # read: the WindowSet's rules
    assert window_access(wrapper.relative_to_now())[:3] == none
    assert table_access(windowed) == none
    assert window_access(windowed)[:3] == none
    sensor = TableEvents()
    app.sensors.add(sensor)
    try:
        assert table_access(totals) == none
        assert window_access(totals)[:3] == none
        assert window_access(wrapper)[:3] == none
    finally:
        app.sensors.remove(sensor)
    assert table_access(totals) == (totals._stores, 0.0, totals)
    plain = faust.Sensor()  # no table hook of its own: nothing changes
    app.sensors.add(plain)
    assert app.sensors.table_hooks is None
    app.sensors.remove(plain)


def test_a_windowed_rocksdb_store_keeps_only_recent_windows_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a commit a windowed table's RocksDB store keeps in memory only the keys the
    commit wrote (once it holds more than twice those): old windows are read back from
    RocksDB, with their values, when a late message writes them again."""
    from faust.tables import stores
    from faust.tables.stores import ABSENT, RocksDBStore, TableCodec

    monkeypatch.setattr(stores, "RECENT_MIN_KEYS", 2)
    codec = TableCodec(str, int, "json", "json", windowed=True)
    store = RocksDBStore(tmp_path / "0", codec, 0)
    store.keeps_recent = True

    def commit(values: dict[Any, int], offset: int) -> None:
        store.data.update(values)
        store.recent, store.dirty = set(values), set()  # as TableManager.produce_changes
        changes = [(codec.dump_key(k), codec.dump_value(v)) for k, v in values.items()]
        store.persist(changes, {0: offset})

    old = {(f"k{i}", (0.0, 9.9)): i for i in range(10)}
    commit(old, 9)
    assert len(store.data) == 10  # not more than twice the recent keys and 2
    new = {(f"k{i}", (10.0, 19.9)): i for i in range(3)}
    commit(new, 12)
    assert set(store.data) == set(new)
    assert store.data.get(("k4", (0.0, 9.9)), ABSENT) is ABSENT
    assert store.load(("k4", (0.0, 9.9))) == 4  # from RocksDB
    assert codec.dump_key(("k4", (0.0, 9.9))) == b'["k4",[0.0,9.9]]'  # Faust's JSON
    store.close()
