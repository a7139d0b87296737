"""A compiled send site writes what the generic path writes, for values of any type.

The fused loop writes a Record built only to be sent (``_ReadingOut``) with msgspec itself
when every value has its field's declared type, and a ``str`` key as its UTF-8 when the
topic's key dumper says it does the same (``Topic.key_dumper_is_text()``); anything else
goes to the generic dumpers. tests/apps/odd_sends.py sends values and keys of every type
(a str subclass, bool or float where an int is declared, ints beyond 64 bits, None, bytes,
lists ...): the compiled worker and the reference (generic codecs, no compiled agents)
must write the same bytes and meet the error policy at the same messages.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import Built, run_on_memory

from faust.transport.memory import MemoryTransport

APPS = Path(__file__).parent / "apps"


@pytest.fixture(scope="module")
def odd_sends(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(APPS / "odd_sends.py", tmp_path_factory.mktemp("build"))


def tags_of(built: Built) -> list[str]:
    return list(built.worker.app_module.ODD)


def run(built: Built, tags: list[dict[str, Any]], *, compiled: bool, policy: str) -> Any:
    """Every record the agents wrote (key and value bytes, per topic), the policy's log
    lines (agent, place, exception), and the failure that stopped the worker, if any."""

    def fill(transport: MemoryTransport) -> None:
        for each in tags:
            transport.broker.append("tags", b"k", json.dumps(each).encode(), partition=0)

    transport, records, stopped = run_on_memory(
        built, "odd-sends", fill, compiled=compiled, policy=policy
    )
    failure = None if stopped is None else _place(f"agent {type(stopped).__name__}: {stopped}")
    outputs = {
        name: [(m.key(), m.value()) for log in partitions for m in log]
        for name, partitions in transport.broker.topics.items()
        if name != "tags"
    }
    logged = sorted(_place(record.getMessage()) for record in records)
    return outputs, logged, failure


def _place(text: str) -> Any:
    found = re.search(r"agent (\S+) \(.*?\) on (\S+\[\d+\]@\d+): (\w+)", text)
    return found.groups() if found else text


def one_of_each(tags: list[str]) -> list[dict[str, Any]]:
    """Every tag in every place, the others plain (str and int where they are declared)."""
    plain: dict[str, Any] = {"name": "text", "count": "int", "limit": "none", "key": "text"}
    # __faust naming the Record (as written, or spelt another way) or another class: the
    # loop's inline view takes the struct, or hands the bytes to the view itself
    named = [{**plain, "__faust": {"ns": ns}} for ns in ("odd_sends.Tags", "odd_sends.Other")]
    named.append({**plain, "__faust": {"ns": "odd_sends.Tags", "x": 1}})
    return [plain, *named] + [{**plain, place: tag} for place in plain for tag in tags]


def test_every_type_in_every_place_writes_the_generic_bytes(odd_sends: Built) -> None:
    tags = one_of_each(tags_of(odd_sends))
    reference = run(odd_sends, tags, compiled=False, policy="skip")
    compiled = run(odd_sends, tags, compiled=True, policy="skip")
    assert compiled == reference
    outputs, logged, failure = compiled
    assert failure is None
    # the fast paths ran: plain values (msgspec), plain keys (UTF-8), JSON keys (the dumper)
    assert (
        b"text",
        b'{"name":"text","count":7,"limit":null,"__faust":{"ns":"odd_sends.Reading"}}',
    ) in outputs["readings"]
    assert (b"text", b'"text"') in outputs["text-keyed"]
    assert (b'"text"', b'"text"') in outputs["json-keyed"]
    # and the generic paths: a subclass key and value, a float count, a JSON-keyed None
    assert (
        b"sub",
        b'{"name":"sub","count":7,"limit":null,"__faust":{"ns":"odd_sends.Reading"}}',
    ) in outputs["readings"]
    assert any(b'"count":1e+16' in value for _, value in outputs["readings"])
    assert (b'"sub"', b'"text"') in outputs["json-keyed"]
    # what neither can write meets the policy, at the same messages
    kinds = {kind for _, _, kind in logged}
    assert logged and kinds <= {"TypeError", "JSONEncodeError", "UnicodeEncodeError"}, logged


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_mix_writes_the_generic_bytes(odd_sends: Built, data: st.DataObject) -> None:
    tag = st.sampled_from(tags_of(odd_sends))
    one = st.fixed_dictionaries({"name": tag, "count": tag, "limit": tag, "key": tag})
    tags = data.draw(st.lists(one, max_size=12))
    policy = data.draw(st.sampled_from(["skip", "fail"]))
    reference = run(odd_sends, tags, compiled=False, policy=policy)
    assert run(odd_sends, tags, compiled=True, policy=policy) == reference


def test_the_send_sites_are_the_inline_ones(odd_sends: Built) -> None:
    """The cases above go through the code this file is about (not the dumpers alone)."""
    readings = inspect.getsource(odd_sends.worker.fused_send_readings)
    assert "send_value = _encode_json(reading)" in readings
    assert "and -(2**63) <= reading.count < 2**64" in readings
    keys = inspect.getsource(odd_sends.worker.fused_send_keys)
    assert keys.count("given_key.encode()") == 2
    # both loops parse the Tags view inline (the runtime chose it)
    for source in (readings, keys):
        assert "value = _parse_tags_json(message.value())" in source


def test_a_topic_says_whether_its_key_dumper_writes_text(odd_sends: Built) -> None:
    module = odd_sends.worker.app_module
    assert module.readings.key_dumper_is_text()
    assert module.text_keyed.key_dumper_is_text()
    assert not module.json_keyed.key_dumper_is_text()  # KEYS = "json", read at run time
    for topic in (module.readings, module.json_keyed):
        dump = topic.key_dumper()
        assert (dump("ü") == "ü".encode()) is topic.key_dumper_is_text()
