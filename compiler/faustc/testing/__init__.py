"""Testing a Faust app as it runs in production: built by faustc, on an in-memory broker.

Example::

    from faustc.testing import TestDriver

    def test_big_orders():
        with TestDriver("shop/app.py") as driver:        # built like `faustc build`
            driver.send("orders", key="acct-1", value=Order("o1", "acct-1", 1500.0))
            driver.run()                                  # until every agent is idle
            assert driver.records("big-orders") == [("acct-1", BigOrder("o1", "acct-1", 150000))]
            driver.advance_time(60)                       # timers, windows, take(within=)

``driver.py`` is the driver (and its build cache); ``pytest_plugin.py`` is the pytest
plugin installed with faustc (the ``faustc_driver`` fixture, ``async def`` tests).
Importing this package imports the compiler; the plugin imports it only when a test asks
for the fixture.
"""

from faustc.testing.driver import BuildFailed, TestDriver, build_for_test

__all__ = ["BuildFailed", "TestDriver", "build_for_test"]
