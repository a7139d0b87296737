"""The rules the compiler and the runtime share, as pure functions and constants.

A built worker and the reference runtime must agree on the names of the topics an app
creates for itself and on what a stream operation means; each such rule lives here once.
The runtime uses these functions when it runs an app; ``faustc`` imports this module (it
imports nothing else from the runtime's internals) when it plans a worker, prints the IR
or draws the topology. Example::

    repartition_topic_name("shop.count", "orders", "Order.account")
    # 'shop.count-orders-Order.account-repartition'
    changelog_topic_name("shop", "totals")       # 'shop-totals-changelog'
    group_by_name("Order", "account")            # 'Order.account'
    changes_value("map")                          # True: the value after it is another
"""

from __future__ import annotations

#: the stream operations after which the value is no longer the one decoded from the topic
#: (a ``group_by`` after one of them sends the new value as JSON, not the source's bytes)
VALUE_CHANGING_OPERATIONS = ("map", "processor")


def repartition_topic_name(agent_name: str, source_topic: str, name: str) -> str:
    """The topic a ``group_by`` repartitions through, named as Faust names it:
    ``<agent name>-<source topic>-<name>-repartition`` (no agent name: no prefix)."""
    base = f"{source_topic}-{name}-repartition"
    return f"{agent_name}-{base}" if agent_name else base


def group_by_name(record: str, field: str) -> str:
    """The ``name`` of ``group_by(Record.field)`` when none is given: ``Record.field``."""
    return f"{record}.{field}"


def changelog_topic_name(app_id: str, table: str) -> str:
    """The changelog topic of a table: ``<app id>-<table>-changelog`` (as Faust and Kafka
    Streams name it, so the worker that owns a partition restores it from there)."""
    return f"{app_id}-{table}-changelog"


def changes_value(operation: str) -> bool:
    """Does the stream operation ``operation`` (``"map"``, ``"filter"`` ...) replace the
    value it is given?"""
    return operation in VALUE_CHANGING_OPERATIONS
