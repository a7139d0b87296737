"""Standby replicas on the memory transport: followed, never shown, handed over warm.

A TableManager driven by hand (as the worker drives it at rebalances): another worker's
changelog records for a partition this one does not own arrive; the standby applies them
to the partition's RocksDB store, the table shows none of it; the partition moves here and
recovery replays nothing; it moves away and is followed again from where it stopped.
(``tests/test_standby_on_kafka.py`` does the same with real workers on the real broker.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from confluent_kafka import TopicPartition

import faust
from faust.exceptions import ImproperlyConfigured
from faust.tables.manager import TableManager
from faust.transport.memory import MemoryTransport


def counting_app(name: str, standbys: int, store: str = "rocksdb://") -> faust.App:
    app = faust.App(name, broker="memory://", store=store, table_standby_replicas=standbys)
    app.Table("counts", default=int, partitions=2)
    return app


def restore(tables: TableManager) -> None:
    async def run() -> None:
        while tables.restoring:
            await tables.recover_step()

    asyncio.run(run())


def test_a_standby_follows_what_it_does_not_own_and_hands_it_over(tmp_path: Path) -> None:
    app = counting_app("standby-unit", 1)
    counts = app.tables["counts"]
    transport = MemoryTransport.named("standby-unit")
    tables = TableManager(app, transport, data_directory=tmp_path)
    tables.changelog_specs({"payments": 2}, 8, 1)
    changelog = counts.changelog_topic_name
    transport.broker.create_topic(changelog, 2)
    tables.attach()

    def written_elsewhere(values: range) -> None:  # the owner of partition 1 commits
        for value in values:
            transport.broker.append(changelog, b'"k"', str(value).encode(), partition=1)

    written_elsewhere(range(1, 6))
    tables.on_assigned([TopicPartition("payments", 0)])
    assert tables.standby is not None
    assert tables.standby.followed() == {(changelog, 1)}
    tables.poll_standbys()
    assert tables.standby_records() == 0  # the partitions owned restore first
    restore(tables)
    tables.poll_standbys()
    assert tables.standby_records() == 5 and tables.standby_lag() == 0
    # the copy is not the table's: nothing of partition 1 is visible here
    assert set(counts._stores) == {0}
    assert dict(counts.items()) == {} and "k" not in counts

    # partition 1 moves here: the standby's open store is handed over, nothing replayed
    (warm,) = [store for (_, store) in tables.standby._stores.values()]
    replayed = tables.recovery_records()
    tables.on_assigned([TopicPartition("payments", 0), TopicPartition("payments", 1)])
    assert tables.standby.followed() == set()
    assert counts._stores[1] is warm and warm.offsets == {1: 4}
    restore(tables)
    assert tables.recovery_records() == replayed
    assert dict(counts.items()) == {"k": 5}

    # and away again (after a failure: a change it never committed is dropped): handed
    # back to the standby, followed from its stored offset on
    counts._stores[1].data["k"] = 99
    counts._stores[1].dirty.add("k")
    tables.on_revoked({0})
    assert set(counts._stores) == {0}
    assert tables.standby.followed() == {(changelog, 1)}
    assert tables.standby._stores[(changelog, 1)][1] is warm and not warm.dirty
    written_elsewhere(range(6, 9))
    tables.poll_standbys()
    assert tables.standby_records() == 5 + 3
    tables.on_assigned([TopicPartition("payments", 0), TopicPartition("payments", 1)])
    restore(tables)
    assert tables.recovery_records() == replayed
    assert dict(counts.items()) == {"k": 8}
    tables.close()


def test_no_standbys_by_default_nor_for_memory_tables(tmp_path: Path) -> None:
    for app in (counting_app("standby-off", 0), counting_app("standby-mem", 1, "memory://")):
        tables = TableManager(app, MemoryTransport.named(app.conf.id), data_directory=tmp_path)
        assert tables.standby is None
        tables.poll_standbys()
        assert tables.standby_records() == 0


def test_a_negative_number_of_standbys_is_one_line() -> None:
    with pytest.raises(ImproperlyConfigured, match="table_standby_replicas must be 0 or more"):
        counting_app("standby-bad", -1)
