"""Tables in a worker, on the memory transport: changelogs, restore, RocksDB, exactly-once,
window expiry, co-partitioning checks and the data directory lock.

The memory broker keeps every changelog record, so a test can read exactly what a worker
committed; a second Worker on the same broker plays a restarted (or another) process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from clocks import WallClock

from faust.app import App
from faust.exceptions import PartitionsMismatch, StateDirectoryLocked, TransactionFailed
from faust.tables.manager import TableManager
from faust.tables.stores import RocksDBStore
from faust.transport.base import TopicSpec
from faust.transport.memory import MemoryTransport
from faust.worker import Worker
from faust.worker.clock import SYSTEM_CLOCK, Clock
from faust.worker.errors import AgentFailure
from faust.worker.state import DataDirectory

APPS = Path(__file__).parent / "apps"
_names = itertools.count()


def load_app(name: str) -> ModuleType:
    """A fresh copy of ``tests/apps/<name>.py`` (its own App and tables)."""
    module_name = f"{name}_{next(_names)}"
    spec = importlib.util.spec_from_file_location(module_name, APPS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def payment(i: int, account: str, amount: int) -> tuple[bytes, bytes]:
    return account.encode(), json.dumps({"id": i, "account": account, "amount": amount}).encode()


def run_worker(app: App, transport: MemoryTransport, clock: Clock = SYSTEM_CLOCK) -> Worker:
    worker = Worker(app, transport=transport, stop_when_idle=True, clock=clock)
    asyncio.run(worker.run())
    return worker


def changelog_view(transport: MemoryTransport, topic: str) -> dict[tuple[int, Any], Any]:
    """The compacted changelog: the last value of each key, per partition (None: deleted)."""
    view: dict[tuple[int, Any], Any] = {}
    for partition, log in enumerate(transport.broker.topics[topic]):
        for record in log:
            value = record.value()
            view[(partition, json.loads(record.key() or b"null"))] = (
                None if value is None else json.loads(value)
            )
    return {key: value for key, value in view.items() if value is not None}


PAYMENTS = [payment(i, f"acct-{i % 7}", i % 13) for i in range(300)]
EXPECTED_COUNTS = Counter(f"acct-{i % 7}" for i in range(300))
EXPECTED_TOTALS = {
    account: sum(i % 13 for i in range(300) if f"acct-{i % 7}" == account)
    for account in EXPECTED_COUNTS
}


def feed(transport: MemoryTransport, records: list[tuple[bytes, bytes]]) -> None:
    transport.broker.create_topic("payments", 4)
    for key, value in records:
        transport.broker.append("payments", key, value)


def test_one_changelog_record_per_key_per_commit() -> None:
    counting = load_app("counting")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS)
    run_worker(counting.app, transport)
    counts = changelog_view(transport, "counting-counts-changelog")
    assert {account: n for (_, account), n in counts.items()} == EXPECTED_COUNTS
    totals = changelog_view(transport, "counting-totals-changelog")
    assert {account: n for (_, account), n in totals.items()} == EXPECTED_TOTALS
    # one commit (at the end), so one record per key of each partition, not one per write
    assert len(transport.broker.records("counting-counts-changelog")) == len(EXPECTED_COUNTS)
    assert counting.counts_table.copy() == EXPECTED_COUNTS
    assert transport.broker.end_offsets("payments") == [
        transport.broker.committed[("counting", "payments", p)] for p in range(4)
    ]


def test_a_new_worker_restores_the_tables_and_goes_on() -> None:
    counting = load_app("counting")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS[:100])
    run_worker(counting.app, transport)
    feed(transport, PAYMENTS[100:])
    run_worker(counting.app, transport)  # memory stores: restored from the changelog
    assert counting.counts_table.copy() == EXPECTED_COUNTS
    assert counting.totals_table.copy() == EXPECTED_TOTALS


def test_rocksdb_restores_only_what_it_has_not_applied(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    counting = load_app("counting")
    counting.app.conf.store = "rocksdb://"
    counting.app.conf.datadir = str(tmp_path / "data")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS[:100])
    run_worker(counting.app, transport)
    assert sorted(p.name for p in (tmp_path / "data" / "tables" / "counts").iterdir()) == [
        "0",
        "1",
        "2",
        "3",
    ]
    feed(transport, PAYMENTS[100:])
    with caplog.at_level(logging.INFO, logger="faust.recovery"):
        run_worker(counting.app, transport)
    # everything it needed was already in RocksDB, with the offset it had applied
    assert "recovered 8 table partitions: 0 changelog record(s)" in caplog.text
    assert rocksdb_contents(counting.counts_table, tmp_path / "data") == EXPECTED_COUNTS
    assert rocksdb_contents(counting.totals_table, tmp_path / "data") == EXPECTED_TOTALS
    assert changelog_counts(transport) == EXPECTED_COUNTS


def rocksdb_contents(table: Any, datadir: Path) -> dict[Any, Any]:
    """Every partition of ``table`` in ``datadir`` (after the worker stopped)."""
    contents: dict[Any, Any] = {}
    for path in sorted((datadir / "tables" / table.name).iterdir()):
        store = RocksDBStore(path, table.codec, int(path.name))
        contents.update(store.items())
        store.close()
    return contents


def changelog_counts(transport: MemoryTransport) -> dict[str, int]:
    return {a: n for (_, a), n in changelog_view(transport, "counting-counts-changelog").items()}


def test_rocksdb_state_ahead_of_its_changelog_is_discarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker lost the changelog (a new cluster, a recreated topic): the local state
    claims offsets the changelog does not have, so it is wiped and restored from scratch."""
    counting = load_app("counting")
    counting.app.conf.store = "rocksdb://"
    counting.app.conf.datadir = str(tmp_path / "data")
    first = MemoryTransport.named(f"tables-{next(_names)}")
    feed(first, PAYMENTS)
    run_worker(counting.app, first)
    second = MemoryTransport.named(f"tables-{next(_names)}")
    feed(second, PAYMENTS[:50])
    with caplog.at_level(logging.WARNING):
        run_worker(counting.app, second)
    assert "discarding the local state and restoring from the start" in caplog.text
    assert changelog_counts(second) == Counter(f"acct-{i % 7}" for i in range(50))


