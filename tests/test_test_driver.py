"""faustc.testing.TestDriver: the built worker driven broker-free, as a user's tests use it.

Every example app runs compiled and on the reference runtime with the same input, and
both give the same records on every topic and the same tables; time-driven behaviour
(timers, crontabs, ``take(within=)``, window expiry and ``on_window_close``) follows
``advance_time`` without sleeping; each driver starts from empty state; failures,
dead letters, headers, timestamps, ``ask`` and RocksDB tables behave as in a worker.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES
from faustc.testing import BuildFailed, TestDriver
from faustc.testing.driver import build_for_test

APPS = Path(__file__).parent / "apps"
#: an hour boundary (UTC), so crontabs and windows start at known times
T0 = 1_699_999_200.0


def outputs(driver: TestDriver, inputs: set[str]) -> dict[str, Any]:
    """Every topic but the inputs, decoded, and every table, as data."""
    result: dict[str, Any] = {
        topic: driver.records(topic)
        for topic in sorted(driver.broker.topics)
        if topic not in inputs
    }
    for name, table in driver.app.tables.items():
        result[f"table:{name}"] = dict(table.items())
    return result


Script = Callable[[TestDriver, Any], None]


def run_both(app_file: Path, script: Script, inputs: set[str]) -> dict[str, Any]:
    """Run ``script(driver, module)`` compiled and not; assert both agree; return one."""
    results = []
    for compiled in (True, False):
        with TestDriver(app_file, compiled=compiled, start_time=T0) as driver:
            script(driver, driver.app_module)
            results.append(outputs(driver, inputs))
    compiled_run, reference_run = results
    assert compiled_run == reference_run
    return compiled_run


def wordcount(driver: TestDriver, app: Any) -> None:
    for word in ["kafka", "faust", "kafka", "ü", ""]:
        driver.send("words", key=word, value=word)
    driver.run()


def big_orders(driver: TestDriver, app: Any) -> None:
    for number, amount in enumerate([1500.0, 999.99, 1000.0, 20.0]):
        driver.send(
            "orders",
            key=f"acct-{number % 2}",
            value=app.Order(f"o{number}", f"acct-{number % 2}", amount),
        )
    driver.run()


def avro_orders(driver: TestDriver, app: Any) -> None:
    for number, status in enumerate([app.Status.NEW, app.Status.PAID, app.Status.SHIPPED]):
        order = app.Order(
            order_id=uuid.UUID(int=number),
            account_id=f"acct-{number}",
            placed_at=datetime.datetime(2024, 5, 1, 12, number, tzinfo=datetime.UTC),
            status=status,
            lines=[
                app.Line("sku-1", 3, decimal.Decimal("400.00")),
                app.Line("sku-2", 1, decimal.Decimal("0.50")),
            ],
            tags={"channel": "web"},
        )
        driver.send("avro-orders", key=order.account_id, value=order)
    driver.run()


def order_batches(driver: TestDriver, app: Any) -> None:
    for number in range(250):
        driver.send(
            "batch-orders", key=f"acct-{number % 7}", value=app.Order(f"o{number}", float(number))
        )
    driver.run()  # two lists of 100; 50 wait for `within`
    driver.advance_time(1.0)


def withdrawals(driver: TestDriver, app: Any) -> None:
    for number in range(12):
        user = ["alice", "bob", "carol"][number % 3]
        driver.send(
            "withdrawals",
            key=f"acct-{number}",
            value=app.Withdrawal(user, f"acct-{number}", 2800.0 - 300 * (number % 2)),
        )
    driver.send("withdrawals", key="acct-x", value=app.Withdrawal("bob", "acct-x", -5.0))
    driver.run()
    driver.advance_time(10.0)


def shop(driver: TestDriver, app: Any) -> None:
    for number, amount in enumerate([1500.0, 20.0, 5.0, 1000.0]):
        driver.send(
            "orders",
            key=f"acct-{number % 2}",
            value=app.Order(f"o{number}", f"acct-{number % 2}", amount),
        )
    driver.run()
    driver.advance_time(121.0)  # the minute closes and expires


EXAMPLE_SCRIPTS: dict[str, tuple[Script, set[str]]] = {
    "avro_orders.py": (avro_orders, {"avro-orders"}),
    "big_orders.py": (big_orders, {"orders"}),
    "order_batches.py": (order_batches, {"batch-orders"}),
    "shop.py": (shop, {"orders"}),
    "withdrawals.py": (withdrawals, {"withdrawals"}),
    "wordcount.py": (wordcount, {"words"}),
}


def test_every_example_has_a_script() -> None:
    assert sorted(EXAMPLE_SCRIPTS) == sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("example", sorted(EXAMPLE_SCRIPTS))
def test_examples_compiled_and_reference_agree(example: str) -> None:
    script, inputs = EXAMPLE_SCRIPTS[example]
    result = run_both(EXAMPLES / example, script, inputs)
    assert any(records for name, records in result.items() if not name.endswith("-changelog"))


def test_what_the_examples_computed() -> None:
    result = run_both(EXAMPLES / "order_batches.py", order_batches, {"batch-orders"})
    totals = [total for _, total in result["batch-totals"]]
    assert [t.count for t in totals] == [100, 100, 50]
    assert sum(t.total for t in totals) == sum(range(250))
    result = run_both(EXAMPLES / "withdrawals.py", withdrawals, {"withdrawals"})
    assert result["table:user-totals"] == {"alice": 10600.0, "bob": 10600.0, "carol": 10600.0}
    assert sorted(key for key, _ in result["withdrawal-alerts"]) == ["alice", "bob", "carol"]
    result = run_both(EXAMPLES / "wordcount.py", wordcount, {"words"})
    assert result["table:word-counts"] == {"kafka": 2, "faust": 1, "ü": 1, "": 1}


def test_time_moves_only_by_advance_time() -> None:
    def script(driver: TestDriver, app: Any) -> None:
        driver.send("clocked-events", key="a", value=1)
        driver.send("clocked-events", key="b", value=2)
        driver.run()
        assert driver.records("clocked-batches") == []  # take(3, within=5): waiting
        driver.advance_time(4.9)
        assert driver.records("clocked-batches") == []
        assert driver.records("clocked-closed") == []
        driver.advance_time(0.1)
        assert driver.records("clocked-batches") == [(None, 3)]
        assert driver.records("clocked-ticks") == []
        driver.advance_time(20.0)  # the timer at 10 s and 20 s; the window [0, 10) expired
        assert driver.records("clocked-ticks") == [(None, "tick"), (None, "tick")]
        assert sorted(driver.records("clocked-closed")) == [("a", 1), ("b", 2)]
        driver.advance_time(3600.0)  # the crontab's hour, once, among 360 more ticks
        ticks = [value for _, value in driver.records("clocked-ticks")]
        assert ticks.count("hour") == 1 and ticks.count("tick") == 362

    run_both(APPS / "clocked.py", script, {"clocked-events"})


def test_every_driver_starts_empty() -> None:
    for compiled in (True, False, True):
        with TestDriver(EXAMPLES / "wordcount.py", compiled=compiled) as driver:
            assert dict(driver.table("word-counts").items()) == {}
            assert driver.records("words") == []
            driver.send("words", key="faust", value="faust")
            driver.run()
            assert dict(driver.table("word-counts").items()) == {"faust": 1}
        # after the driver: still readable
        assert dict(driver.table("word-counts").items()) == {"faust": 1}


def test_a_crash_under_fail_raises_the_agents_own_exception() -> None:
    for compiled in (True, False):
        with TestDriver(APPS / "failing.py", compiled=compiled) as driver:
            driver.send("failing-in", key="k", value=-1)
            with pytest.raises(ValueError, match="negative: -1") as caught:
                driver.run()
            notes = "\n".join(getattr(caught.value, "__notes__", []))
            assert "failing.py:22" in notes, notes  # the user's line, compiled or not
            assert "failing-in[" in notes
            with pytest.raises(RuntimeError, match="the app failed"):
                driver.run()


def test_dead_letters_and_skips_are_visible() -> None:
    for compiled in (True, False):
        with TestDriver(APPS / "failing.py", compiled=compiled) as driver:
            driver.send("lenient-in", key="a", value=5)
            driver.send("lenient-in", key="b", value=-5)
            driver.send("lenient-in", key="c", value=b"not json")  # fails to decode
            driver.send("skipping-in", key="d", value=-1)
            driver.run()
            letters = driver.dead_letters("lenient-in")
            assert sorted(letter.key for letter in letters) == [b"b", b"c"]
            by_key = {letter.key: letter for letter in letters}
            assert by_key[b"b"].error == "ValueError: negative: -5"
            assert by_key[b"b"].source == "failing.py:31"
            assert by_key[b"b"].value == b"-5"
            assert by_key[b"c"].error.startswith("ValueDecodeError: cannot decode value as int")
            assert driver.records("lenient-out") == [("a", 5)]
            assert driver.policies["failing.skipping"].skipped == 1


def test_headers_timestamps_and_ask() -> None:
    for compiled in (True, False):
        with TestDriver(APPS / "failing.py", compiled=compiled, start_time=T0) as driver:
            driver.send("echo-in", key="k", value=7, headers={"trace": "abc"}, timestamp=T0 - 60)
            driver.run()
            (echoed,) = driver.messages("echo-out")
            assert echoed.value == [7, "abc", T0 - 60]
            assert driver.ask("failing.echo", 8) == [8, None, T0]


def test_rocksdb_tables_in_a_temporary_directory() -> None:
    with TestDriver(EXAMPLES / "wordcount.py", store="rocksdb://") as driver:
        directory = Path(driver.app.conf.data_directory)
        driver.send("words", key="faust", value="faust")
        driver.run()
        assert driver.table("word-counts")["faust"] == 1
        assert list(directory.glob("tables/word-counts/*"))
    assert not directory.exists()
    assert driver.app.conf.store == "memory://"  # the app's own setting is back


def test_builds_are_cached_and_bad_apps_say_why(tmp_path: Path) -> None:
    assert build_for_test(EXAMPLES / "wordcount.py") is build_for_test(EXAMPLES / "wordcount.py")
    bad = tmp_path / "bad_app.py"
    bad.write_text(
        "import faust\napp = faust.App('bad')\n\n@app.agent(nowhere)\n"
        "async def f(stream: faust.Stream[str]) -> None:\n"
        "    async for x in stream:\n        pass\n"
    )
    with pytest.raises(BuildFailed, match=r"bad_app.py:4:\d+: error: .*\[FC\d+\]"):
        TestDriver(bad)


def test_the_plugin_fixture(faustc_driver: Callable[..., TestDriver]) -> None:
    driver = faustc_driver("examples/wordcount.py", compiled=False)
    driver.send("words", key="faust", value="faust")
    driver.run()
    assert driver.table("word-counts")["faust"] == 1


def test_the_worker_shares_the_module_the_test_imported(tmp_path: Path) -> None:
    """The built worker runs the app module the test imported (one App, one table); a
    file the test imported under another name than faustc's is refused in one line."""
    import importlib
    import importlib.util
    import sys

    app_file = tmp_path / "counting_words.py"
    app_file.write_text((EXAMPLES / "wordcount.py").read_text().replace("word-count-app", "cw"))
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("counting_words")
        with TestDriver(app_file, typecheck=False) as driver:
            assert driver.app is module.app
            driver.send("words", key="faust", value="faust")
            driver.run()
        assert module.word_counts_table["faust"] == 1
    finally:
        sys.path.remove(str(tmp_path))

    other = tmp_path / "other_words.py"
    other.write_text(app_file.read_text().replace('"cw"', '"ow"'))
    spec = importlib.util.spec_from_file_location("renamed_words", other)
    assert spec is not None and spec.loader is not None
    renamed = importlib.util.module_from_spec(spec)
    sys.modules["renamed_words"] = renamed
    spec.loader.exec_module(renamed)
    with pytest.raises(ImportError, match=r"imported as 'renamed_words'.*'other_words'"):
        TestDriver(other, typecheck=False)
    del sys.modules["renamed_words"]


