"""The worker: what runs an App's agents against a broker.

``worker.py`` starts the app and runs the poll loop; ``routes.py`` hands batches to the
stream consumers, ``runner.py`` drives each agent; ``commit.py`` is the commit protocol;
``topic_setup.py`` creates the topics before subscribing; ``rebalance.py`` handles
partitions coming and going; ``schedule.py`` runs timers, crontabs and tasks on the
``clock.py`` clock; ``sensors.py`` is what it reports to sensors, ``reports.py``
what it logs at intervals; ``errors.py`` applies the error
policy; ``state.py`` is the data directory; ``cli.py`` the command line shared by
``app.main()`` and built workers; ``app_module.py`` finds the app module of a moved build.
Example::

    from faust.worker import Worker
    await Worker(app).run()
"""

from faust.worker.errors import AgentFailure, ErrorPolicy
from faust.worker.runner import AgentRunner
from faust.worker.worker import Worker

__all__ = ["AgentFailure", "AgentRunner", "ErrorPolicy", "Worker"]