def test_exactly_once_publishes_on_commit_and_is_fenced(tmp_path: Path) -> None:
    counting = load_app("counting")
    counting.app.conf.processing_guarantee = "exactly_once"
    counting.app.conf.datadir = str(tmp_path / "data")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS)
    run_worker(counting.app, transport)
    assert len(transport.broker.records("receipts")) == len(PAYMENTS)
    assert changelog_counts(transport) == EXPECTED_COUNTS
    assert [transport.broker.committed[("counting", "payments", p)] for p in range(4)] == (
        transport.broker.end_offsets("payments")
    )

    # a newer producer with the worker's transactional id fences it: it stops, and what
    # it produced since its last commit is never published
    feed(transport, PAYMENTS)
    zombie = Worker(counting.app, transport=transport)

    async def run_until_fenced() -> None:
        task = asyncio.create_task(zombie.run())
        while zombie._state is None or zombie._producer is None:
            await asyncio.sleep(0)
        newer = transport.producer(transactional_id=f"counting-{zombie._state.worker_id}")
        newer.init_transactions(1)
        await task

    receipts_before = len(transport.broker.records("receipts"))
    with pytest.raises((TransactionFailed, AgentFailure), match="fenced"):
        asyncio.run(run_until_fenced())
    assert len(transport.broker.records("receipts")) == receipts_before


def test_windows_expire_after_recovery_and_close_once() -> None:
    windowed = load_app("windowed")
    per_page = windowed.per_page_table.table
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    transport.broker.create_topic("views", 2)
    for page, at in [("home", 1001.0), ("home", 1002.0), ("about", 1003.0), ("home", 1011.0)]:
        value = json.dumps({"page": page, "user": "u", "at": at}).encode()
        transport.broker.append("views", page.encode(), value, timestamp_ms=int(at * 1000))
    run_worker(windowed.app, transport, WallClock(1020.0))  # every window is live
    assert transport.broker.records("closed-windows") == []
    assert per_page.clock() == 1020.0  # windows expire by the worker's clock
    # all of them expired while no worker ran: restored from the changelog, then expired
    run_worker(windowed.app, transport, WallClock(1100.0))
    closed = sorted(r.value() for r in transport.broker.records("closed-windows"))
    assert closed == [
        b'"about@1000-1009.9=1"',
        b'"home@1000-1009.9=2"',
        b'"home@1010-1019.9=1"',
    ]
    # the tombstones were committed: nothing to close
    run_worker(windowed.app, transport, WallClock(1100.0))
    assert len(transport.broker.records("closed-windows")) == 3
    assert per_page.copy() == {}


