"""The table API (Faust's mapping API, sets, global tables, windows) on the memory stores,
and the RocksDB store on its own.

Tables here run outside a worker (as in ``agent.test_context()``): partitions are created
in memory on first use, and the "current message" decides the partition, as in a worker.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import faust
from faust.events import set_current_message
from faust.exceptions import ImproperlyConfigured
from faust.tables import Table
from faust.tables.stores import ABSENT, RocksDBStore, TableCodec
from faust.tables.windowed import WindowedTable
from faust.transport.memory import MemoryMessage
from faust.windows import TumblingWindow


def message(partition: int = 0, timestamp: float = 1000.0, value: bytes = b"{}") -> MemoryMessage:
    return MemoryMessage("events", partition, 0, None, value, None, int(timestamp * 1000))


@pytest.fixture(autouse=True)
def no_current_message() -> None:
    set_current_message(None)


def test_mapping_api() -> None:
    app = faust.App("tables-mapping")
    table: faust.Table[str, int] = app.Table("t", default=int)
    assert table["missing"] == 0 and "missing" not in table  # reading does not store
    table["a"] = 1
    table["b"] = 2
    assert table.get("a") == 1 and table.get("zz") is None and table.get("zz", 7) == 7
    assert table.setdefault("a", 5) == 1 and table.setdefault("c", 3) == 3
    assert sorted(table.keys()) == ["a", "b", "c"] and sorted(table.values()) == [1, 2, 3]
    assert dict(table.items()) == {"a": 1, "b": 2, "c": 3} == table.copy()
    assert len(table) == 3 and "b" in table
    assert table.pop("b") == 2 and table.pop("b", None) is None
    with pytest.raises(KeyError):
        table.pop("b")
    del table["c"]
    with pytest.raises(KeyError):
        del table["c"]
    table.update({"x": 10}, y=20)
    assert table.copy() == {"a": 1, "x": 10, "y": 20}
    table.clear()
    assert len(table) == 0 and table.copy() == {}
    assert table.changelog_topic_name == "tables-mapping-t-changelog"


def test_no_default_raises_key_error() -> None:
    table: faust.Table[str, int] = faust.App("tables-nodefault").Table("t")
    with pytest.raises(KeyError):
        table["missing"]


def test_a_memory_table_is_one_dict_across_partitions() -> None:
    """Faust's default store (``memory://``) is one dict per table and worker: a read
    inside an agent sees a key whatever partition wrote it. Here a key lives in one
    partition at a time: a write moves it to the message's partition and leaves a
    tombstone in the one it left (its changelog then agrees)."""
    app = faust.App("tables-partitions")
    table: faust.Table[str, int] = app.Table("t", default=int)
    set_current_message(message(partition=2))
    table["k"] += 1
    table["k"] += 1
    set_current_message(message(partition=0))
    assert table["k"] == 2 and "k" in table and table.get("k") == 2
    table["k"] += 5  # the one "k", moved from partition 2 to 0
    assert table["k"] == 7
    assert "k" not in table._stores[2].data and table._stores[0].data == {"k": 7}
    assert table._stores[2].dirty == {"k"} and table._stores[0].dirty == {"k"}
    set_current_message(message(partition=2))
    assert table["k"] == 7
    table["k"] = 1  # a plain write moves it back
    assert table._stores[2].data == {"k": 1} and "k" not in table._stores[0].data
    set_current_message(message(partition=1))
    assert table.pop("k") == 1 and "k" not in table  # deleted where it lives
    table["j"] = 3
    set_current_message(message(partition=0))
    del table["j"]
    assert "j" not in table and table._stores[1].dirty == {"j"}
    set_current_message(None)
    assert table.copy() == {}


def test_a_memory_windowed_table_counts_unkeyed_input_from_every_partition() -> None:
    """``counts["all"] += 1`` on a tumbling table fed by four partitions counts every
    message (Faust's memory store; the corpus app click_windows)."""
    app = faust.App("tables-window-spans")
    counts = app.Table("clicks", default=int).tumbling(10)
    seen = []
    for partition in (0, 1, 2, 3, 1, 0):
        set_current_message(message(partition=partition, timestamp=1003.0))
        counts["all"] += 1
        seen.append(counts["all"].current())
    assert seen == [1, 2, 3, 4, 5, 6]
    held = [store for store in counts.table._stores.values() if store.data]
    assert len(held) == 1 and held[0].partition == 0


def test_a_rocksdb_table_reads_the_current_partition_inside_an_agent(tmp_path: Path) -> None:
    """Faust's RocksDB store: inside an event of a non-global table a read looks in the
    event's partition only; outside one, in every partition held."""
    app = faust.App("tables-rocksdb-partitions", store="rocksdb://")
    table: faust.Table[str, int] = app.Table("t", default=int)
    table._attach(tmp_path)
    for partition in (0, 2):
        table._open_store(partition)
    set_current_message(message(partition=2))
    table["k"] += 1
    table["k"] += 1
    set_current_message(message(partition=0))
    assert table["k"] == 0 and "k" not in table
    table["k"] += 5  # partition 0 holds its own "k" (a table is partitioned)
    assert table["k"] == 5
    set_current_message(message(partition=2))
    assert table["k"] == 2
    assert table._stores[2].dirty == {"k"} and table._stores[0].dirty == {"k"}
    set_current_message(None)
    assert table["k"] in (2, 5) and sorted(v for _, v in table.items()) == [2, 5]
    table._close_all()


def test_a_rocksdb_key_deleted_before_the_commit_reads_as_missing(tmp_path: Path) -> None:
    """A key stored in RocksDB and then deleted reads as missing until the delete is
    committed (and after): the cache's ABSENT is the truth, RocksDB's old value is not."""
    app = faust.App("tables-rocksdb-delete", store="rocksdb://")
    table: faust.Table[str, int] = app.Table("t", default=int)
    table._attach(tmp_path)
    store = table._open_store(0)
    set_current_message(message(partition=0))
    table["k"] = 7
    codec = table.codec
    store.persist([(codec.dump_key("k"), codec.dump_value(7))], {0: 1})
    store.dirty = set()
    store.data.clear()  # a cold cache: the next read comes from RocksDB
    assert table["k"] == 7
    del table["k"]
    assert "k" not in table and table.get("k") is None
    store.dirty = set()  # the commit sent the delete; RocksDB has it only once persisted
    assert "k" not in table and table.get("k") is None
    table._close_all()


def test_a_table_in_a_worker_refuses_writes_outside_a_stream() -> None:
    table: faust.Table[str, int] = faust.App("tables-managed").Table("t", default=int)
    table._attach(None)
    with pytest.raises(RuntimeError, match="outside of an agent's stream"):
        table["k"] = 1
    set_current_message(message(partition=3))
    with pytest.raises(faust.exceptions.PartitionsMismatch, match="partition 3"):
        table["k"] = 1  # the worker did not open partition 3 for this table


def test_set_table() -> None:
    app = faust.App("tables-sets")
    visitors: faust.SetTable[str, str] = app.SetTable("visitors", value_type=str)
    visitors["home"].add("ann")
    visitors["home"].add("bob")
    visitors["home"].update(["cid", "dan"])
    assert visitors["home"] == {"ann", "bob", "cid", "dan"}
    assert "ann" in visitors["home"] and len(visitors["home"]) == 4
    visitors["home"].discard("dan")
    visitors["home"].discard("nobody")
    visitors["home"].remove("cid")
    with pytest.raises(KeyError):
        visitors["home"].remove("cid")
    assert visitors["home"].intersection({"ann", "zed"}) == {"ann"}
    assert visitors["home"].union({"zed"}) == {"ann", "bob", "zed"}
    assert visitors["home"] == {"ann", "bob"}  # union/intersection do not change it
    visitors["home"].intersection_update({"bob"})
    assert visitors["home"] == {"bob"}
    assert "about" not in visitors and visitors["about"] == set()
    visitors["home"].discard("bob")  # an empty set is a deleted key
    assert "home" not in visitors and len(visitors) == 0
    codec = visitors.codec
    assert codec.load_value(codec.dump_value({"b", "a"})) == {"a", "b"}


def test_global_table_reads_every_partition() -> None:
    app = faust.App("tables-global")
    rates: faust.GlobalTable[str, float] = app.GlobalTable("rates", default=float)
    set_current_message(message(partition=1))
    rates["EUR"] = 1.1
    set_current_message(message(partition=3))
    assert rates["EUR"] == 1.1  # one store for all partitions
    rates["USD"] = 1.0
    assert rates._dirty_partitions == {"EUR": 1, "USD": 3}
    set_current_message(None)
    assert rates.copy() == {"EUR": 1.1, "USD": 1.0}


def test_table_codec_follows_faust() -> None:
    app = faust.App("tables-codec")

    class Account(faust.Record):
        name: str
        balance: float

    table: faust.Table[str, Account] = app.Table("accounts", key_type=str, value_type=Account)
    codec = table.codec
    assert codec.dump_key("a1") == b'"a1"'  # table keys are JSON, as in Faust
    account = Account(name="ann", balance=2.5)
    assert codec.load_value(codec.dump_value(account)) == account
    windowed = app.Table("w", default=int).tumbling(10)
    key = ("a1", (10.0, 19.9))
    assert windowed.table.codec.dump_key(key) == b'["a1",[10.0,19.9]]'
    assert windowed.table.codec.load_key(b'["a1",[10.0,19.9]]') == key


def test_a_windowed_table_is_its_own_class_and_the_same_declared_table() -> None:
    app = faust.App("tables-windowed-class")
    declared = app.Table("views", default=int)
    views = declared.tumbling(10, expires=60)
    assert type(views.table) is WindowedTable and views.table is declared
    assert app.tables["views"] is declared  # the worker manages the one the user holds
    direct = app.Table("clicks", default=int, window=TumblingWindow(5))
    assert type(direct) is WindowedTable and direct.window.size == 5
    assert type(app.Table("plain", default=int)) is Table
    with pytest.raises(ImproperlyConfigured, match="cannot be windowed"):
        app.GlobalTable("rates").tumbling(10)
    with pytest.raises(ImproperlyConfigured, match="cannot be windowed"):
        app.SetTable("visitors").tumbling(10)


def test_windowed_table_in_place_operators_and_window_set() -> None:
    app = faust.App("tables-windows")
    views = app.Table("views", default=int).hopping(10, 5)
    set_current_message(message(timestamp=12.0))
    views["page"] += 1  # windows (5, 14.9) and (10, 19.9)
    set_current_message(message(timestamp=16.0))
    views["page"] += 10  # windows (10, 19.9) and (15, 24.9)
    table = views.table
    assert table.copy() == {
        ("page", (5.0, 14.9)): 1,
        ("page", (10.0, 19.9)): 11,
        ("page", (15.0, 24.9)): 10,
    }
    window_set = views["page"]
    assert window_set.current() == 10  # the latest window of t=16: (15, 24.9)
    assert window_set.value() == 10  # relative to the stream (message time) by default
    assert window_set.delta(5) == 11  # the latest window of t=11: (10, 19.9)
    assert window_set[(5.0, 14.9)] == 1
    table.clock = lambda: 13.0
    assert window_set.now() == 1  # the earliest window of the clock's time: (5, 14.9)
    assert views.relative_to_now()["page"].value() == 11  # latest window of t=13
    assert views.relative_to(6.0)["page"].value() == 1
    assert "page" in views and "other" not in views
    assert list(views.keys()) == ["page"] and len(views) == 1
    assert dict(views.items()) == {"page": 10}
    assert dict(views.items().delta(5)) == {"page": 11}
    window_set = views["page"]
    window_set -= 3
    assert views["page"].current() == 7
    window_set *= 2
    assert views["page"].current() == 14
    window_set //= 4
    assert views["page"].current() == 3
    window_set |= 4
    assert views["page"].current() == 7
    views["page"] = 100  # sets every window of the current time
    assert views["page"].current() == 100 and views["page"].delta(5) == 100
    del views["page"]
    assert views["page"].current() == 0


def test_relative_to_field_reads_the_value_of_the_current_message() -> None:
    app = faust.App("tables-field")

    class Click(faust.Record):
        page: str
        at: float

    clicks = app.topic("clicks", value_type=Click)
    per_page = app.Table("per-page", default=int).tumbling(60).relative_to_field(Click.at)
    assert clicks.get_topic_name() == "clicks"
    set_current_message(
        MemoryMessage("clicks", 0, 0, None, Click(page="p", at=125.0).dumps(), None, 0)
    )
    per_page["p"] += 1
    assert per_page.table.copy() == {("p", (120.0, 179.9)): 1}


def test_expiry_closes_each_window_once_and_drops_late_writes() -> None:
    app = faust.App("tables-expiry")
    closed: list[tuple[Any, Any]] = []
    views = app.Table(
        "views", default=int, on_window_close=lambda key, value: closed.append((key, value))
    ).tumbling(10, expires=20)
    table = views.table
    table.clock = lambda: 25.0
    set_current_message(message(timestamp=12.0))
    views["a"] += 1
    views["b"] += 2
    set_current_message(message(timestamp=21.0))
    views["a"] += 3
    set_current_message(None)
    store = table._stores[0]
    assert table.close_expired(store, now=29.9) == []  # (10, 19.9) expires when now-20 >= 20
    expired = table.close_expired(store, now=40.0)
    assert expired == [(("a", (10.0, 19.9)), 1), (("b", (10.0, 19.9)), 2)]
    for key, value in expired:
        asyncio.run(table.on_window_close(key, value))
    assert closed == expired
    assert table.copy() == {("a", (20.0, 29.9)): 3}
    assert store.dirty >= {("a", (10.0, 19.9)), ("b", (10.0, 19.9))}  # tombstones to send
    # a late record for a closed window is dropped, so the window stays closed
    table.clock = lambda: 40.0
    set_current_message(message(timestamp=15.0))
    views["a"] += 1
    assert table.late_writes == 1 and ("a", (10.0, 19.9)) not in table
    assert table.close_expired(store, now=1000.0) == [(("a", (20.0, 29.9)), 3)]


def test_rocksdb_store_persists_data_and_offset_together(tmp_path: Path) -> None:
    codec = TableCodec(str, int, "json", "json")
    path = tmp_path / "t" / "0"
    store = RocksDBStore(path, codec, 0)
    assert store.offsets == {} and store.load("a") is ABSENT
    store.data["a"] = 1
    store.data["b"] = 2
    store.dirty = {"a", "b"}
    changes = [(codec.dump_key(k), codec.dump_value(store.data[k])) for k in ("a", "b")]
    store.dirty = set()
    store.persist(changes, {0: 41})
    store.delete("b")
    assert store.data["b"] is ABSENT and dict(store.items()) == {"a": 1}
    store.close()
    reopened = RocksDBStore(path, codec, 0)
    assert reopened.offsets == {0: 41}
    assert reopened.load("a") == 1 and reopened.load("b") == 2  # the delete was never committed
    assert dict(reopened.items()) == {"a": 1, "b": 2}
    reopened.delete("b")
    reopened.dirty = set()
    reopened.persist([(codec.dump_key("b"), None)], {0: 42})
    assert reopened.load("b") is ABSENT and reopened.offsets == {0: 42}
    reopened.data.clear()
    assert reopened.load("b") is ABSENT  # from RocksDB
    reopened.wipe()
    assert reopened.offsets == {} and dict(reopened.items()) == {}
    reopened.close()


@pytest.mark.parametrize("kind", ["table", "tumbling", "hopping", "sets"])
def test_in_place_does_what_the_statement_does(kind: str) -> None:
    """``table.in_place(k, operator.iadd, v)`` (what a compiled agent runs for
    ``table[k] += v``) leaves every kind of table as the statement does: the table's own
    fast path, the windows of a wrapper, a subclass's own methods."""
    import operator

    def make(app_id: str) -> Any:
        app = faust.App(app_id)
        if kind == "sets":
            return app.SetTable("t", value_type=str)
        table = app.Table("t", default=int if kind != "table" else list)
        if kind == "tumbling":
            return table.tumbling(10.0)
        if kind == "hopping":
            return table.hopping(10.0, 5.0)
        return table

    by_statement, by_call = make(f"in-place-a-{kind}"), make(f"in-place-b-{kind}")
    updates: list[tuple[int, str, Any]] = [
        (partition, key, {"x", key} if kind == "sets" else ([n] if kind == "table" else n))
        for n, (partition, key) in enumerate([(0, "a"), (1, "a"), (0, "a"), (0, "b"), (1, "c")])
    ]
    for index, (partition, key, value) in enumerate(updates):
        set_current_message(message(partition, timestamp=1000.0 + 3 * index))
        if kind == "sets":
            by_statement[key] |= value
            by_call.in_place(key, operator.ior, value)
        else:
            by_statement[key] += value
            by_call.in_place(key, operator.iadd, value)
    set_current_message(None)
    inner = (lambda t: t.table) if kind in ("tumbling", "hopping") else (lambda t: t)
    expected = {
        k: sorted(v) if kind == "sets" else v for k, v in inner(by_statement).copy().items()
    }
    got = {k: sorted(v) if kind == "sets" else v for k, v in inner(by_call).copy().items()}
    assert got == expected and expected
    for table in (inner(by_statement), inner(by_call)):  # the same partitions were written
        assert sorted(table._stores) == [0, 1]


def test_as_ansitable_draws_the_table_as_faust_does() -> None:
    """``Table.as_ansitable()`` (Faust's, terminaltables' AsciiTable layout off a terminal):
    title-cased headers and title, the title set into the top border."""
    import io

    app = faust.App("tables-ansi")
    counts: faust.Table[str, int] = app.Table("word_counts", default=int)
    counts["quick"] = 2
    counts["fox"] = 1
    drawn = counts.as_ansitable(
        title="tally", key="word", value="count", sort=True, target=io.StringIO()
    )
    assert drawn.splitlines() == [
        "+Tally--+-------+",
        "| Word  | Count |",
        "+-------+-------+",
        "| fox   | 1     |",
        "| quick | 2     |",
        "+-------+-------+",
    ]
    assert counts.as_ansitable(target=io.StringIO()).splitlines()[0] == "+Word Counts----+"
    by_value = counts.as_ansitable(sort=True, sortkey=lambda item: -item[1], target=io.StringIO())
    assert [line.split()[1] for line in by_value.splitlines()[3:5]] == ["quick", "fox"]
    windowed = app.Table("per-minute", default=int).tumbling(60).relative_to_now()
    set_current_message(message(partition=0))
    windowed["a"] += 3
    set_current_message(None)
    assert "| a   | 3     |" in windowed.as_ansitable(target=io.StringIO())
