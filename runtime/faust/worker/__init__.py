"""The worker: the consume/process/commit loop that runs an App's agents.

``runner.py`` drives one agent, ``errors.py`` applies the error policy, ``worker.py`` is the
loop, ``cli.py`` the command line shared by ``app.main()`` and built workers.
"""

from faust.worker.errors import AgentFailure, ErrorPolicy
from faust.worker.runner import AgentRunner
from faust.worker.worker import Worker

__all__ = ["AgentFailure", "AgentRunner", "ErrorPolicy", "Worker"]