async def test_the_driver_from_an_async_test() -> None:
    """Its calls are plain calls inside a running event loop too (its worker has its own)."""
    with TestDriver(EXAMPLES / "wordcount.py", compiled=True) as driver:
        driver.send("words", key="faust", value="faust")
        driver.run()
        driver.advance_time(5.0)
        assert driver.table("word-counts")["faust"] == 1


def test_a_reference_driver_leaves_another_apps_generated_codecs_alone() -> None:
    """compiled=False turns the generated codecs off for its own app only: a built worker
    of another app, open at the same time, keeps its own."""
    with TestDriver(EXAMPLES / "big_orders.py") as built:
        topic = built.app.find_topic("orders")
        assert topic is not None
        assert topic.value_loader().__name__ == "loads_generated"
        with TestDriver(EXAMPLES / "wordcount.py", compiled=False):
            assert topic.value_loader().__name__ == "loads_generated"
        with pytest.raises(RuntimeError, match="already running"):
            TestDriver(EXAMPLES / "big_orders.py", compiled=False).start()
    with TestDriver(EXAMPLES / "big_orders.py", compiled=False):
        assert topic.value_loader().__name__ != "loads_generated"
    assert topic.value_loader().__name__ == "loads_generated"


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "reference"])
def test_on_produce_message_receivers_add_headers_to_every_record_sent(compiled: bool) -> None:
    """Faust's ``app.on_produce_message``: each record an agent sends goes to the receivers
    first (key, value, partition, timestamp, headers), and what they add is sent."""
    with TestDriver(APPS / "produce_headers.py", compiled=compiled) as driver:
        for amount in (1, 2, 3):
            driver.send("orders", value=amount)
        driver.run()
        sent = driver.messages("doubled")
        assert [m.value for m in sent] == [2, 4, 6]
        assert all(("stamped-by", b"produce-headers") in m.headers for m in sent)
