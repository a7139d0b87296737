"""Writing Python: the one emitter (``emitter``), the worker module (``worker``), each fused
agent (``agent``). Only this package and ``faustc.codecs`` write code, and only from a plan.
Example::

    text = write_worker(plan)
"""
