"""The worker directory's rules without a broker (faust.web.directory, faust.web.router):
the latest claim of a partition wins, a tombstone forgets a worker, a worker trusts its
own assignment, and which bytes of a key decide its partition.
The directory on Kafka, with two workers: tests/test_table_routes_on_kafka.py."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka import TopicPartition

import faust
from faust.web.directory import WorkerDirectory
from faust.web.router import routing_key

ME = "http://127.0.0.1:7001/"
B = "http://127.0.0.1:7002/"
C = "http://127.0.0.1:7003/"


class Record:
    """What the directory reads from its topic: a confluent-kafka message's shape."""

    def __init__(self, url: str, assigned: dict[str, list[int]] | None, offset: int) -> None:
        self._key = url.encode()
        self._value = None if assigned is None else json.dumps({"url": url, "assigned": assigned})
        self._offset = offset

    def key(self) -> bytes:
        return self._key

    def value(self) -> Any:
        return None if self._value is None else self._value.encode()

    def offset(self) -> int:
        return self._offset


def directory() -> WorkerDirectory:
    app = faust.App("dir-test", broker="memory://", web_host="127.0.0.1", web_port=7001)
    return WorkerDirectory(app)


def test_the_latest_claim_of_a_partition_wins() -> None:
    found = directory()
    found._read(Record(B, {"orders": [0, 1, 2, 3]}, 0))  # B alone, then C joined
    found._read(Record(C, {"orders": [2, 3]}, 1))
    assert found.owner(0) == B and found.owner(2) == C
    found._read(Record(B, {"orders": [0, 1]}, 2))  # B's own later record gives 2, 3 up
    assert found.owner(2) == C and found.owner(1) == B
    assert found.snapshot() == {ME: {}, B: {"orders": [0, 1]}, C: {"orders": [2, 3]}}


def test_a_tombstone_forgets_a_worker_and_a_malformed_record_is_ignored() -> None:
    found = directory()
    found._read(Record(B, {"orders": [0]}, 0))
    found._read(Record(B, None, 1))
    assert found.owner(0) is None
    bad = Record(C, {}, 2)
    bad._value = "not json"
    found._read(bad)
    assert found.members == {}


def test_a_worker_trusts_its_own_assignment() -> None:
    found = directory()
    found._read(Record(ME, {"orders": [0, 1]}, 0))  # its own old record
    found.on_assigned([TopicPartition("orders", 3)])
    assert found.holds(3) and not found.holds(0)
    assert found.owner(0) is None  # never itself through the directory
    found.on_revoked([TopicPartition("orders", 3)])
    assert not found.holds(3)


def test_the_bytes_that_route_a_key() -> None:
    app = faust.App("dir-keys", broker="memory://")
    counts = app.Table("counts", default=int)
    assert routing_key(counts, "kafka") == b"kafka"
    assert routing_key(counts, b"\x00raw") == b"\x00raw"
    assert routing_key(counts, 42) == counts.codec.dump_key(42) == b"42"


def test_table_route_takes_one_way_to_find_the_key() -> None:
    app = faust.App("dir-route", broker="memory://")
    counts = app.Table("counts", default=int)
    try:
        app.table_route(counts)
    except TypeError as exc:
        assert "Need one of query_param, shard_param, or exact key" in str(exc)
    else:
        raise AssertionError("table_route without a key source was accepted")