def test_a_table_narrower_or_wider_than_its_source_is_an_error_at_start() -> None:
    counting = load_app("counting")
    counting.counts_table.partitions = 2
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS[:10])
    with pytest.raises(PartitionsMismatch, match="declares partitions=2"):
        run_worker(counting.app, transport)
    counting.counts_table.partitions = 8  # wider: routes would place keys by 8, not 4
    with pytest.raises(PartitionsMismatch, match=r"declares partitions=8, .* has 4 partitions"):
        run_worker(counting.app, transport)
    counting.counts_table.partitions = None
    transport.ensure_topics([TopicSpec("counting-totals-changelog", 8)], 1)
    with pytest.raises(PartitionsMismatch, match="has 8 partitions, but the table needs 4"):
        run_worker(counting.app, transport)
    assert transport.broker.records("receipts") == []


def test_one_worker_per_data_directory(tmp_path: Path) -> None:
    first = DataDirectory(tmp_path / "data")
    first.lock()
    worker_id = first.worker_id
    with pytest.raises(StateDirectoryLocked, match="in use by worker pid"):
        DataDirectory(tmp_path / "data").lock()
    first.release()
    again = DataDirectory(tmp_path / "data")
    again.lock()
    assert again.worker_id == worker_id  # a restart is the same worker
    again.release()


def test_a_global_table_is_restored_whole_and_follows_its_changelog() -> None:
    rates = load_app("rates")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    transport.broker.create_topic("rate-updates", 2)
    for currency, rate in [("EUR", 1.1), ("GBP", 1.3), ("JPY", 0.007), ("EUR", 1.2)]:
        transport.broker.append("rate-updates", currency.encode(), json.dumps(rate).encode())
    run_worker(rates.app, transport)
    changelog = transport.broker.records("rates-rates-changelog")
    assert {json.loads(r.key() or b"") for r in changelog} == {"EUR", "GBP", "JPY"}
    # another worker holds every partition of the global table before its first message
    transport.broker.create_topic("orders", 2)
    for i, currency in enumerate(["EUR", "GBP", "JPY", "USD"]):
        order = {"id": i, "currency": currency, "amount": 10.0}
        transport.broker.append("orders", str(i).encode(), json.dumps(order).encode())
    run_worker(rates.app, transport)
    converted = sorted(
        json.loads(r.value() or b"").rsplit(":", 1)[0]
        for r in transport.broker.records("converted")
    )
    assert converted == ["0:EUR:1.2", "1:GBP:1.3", "2:JPY:0.007", "3:USD:None"]
    assert rates.rates_table.copy() == {"EUR": 1.2, "GBP": 1.3, "JPY": 0.007}


def test_on_recover_runs_after_the_tables_are_restored() -> None:
    counting = load_app("counting")
    seen: list[dict[str, int]] = []

    @counting.counts_table.on_recover
    async def restored() -> None:
        seen.append(counting.counts_table.copy())

    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS)
    run_worker(counting.app, transport)
    run_worker(counting.app, transport)
    assert seen == [{}, EXPECTED_COUNTS]  # empty at first, then the restored counts


def test_a_table_writes_and_restores_the_changelog_topic_the_app_names() -> None:
    """``app.Table(..., changelog_topic=app.topic(...))``, as in Faust: the named topic is
    the changelog (its name, partitions and configuration), created with the changelogs."""
    name = f"tables-{next(_names)}"
    app = App("named-changelog", broker=f"memory://{name}")
    payments = app.topic("payments", key_type=str, partitions=4)
    history = app.topic("balances-history", partitions=4, compacting=True, retention=3600)
    balances = app.Table("balances", default=int, changelog_topic=history)

    @app.agent(payments)
    async def post(stream: Any) -> None:
        async for value in stream:
            balances[value["account"]] += value["amount"]

    assert balances.changelog_topic_name == "balances-history" and balances.partitions == 4
    transport = MemoryTransport.named(name)
    feed(transport, PAYMENTS[:100])
    run_worker(app, transport)
    assert "named-changelog-balances-changelog" not in transport.broker.topics
    (spec,) = TableManager(app, transport, data_directory=None).changelog_specs(
        {"payments": 4}, 8, 1
    )
    assert (spec.name, spec.partitions) == ("balances-history", 4)
    assert dict(spec.config) == {"cleanup.policy": "compact", "retention.ms": "3600000"}
    expected = Counter[str]()
    for key, value in PAYMENTS[:100]:
        expected[key.decode()] += json.loads(value)["amount"]
    view = changelog_view(transport, "balances-history")
    assert {account: total for (_, account), total in view.items()} == expected
    feed(transport, PAYMENTS[100:])
    run_worker(app, transport)  # restored from the named changelog, then goes on
    assert balances.copy() == EXPECTED_TOTALS


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_a_commit_whose_offsets_were_refused_is_not_counted_twice(
    tmp_path: Path, store: str, caplog: pytest.LogCaptureFixture
) -> None:
    """At-least-once: a commit made its changes durable (changelog, RocksDB), then the
    group refused its offsets (the worker had left the group). Whoever restores the tables
    next (from RocksDB, or from the changelog alone) resumes where they are, not at the
    older committed offsets, and counts nothing twice."""
    counting = load_app("counting")
    counting.app.conf.store = store
    counting.app.conf.datadir = str(tmp_path / "data")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    feed(transport, PAYMENTS[:100])
    run_worker(counting.app, transport)
    refused = {p: transport.broker.committed[("counting", "payments", p)] for p in range(4)}
    feed(transport, PAYMENTS[100:])
    run_worker(counting.app, transport)
    for partition, offset in refused.items():  # the second run's offsets never made it
        transport.broker.committed[("counting", "payments", partition)] = offset
    with caplog.at_level(logging.INFO, logger="faust.worker"):
        run_worker(counting.app, transport)
    assert "past the committed offset" in caplog.text
    assert changelog_counts(transport) == EXPECTED_COUNTS
    if store == "rocksdb://":
        assert rocksdb_contents(counting.counts_table, tmp_path / "data") == EXPECTED_COUNTS
    else:
        assert counting.counts_table.copy() == EXPECTED_COUNTS
    assert len(transport.broker.records("receipts")) == len(PAYMENTS)  # none sent again
    assert transport.broker.end_offsets("payments") == [
        transport.broker.committed[("counting", "payments", p)] for p in range(4)
    ]


