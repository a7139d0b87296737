"""The tests of README "Testing your app", for examples/shop.py: what a user writes.

The built worker runs on the in-memory broker (``faustc.testing.TestDriver``); the clock
starts at a minute boundary and moves only when the test moves it.
"""

from __future__ import annotations

import sys

import pytest

from conftest import EXAMPLES
from faustc.testing import TestDriver

sys.path.insert(0, str(EXAMPLES))  # as in a user's project: the app module is importable

from shop import BigOrder, MinuteCount, Order, process_orders, totals

SHOP = EXAMPLES / "shop.py"
MINUTE = 1_700_000_040.0  # a minute boundary


@pytest.mark.parametrize("compiled", [True, False], ids=["built", "reference"])
def test_big_orders_totals_and_minutes(compiled: bool) -> None:
    with TestDriver(SHOP, compiled=compiled, start_time=MINUTE) as driver:
        driver.send("orders", key="acct-1", value=Order("o1", "acct-1", 1500.0))
        driver.send("orders", key="acct-1", value=Order("o2", "acct-1", 20.0))
        driver.run()  # until every agent is idle
        assert driver.records("big-orders") == [("acct-1", BigOrder("o1", "acct-1", 1500.0))]
        assert driver.table("totals")["acct-1"] == 1520.0

        driver.advance_time(60)  # the minute has ended, but has not expired yet
        assert driver.records("minute-counts") == []
        driver.advance_time(61)  # expired: on_window_close sent its count
        assert driver.records("minute-counts") == [("acct-1", MinuteCount("acct-1", MINUTE, 2))]


def test_each_test_starts_empty() -> None:
    with TestDriver(SHOP) as driver:
        assert dict(driver.table("totals").items()) == {}
        assert driver.records("big-orders") == []


async def test_the_agent_alone() -> None:
    async with process_orders.test_context() as agent:
        await agent.put(Order("o1", "acct-1", 1500.0), key="acct-1")
        assert totals["acct-1"] == 1500.0
        assert [order.order_id for order in agent.records("big-orders")] == ["o1"]
