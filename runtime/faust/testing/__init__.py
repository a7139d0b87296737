"""Testing a Faust app without a broker: one agent, or the whole app.

- ``agent.test_context()`` (:class:`AgentTestContext`, ``context.py``): Faust's API, one
  agent run in-process; ``put``, ``results``, ``records``, ``ask``.
- :class:`AppDriver` (``driver.py``): the whole app on the real worker over an in-memory
  broker, time moved by hand (:class:`ManualClock`, ``clock.py``). ``faustc.testing``'s
  ``TestDriver`` runs the built worker the same way. Example::

    from faust.testing import AppDriver

    with AppDriver(app) as driver:
        driver.send("words", key="faust", value="faust")
        driver.run()
        assert driver.table("word-counts")["faust"] == 1
"""

from faust.testing.clock import ManualClock
from faust.testing.context import AgentTestContext
from faust.testing.driver import AppDriver, DeadLetter, SentMessage

__all__ = ["AgentTestContext", "AppDriver", "DeadLetter", "ManualClock", "SentMessage"]
