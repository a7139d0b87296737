"""The command line of a Faust app (``python app.py ...`` and every built worker), and the
API for an app's own commands: ``option``, ``argument``, ``AppCommand``, ``Command``.

Example::

    from faust.cli import AppCommand, argument, option

    @app.command(option("--count", type=int, default=1), argument("name"))
    async def greet(self: AppCommand, name: str, count: int) -> None:
        for _ in range(count):
            self.say(f"hello {name}")

``python app.py greet --count 2 Ada``. The modules: ``params`` (option, argument, log
levels), ``base`` (Command, AppCommand, running one), ``output`` (tables and JSON),
``logs`` (log levels, files and JSON lines), ``worker`` (the worker command),
``commands`` (send, agents, tables, models, model, reset), ``main`` (the group and its
errors).
"""

from faust.cli.base import AppCommand, Command
from faust.cli.params import argument, option

__all__ = ["AppCommand", "Command", "argument", "option"]
