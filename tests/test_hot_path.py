"""The hot path the compiler specialises, against the reference runtime (issue 6).

A compiled send is a direct produce through ``App.sender()`` with the topic's encoders
bound once; a stage that reads only fields of its Record decodes the msgspec struct (a
"view") instead; an unused ``str`` key is still decoded so that a bad one meets the error
policy. None of it may change what comes out: the same records (keys, values, partitions,
timestamps, headers) and the same errors, with topic/partition/offset, under each policy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import Built, run_on_memory

from faust.transport.memory import MemoryProducer, MemoryTransport
from faustc.plan.passes import bind_locals

APPS = Path(__file__).parent / "apps"


@pytest.fixture(scope="module")
def hot_path(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "hot_path.py", tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def plain_hot_path(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The same app built from the plain plan: no pass but ``bind_locals``."""
    return Built(APPS / "hot_path.py", tmp_path_factory.mktemp("plain"), passes=(bind_locals,))


Inputs = list[tuple[bytes | None, bytes | None]]


def run(built: Built, payments: Inputs, *, compiled: bool, policy: str) -> dict[str, Any]:
    """Every output record (with partition and timestamp), and what the policy logged."""

    def fill(transport: MemoryTransport) -> None:
        for key, value in payments:
            transport.broker.append("payments", key, value, partition=0, timestamp_ms=1)

    transport, records, stopped = run_on_memory(
        built, "hot-path", fill, compiled=compiled, policy=policy
    )
    failure = None if stopped is None else f"{type(stopped).__name__}: {stopped}"
    outputs = {
        name: [
            [(m.key(), m.value(), _comparable(m.headers()), _stamp(name, m)) for m in log]
            for log in partitions
        ]
        for name, partitions in transport.broker.topics.items()
        if name != "payments"
    }
    logged = [_place(record.getMessage()) for record in records]
    return {"outputs": outputs, "logged": logged, "failure": _place(failure)}


#: the dead-letter headers whose text differs by design: the error message (the generated
#: decoder's words are msgspec's), its traceback, and where (the reference names the stream)
_WORDING = ("faust.error", "faust.error.traceback", "faust.source")


def _stamp(topic: str, message: Any) -> Any:
    """The timestamp a send set (``pinned``'s); others get the time of producing."""
    return message.timestamp() if topic == "pinned" else None


def _comparable(headers: list[tuple[str, bytes]] | None) -> Any:
    if headers is None:
        return None
    return [(name, value) for name, value in headers if name not in _WORDING]


def _place(text: str | None) -> Any:
    """``(agent, "topic[partition]@offset", exception class)`` of a policy's log line."""
    if text is None:
        return None
    found = re.search(r"agent (\S+) \(.*?\) on (\S+\[\d+\]@\d+): (\w+)", text)
    assert found is not None, text
    return found.groups()


payment = st.fixed_dictionaries(
    {
        "account": st.sampled_from(["a", "b", "ü", ""]),
        "amount": st.one_of(st.integers(-3, 50), st.just("12")),  # a str: fails to decode
        "note": st.sampled_from(["", "skip", "twin one", "x"]),
    }
)
keys = st.one_of(st.sampled_from([b"a", b"b", "ü".encode()]), st.none(), st.just(b"\xff\xfe"))
inputs = st.lists(st.tuples(keys, payment.map(lambda p: json.dumps(p).encode())), max_size=30)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payments=inputs, policy=st.sampled_from(["skip", "dead-letter"]))
def test_compiled_hot_path_equals_the_reference(
    hot_path: Built, payments: Inputs, policy: str
) -> None:
    reference = run(hot_path, payments, compiled=False, policy=policy)
    compiled = run(hot_path, payments, compiled=True, policy=policy)
    assert compiled == reference
    assert compiled["failure"] is None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payments=inputs, policy=st.sampled_from(["skip", "dead-letter"]))
def test_the_passes_keep_the_plain_plans_meaning(
    hot_path: Built, plain_hot_path: Built, payments: Inputs, policy: str
) -> None:
    """Every pass keeps the plan's meaning: the worker built from the plain plan (sends
    through send_soon, keys decoded one by one, Records not views, table updates as
    written) and the optimised one produce the same records and the same errors."""
    plain = run(plain_hot_path, payments, compiled=True, policy=policy)
    assert plain == run(hot_path, payments, compiled=True, policy=policy)
    assert plain["failure"] is None


