"""Table routes: a table's key read through either of two workers, on the real broker and
real HTTP (``faust.web.router``, ``faust.web.directory``).

tests/apps/routed.py, built, runs as two worker processes of one group over a topic of 4
partitions; each holds two partitions of the table ``totals``. Every key is read through
both workers by a routed function page (path parameter), a routed class view (query
parameter) and Faust's ``/table`` view: both must give the same value, made by the worker
that holds the key's partition (each answer names its worker), and ``/router`` must name
that worker on both. A request forwarded once is never forwarded again (503 naming the
worker), and a worker that died is named in the 503 of a request routed to it until the
group moves its partitions, after which the survivor answers every key.
"""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from faust.transport.partitioner import partition_for_key
from faustc.broker import EmbeddedBroker, free_port
from kafka_helpers import (
    WorkerProcess,
    build_app,
    create_topic,
    produce,
    wait_for_commit,
    wait_until,
)

pytestmark = pytest.mark.broker

APPS = Path(__file__).parent / "apps"
WORDS = 40
PARTITIONS = 4


def http(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw)


def answers(port: int, path: str) -> bool:
    try:
        return http(port, path)[0] == 200
    except (ConnectionError, urllib.error.URLError):
        return False


def test_a_table_key_reads_the_same_through_either_worker(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    app_id, topic = "routed-two", "amounts-routed-two"
    text = (APPS / "routed.py").read_text().replace('"routed"', f'"{app_id}"')
    source = tmp_path / "routed_two.py"
    source.write_text(text.replace('"amounts"', f'"{topic}"'))
    program = build_app(source, tmp_path)

    create_topic(broker.bootstrap, topic, PARTITIONS)
    # word i: i, then 1 -> total i + 1
    records: list[tuple[Any, ...]] = []
    for i in range(WORDS):
        records += [(f"w{i}".encode(), json.dumps(i).encode()), (f"w{i}".encode(), b"1")]
    ends = produce(broker.bootstrap, topic, records)

    ports = {"a": free_port(), "b": free_port()}
    urls = {name: f"http://127.0.0.1:{port}/" for name, port in ports.items()}
    workers: dict[str, WorkerProcess] = {}
    for name, port in ports.items():
        (tmp_path / name).mkdir()
        workers[name] = WorkerProcess(
            [
                str(program),
                "worker",
                "--broker",
                broker.bootstrap,
                "--datadir",
                str(tmp_path / name / "data"),
                "--web-port",
                str(port),
                "--web-host",
                "127.0.0.1",
                "--web-bind",
                "127.0.0.1",
            ],
            tmp_path / name,
        )
    a, b = ports["a"], ports["b"]
    try:
        wait_for_commit(broker.bootstrap, app_id, topic, ends, 90)
        changelog = f"{app_id}-totals-changelog"

        def settled() -> bool:
            """Both workers hold two partitions each and agree on who holds which."""
            views = [http(port, "/router/") for port in (a, b)]
            if any(status != 200 for status, _ in views) or views[0][1] != views[1][1]:
                return False
            held = {url: tables[changelog] for url, tables in views[0][1].items()}
            everything = sorted(p for partitions in held.values() for p in partitions)
            return held.keys() == set(urls.values()) and everything == [0, 1, 2, 3]

        wait_until(settled, 60, "both workers to agree on the table's partitions")
        held = {url: set(tables[changelog]) for url, tables in http(a, "/router/")[1].items()}
        assert all(len(partitions) == 2 for partitions in held.values()), held
        assert http(a, "/router/totals/")[1] == {
            url: {changelog: sorted(parts)} for url, parts in held.items()
        }

        # one word of each partition (each request costs a turn of two workers' loops)
        firsts: dict[int, int] = {}
        for i in range(WORDS):
            firsts.setdefault(partition_for_key(f"w{i}".encode(), PARTITIONS), i)
        assert sorted(firsts) == [0, 1, 2, 3]
        forwarded = {"a": 0, "b": 0}
        for partition, i in sorted(firsts.items()):
            word = f"w{i}"
            (owner,) = [url for url, partitions in held.items() if partition in partitions]
            expected = {"word": word, "total": i + 1, "worker": owner}
            for name, port in ports.items():
                assert http(port, f"/total/{word}/") == (200, expected), (name, word)
                assert http(port, f"/totals/?word={word}") == (200, expected), (name, word)
                assert http(port, f"/table/totals/{word}/") == (200, i + 1), (name, word)
                assert http(port, f"/router/totals/{word}/") == (200, owner), (name, word)
                if owner != urls[name]:
                    forwarded[name] += 1
        # each worker forwarded the keys the other holds
        assert forwarded["a"] > 0 and forwarded["b"] > 0, forwarded
        assert http(a, "/totals/") == (400, {"error": "the query parameter 'word' is missing"})
        assert http(a, "/table/") == (200, [{"name": "totals", "help": ""}])
        assert http(a, "/table/nope/w1/")[0] == 404

        # at most one hop: a request another worker forwarded is answered here or refused
        b_word = next(
            f"w{i}"
            for i in range(WORDS)
            if partition_for_key(f"w{i}".encode(), PARTITIONS) in held[urls["b"]]
        )
        status, body = http(a, f"/total/{b_word}/", {"Faust-Routed-From": "http://elsewhere:1/"})
        assert status == 503, body
        assert body["worker"] == urls["a"] and body["forwarded_by"] == "http://elsewhere:1/"
        assert f"worker {urls['a']} does not hold partition" in body["error"]

        # B dies without leaving the group: until the group moves B's partitions, A's
        # routes name B as the worker that did not answer; then A answers every key
        workers["b"].process.send_signal(signal.SIGKILL)
        workers["b"].process.wait(10)
        status, body = http(a, f"/total/{b_word}/")
        assert status == 503 and body["worker"] == urls["b"], body
        assert urls["b"] in body["error"] and "did not answer" in body["error"]
        wait_until(lambda: answers(a, f"/total/{b_word}/"), 60, "A to take over B's partitions")
        for i in firsts.values():
            word = f"w{i}"
            expected = {"word": word, "total": i + 1, "worker": urls["a"]}
            assert http(a, f"/total/{word}/") == (200, expected), word
    finally:
        codes = {name: worker.stop() for name, worker in workers.items()}
        for worker in workers.values():
            worker.kill()
    assert codes["a"] == 0, workers["a"].stderr
