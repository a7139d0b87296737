"""The rules the compiler and the runtime share, as pure functions and constants.

A built worker and the reference runtime must agree on the names of the topics and
consumer groups an app creates for itself and on what a stream operation means; each such
rule lives here once. The runtime uses these functions when it runs an app; ``faustc``
imports this module when it plans a worker, prints the IR, draws the topology or writes a
worker's line table (which the runtime reads back to cite the user's line of an error).
Every internal name starts with the app id, so ACLs granted on that prefix cover them.
Example::

    app_id("withdrawals", version=2)             # 'withdrawals-v2': Faust's id_format
    repartition_topic_name("shop.count", "orders", "Order.account")
    # 'shop.count-orders-Order.account-repartition'
    changelog_topic_name("shop", "totals")       # 'shop-totals-changelog'
    agent_topic_name("shop", "shop.audit")       # 'shop-shop.audit': @app.agent() has no topic
    consumer_group("shop")                       # 'shop': the worker's group is the app id
    router_topic_name("shop")                    # 'shop-__router': workers' URLs, partitions
    reply_topic_name("shop")                     # 'shop-reply' (agent.ask() replies)
    transactional_registry_topic_name("shop")    # 'shop-__transactional-ids'
    dead_letter_topic_name("orders")             # 'orders-dlq'
    group_by_name("Order", "account")            # 'Order.account'
    changes_value("map")                          # True: the value after it is another
    source_line(((10, 13, 5, 8),), 12)           # 7: a worker's line table, read back
"""

from __future__ import annotations

from collections.abc import Iterable

from faust.exceptions import ImproperlyConfigured
from faust.models.fields import FIELD_SPECIFIERS

#: the stream operations after which the value is no longer the one decoded from the topic
#: (a ``group_by`` after one of them sends the new value as JSON, not the source's bytes)
VALUE_CHANGING_OPERATIONS = ("map", "processor")


#: the names of the field specifiers (``faust.models.fields.FIELD_SPECIFIERS``): a field
#: whose default calls one of them takes its options from it
FIELD_SPECIFIER_NAMES = frozenset(specifier.__name__ for specifier in FIELD_SPECIFIERS)


#: Faust's ``id_format`` default: the id of an app of ``version > 1``
DEFAULT_ID_FORMAT = "{id}-v{self.version}"


class _Versioned:
    """What ``{self...}`` in an ``id_format`` sees when no settings object is given."""

    def __init__(self, version: int) -> None:
        self.version = version


def app_id(
    name: str, version: int = 1, id_format: str = DEFAULT_ID_FORMAT, settings: object = None
) -> str:
    """The id an App named ``name`` runs under, Faust's rule (``Settings._prepare_id``):
    ``name`` itself at version 1, else ``id_format.format(id=name, self=settings)``, so
    ``faust.App("withdrawals", version=2)`` is ``withdrawals-v2`` and everything named
    after the id (the consumer group, changelogs, agent and reply topics) moves with it.
    ``settings`` is what ``{self.<setting>}`` reads (default: the version only); a
    format naming something it lacks raises ``AttributeError``/``KeyError``."""
    if version <= 1:
        return name
    return id_format.format(id=name, self=settings if settings is not None else _Versioned(version))


def discovery_modules(autodiscover: bool | Iterable[str], origin: str | None) -> list[str]:
    """The modules ``App.discover()`` imports (Faust's ``_discovery_modules``): those
    ``autodiscover`` lists, and the ``origin`` whenever ``autodiscover`` is set
    (``autodiscover=True`` names the origin alone, and needs one: ValueError). The worker
    imports them, and every module of those that are packages (:func:`scanned`); the
    compiler reads the same ones to warn that their agents run uncompiled (FC115)."""
    if not autodiscover:
        return []
    if isinstance(autodiscover, bool):
        if not origin:
            raise ValueError("autodiscover=True needs origin= (the package to scan)")
        return [origin]
    modules = list(autodiscover)
    return [*modules, origin] if origin else modules


def scanned(module: str) -> bool:
    """Whether discovery imports ``module`` found in a discovered package: not test
    modules (``test_*``) nor ``__main__`` (Faust's ``SCAN_IGNORE``)."""
    last = module.rpartition(".")[2]
    return not last.startswith("test_") and last != "__main__"


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


def agent_topic_name(app_id: str, agent_name: str) -> str:
    """The topic of an agent declared without one (``@app.agent()``): Faust's
    ``<app id>-<agent name>`` (faust-streaming's ``Agent._prepare_channel``), the agent's
    name being ``<module>.<function>`` unless ``name=`` says otherwise."""
    return f"{app_id}-{agent_name}"


def importable(module: str) -> bool:
    """Whether ``module`` is a dotted name ``import`` takes: an app file named
    ``log-relay.py`` is not, so its worker loads it from its path under that name."""
    return all(part.isidentifier() for part in module.split("."))