def test_every_bad_message_meets_the_policy_with_its_place(hot_path: Built) -> None:
    good = json.dumps({"account": "a", "amount": 5, "note": "x"}).encode()
    payments: Inputs = [
        (b"a", good),
        (b"\xff", good),  # a key that is not UTF-8 (the key is never used)
        (b"a", b'{"account": "a", "amount": "5", "note": "x"}'),  # a str amount
        (b"a", json.dumps({"account": "a", "amount": 1, "note": "twin"}).encode()),
        (b"a", good),
        (b"a", None),  # a tombstone: no value to decode
    ]
    reference = run(hot_path, payments, compiled=False, policy="skip")
    compiled = run(hot_path, payments, compiled=True, policy="skip")
    assert compiled == reference
    logged = set(compiled["logged"])
    assert ("hot_path.summarise", "payments[0]@1", "KeyDecodeError") in logged
    assert ("hot_path.echo_notes", "payments[0]@1", "KeyDecodeError") in logged
    assert ("hot_path.summarise", "payments[0]@2", "ValueDecodeError") in logged
    assert ("hot_path.summarise", "payments[0]@5", "ValueDecodeError") in logged
    assert ("hot_path.echo_notes", "payments[0]@3", "ValueError") in logged  # several names
    summaries = [r for log in compiled["outputs"]["summaries"] for r in log]
    assert len(summaries) == 3  # messages 0, 3 and 4
    pinned = compiled["outputs"]["pinned"]
    assert [len(log) for log in pinned] == [0, 1, 2]  # partition = cents % 3: 100, 500, 500
    assert pinned[1][0][1] == b'"100"' and pinned[1][0][3] == (1, 1_700_000_000_500)
    assert pinned[1][0][2] == [("from", b"summarise")]
    failed = run(hot_path, payments, compiled=True, policy="fail")
    assert failed["failure"][1:] == ("payments[0]@1", "KeyDecodeError")


def test_a_direct_produce_that_raises_is_sent_again_once(
    hot_path: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the client's produce raises one of the errors ``direct()`` names (librdkafka:
    a full queue), the compiled loop hands the same bytes to ``send()``: every record
    comes out once, as from the reference."""
    refused: list[str] = []

    def direct(producer: MemoryProducer) -> Any:
        send = producer.send

        def produce(topic: str, value: bytes | None, key: bytes | None) -> None:
            if len(refused) % 2 == 0:
                refused.append(topic)
                raise BufferError("queue full")
            refused.append("")
            send(topic, key, value)

        return produce, (BufferError,)

    monkeypatch.setattr(MemoryProducer, "direct", direct)
    payments: Inputs = [
        (b"k%d" % i, json.dumps({"account": f"a{i}", "amount": i, "note": "n"}).encode())
        for i in range(20)
    ]
    compiled = run(hot_path, payments, compiled=True, policy="fail")
    assert [topic for topic in refused if topic], "no produce was refused"
    assert compiled == run(hot_path, payments, compiled=False, policy="fail")


odd_values = st.one_of(
    st.text(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(account=odd_values, cents=odd_values)
def test_the_json_struct_writes_the_bytes_of_the_record(
    hot_path: Built, account: Any, cents: Any
) -> None:
    """``encode_summary_out`` (tests/apps/hot_path.py's Summary built as its struct) writes
    the bytes the topic's dumper writes for the Summary, or raises what it raises: msgspec
    where every value has its field's type, the Summary itself for anything else (floats,
    ints beyond 64 bits, lists ...)."""
    worker = hot_path.worker
    dump = worker.summaries.value_dumper()
    try:
        expected: Any = dump(worker.Summary(account, cents))
    except Exception as exc:
        expected = (type(exc), str(exc))
    try:
        got: Any = worker.encode_summary_out(worker._SummaryOut(account, cents), dump)
    except Exception as exc:
        got = (type(exc), str(exc))
    assert got == expected