def test_resume_positions_of_a_commit_that_only_partly_arrived() -> None:
    """Two tables, one commit wrote both, but only one table's records arrived: the
    earliest positions of the two, so nothing is skipped that a table lacks."""
    from faust.tables.stores import Positions

    counting = load_app("counting")
    transport = MemoryTransport.named(f"tables-{next(_names)}")
    tables = TableManager(counting.app, transport, data_directory=None)
    tables.partition_counts = {t.changelog_topic_name: 4 for t in tables.tables}
    tables.attach()
    counts, totals = (counting.counts_table._open_store(0), counting.totals_table._open_store(0))
    counts.positions = Positions({"payments": 90}, 2)
    totals.positions = Positions({"payments": 90}, 2)
    assert tables.resume_positions(0) == {"payments": 90}
    totals.positions = Positions({"payments": 60}, 2)  # its part of the commit at 90 is lost
    assert tables.resume_positions(0) == {"payments": 60}
    totals.positions = Positions({"payments": 60}, 1)  # not written since 60: complete
    counts.positions = Positions({"payments": 90}, 1)
    assert tables.resume_positions(0) == {"payments": 90}
    totals.positions, totals.offsets = None, {0: 5}  # changes of unknown positions
    assert tables.resume_positions(0) == {}
    assert Positions.decode(Positions({"t": 3}, 2).encode()) == Positions({"t": 3}, 2)
    assert Positions.decode(b"not json") is None


@pytest.mark.parametrize("store_kind", ["memory", "rocksdb"])
def test_a_store_knows_positions_only_from_a_commits_last_record(
    tmp_path: Path, store_kind: str
) -> None:
    """Only a commit's last changelog record of a partition carries the positions, so a
    store restored from a prefix of a commit's records (the rest never arrived) does not
    claim that commit's positions."""
    from faust.tables.stores import POSITIONS_HEADER, MemoryStore, Positions, TableCodec
    from faust.transport.memory import MemoryMessage

    codec = TableCodec(str, int, "json", "json")
    store = (
        MemoryStore(codec, 0)
        if store_kind == "memory"
        else RocksDBStore(tmp_path / "counts" / "0", codec, 0)
    )
    marks = Positions({"payments": 40}, 1)
    header = [(POSITIONS_HEADER, marks.encode())]

    def record(offset: int, key: str, headers: Any = None) -> Any:
        return MemoryMessage("c", 0, offset, json.dumps(key).encode(), b"1", headers, 0)

    store.apply_changelog([record(0, "a"), record(1, "b", header)])  # a whole commit
    assert store.positions == marks
    store.apply_changelog([record(2, "c")])  # the first record of the next commit only
    assert store.positions is None
    store.close()
    if store_kind == "rocksdb":  # and so says the database
        reopened = RocksDBStore(tmp_path / "counts" / "0", codec, 0)
        assert reopened.positions is None
        reopened.close()