def leader_topic_name(app_id: str) -> str:
    """The one-partition topic whose partition 0 makes a worker the leader
    (``on_leader=True`` timers, crontabs and tasks run there): Faust's
    ``<app id>-__assignor-__leader``, so the group elects one worker as Faust's does."""
    return f"{app_id}-__assignor-__leader"


def router_topic_name(app_id: str) -> str:
    """The compacted one-partition topic where each worker of an app publishes its web URL
    and the partitions it holds (``faust.web.directory``), so that a table's key can be
    read through any worker: ``<app id>-__router``. Faust carries the same information in
    its assignor's metadata, which librdkafka's assignors cannot carry."""
    return f"{app_id}-__router"


def router_reader_group(app_id: str) -> str:
    """The group id the router topic's reader is configured with (librdkafka needs one;
    the reader is assigned the topic's partition and never commits)."""
    return f"{app_id}-router-reader"


def consumer_group(app_id: str) -> str:
    """The consumer group of an app's workers: the app id itself, as in Faust (workers
    with the same app id share the partitions of its topics)."""
    return app_id


def changelog_reader_group(app_id: str) -> str:
    """The group id the changelog reader (table recovery, global tables) is configured
    with: librdkafka needs one, though the reader is assigned partitions and never
    commits."""
    return f"{app_id}-changelog-reader"


def reply_topic_name(app_id: str, reply_to: str = "") -> str:
    """The topic ``agent.ask()`` replies travel on: the ``reply_to`` setting, else
    ``<app id>-reply`` (one stable topic per app, not one per process)."""
    return reply_to or f"{app_id}-reply"


def reply_group(app_id: str, member: str) -> str:
    """The group of one asking process's reply consumer: ``<app id>-reply-<member>``,
    ``member`` unique to the process (each asker reads every reply, from the end)."""
    return f"{app_id}-reply-{member}"


def transactional_id(app_id: str, worker_id: str) -> str:
    """The ``transactional.id`` of a worker's producer under exactly-once:
    ``<app id>-<worker id>``; the worker id lives in the data directory, so a restarted
    worker fences its predecessor. A worker on a fresh data directory has a new id: it
    learns its dead predecessors' ids from :func:`transactional_registry_topic_name`."""
    return f"{app_id}-{worker_id}"


def transactional_registry_topic_name(app_id: str) -> str:
    """The compacted one-partition topic where the exactly-once workers of an app say,
    every few seconds, which transactional id they use (key: the id; a tombstone once it
    has been fenced): ``<app id>-__transactional-ids``. A worker finds there the ids of
    predecessors that fell silent, and fences them (``faust.worker.fencing``)."""
    return f"{app_id}-__transactional-ids"


def dead_letter_topic_name(topic: str, template: str = "{topic}-dlq") -> str:
    """The dead-letter topic of source ``topic``: ``template`` with ``{topic}`` filled in
    (the ``dead_letter_topic`` setting; a template without ``{topic}`` names one topic for
    every source). A template that cannot be filled in, or that names no topic, is
    ImproperlyConfigured."""
    try:
        name = template.format(topic=topic)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ImproperlyConfigured(
            f"dead_letter_topic={template!r} cannot be filled in (it may use {{topic}}): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not name.strip():
        raise ImproperlyConfigured(f"dead_letter_topic={template!r} names no topic")
    return name


def changes_value(operation: str) -> bool:
    """Does the stream operation ``operation`` (``"map"``, ``"filter"`` ...) replace the
    value it is given?"""
    return operation in VALUE_CHANGING_OPERATIONS


#: generated lines ``first..last`` come from source lines ``source_first..source_last``:
#: one line each when the two spans are as long, else all from ``source_first``
LineRange = tuple[int, int, int, int]


def line_ranges(origins: dict[int, int]) -> tuple[LineRange, ...]:
    """The line table of a generated file: ``origins`` maps a generated line to the source
    line it comes from; runs of lines from one source line, or from consecutive ones,
    become one range. Example::

        line_ranges({10: 5, 11: 5, 12: 6, 13: 7})    # ((10, 11, 5, 5), (12, 13, 6, 7))
    """
    ranges: list[list[int]] = []
    for line in sorted(origins):
        source = origins[line]
        if ranges and ranges[-1][1] == line - 1:
            first, last, source_first, source_last = ranges[-1]
            same = source == source_first == source_last
            advancing = source == source_last + 1 and source_last - source_first == last - first
            if same or advancing:
                ranges[-1][1:] = [line, source_first, source]
                continue
        ranges.append([line, line, source, source])
    return tuple((a, b, c, d) for a, b, c, d in ranges)


def source_line(table: tuple[LineRange, ...], line: int) -> int | None:
    """The source line generated ``line`` comes from, by the file's line table (None:
    a line of the generated file's own)."""
    for first, last, source_first, source_last in table:
        if first <= line <= last:
            if source_last == source_first:
                return source_first
            return source_first + line - first
    return None
