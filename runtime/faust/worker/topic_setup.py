"""Topic set-up: the topics a worker needs exist, with the partitions it expects, before
it subscribes.

A consumer that subscribes to a topic the broker's metadata does not show yet gets no
assignment until its next metadata refresh (minutes, with librdkafka's defaults), so the
worker creates every topic it will consume or produce to and waits until the metadata
shows them all (``Transport.ensure_topics``) before it subscribes. The topics, in the
order the worker asks for them:

1. at start-up, the topics the app declares (``app.topic``, with the App's
   ``topic_partitions`` and ``topic_replication_factor`` unless the declaration says
   otherwise) and the dead-letter topics of agents whose policy is ``dead-letter``; a
   declared ``partitions=`` that differs from an existing topic is an error;
2. once every agent has reached its stream loop, the topics its ``group_by``/``through``
   stages consume (declared by then) and the tables' changelogs, co-partitioned with the
   widest source (``TableManager.changelog_specs``);
3. whenever a stream adds a topic later (``app.stream(topic)`` in a task), before the
   worker subscribes again.

``topic_allow_declare=False`` creates nothing: the topics streams consume and the tables'
changelogs must exist (else one line naming the topic and its partition count, and the
worker stops), with the partitions expected (the same checks as when the worker creates
them). Topics that are only sent to are not checked (the producer reports a record it
cannot deliver). An existing changelog that is not compacted is a warning: its records
expire with the topic's retention and a later restore misses them. Example::

    setup = TopicSetup(app, transport)
    partitions = setup.declared()                    # {"orders": 4, "orders-dlq": 4}
    partitions = setup.ensure(consumers)             # plus the stage topics, as they appear
    partitions |= setup.changelogs(tables, sources)  # and the changelogs
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from faust.agents import Crontab, Task, Timer
from faust.contract import dead_letter_topic_name, leader_topic_name
from faust.exceptions import ImproperlyConfigured
from faust.transport.base import TopicSpec, Transport

if TYPE_CHECKING:
    from faust.app import App
    from faust.tables.manager import TableManager

log = logging.getLogger("faust.worker")

#: seconds allowed for creating topics and seeing them in the broker's metadata
ADMIN_TIMEOUT = 15.0


class ConsumesTopics(Protocol):
    """A stream consumer, as far as topic set-up cares: its name and its topics."""

    name: str
    topics: list[str]


class TopicSetup:
    """Creates the topics a worker needs (see the module docstring)."""

    def __init__(self, app: App, transport: Transport) -> None:
        self.app = app
        self.conf = app.conf
        self.transport = transport

    def declared(self) -> dict[str, int]:
        """Create the declared topics and their dead-letter topics; check the partitions
        of those that existed. Returns each topic's partition count."""
        partitions = self.ensure(())
        self._check_leader_topic(partitions)
        for topic in self.app.topics:
            if topic.partitions is None:
                continue
            for name in topic.topics:
                found = partitions.get(name)
                if found is not None and found != topic.partitions:
                    raise ImproperlyConfigured(
                        f"topic {name!r} is declared with partitions={topic.partitions} but "
                        f"has {found} on the broker: set partitions={found} on "
                        f"app.topic({name!r}) or give the topic {topic.partitions} "
                        "partitions (topics that feed tables must be co-partitioned)"
                    )
        return partitions

    def ensure(self, consumers: Iterable[ConsumesTopics]) -> dict[str, int]:
        """Create the declared topics (stage topics included, once declared) and the
        dead-letter topics of every topic ``consumers`` take; wait until all are visible.
        ``topic_allow_declare=False``: every topic ``consumers`` take must exist."""
        consumers = list(consumers)
        specs = self.specs(consumers)
        allowed = self.conf.topic_allow_declare
        if not allowed:  # looked up only: a consumed topic the app did not declare too
            named = {spec.name for spec in specs}
            specs += [
                TopicSpec(name, self.conf.topic_partitions)
                for consumer in consumers
                for name in consumer.topics
                if name not in named
            ]
        partitions = self.transport.ensure_topics(specs, ADMIN_TIMEOUT, create=allowed)
        if not allowed:
            wanted = {spec.name: spec.partitions for spec in specs}
            for consumer in consumers:
                for name in consumer.topics:
                    if name not in partitions:
                        count = wanted.get(name, self.conf.topic_partitions)
                        raise ImproperlyConfigured(
                            f"topic {name!r} (consumed by {consumer.name}) does not exist, "
                            "and topic_allow_declare=False: the worker creates no topics; "
                            f"create it ({count} partitions) or allow the worker to declare "
                            "topics"
                        )
        return partitions

    def _check_leader_topic(self, partitions: dict[str, int]) -> None:
        """Without its leader topic the group elects no leader: refused when the app has
        ``on_leader=True`` timers or tasks (none would run); else librdkafka warns."""
        app, conf = self.app, self.conf
        leader = leader_topic_name(app.id)
        if conf.topic_allow_declare or conf.topic_disable_leader or leader in partitions:
            return
        works: list[Timer | Crontab | Task] = [*app.timers, *app.crontabs, *app.tasks]
        leading = [work.name for work in works if work.on_leader]
        if leading:
            raise ImproperlyConfigured(
                f"the leader topic {leader!r} does not exist, and topic_allow_declare=False: "
                f"no worker would run the on_leader=True timers and tasks "
                f"({', '.join(sorted(leading))}); create it (1 partition)"
            )

    def changelogs(self, tables: TableManager, sources: dict[str, int]) -> dict[str, int]:
        """Create the tables' changelogs, co-partitioned with ``sources`` (the partition
        counts of the topics streams consume): an error now, not a hang later."""
        conf = self.conf
        specs = tables.changelog_specs(
            sources, conf.topic_partitions, conf.topic_replication_factor
        )
        allowed = conf.topic_allow_declare
        partitions = self.transport.ensure_topics(specs, ADMIN_TIMEOUT, create=allowed)
        tables.check_partitions(partitions)
        for spec in specs:
            if spec.name not in partitions:  # only when the worker may not create it
                config = dict(spec.config)
                raise ImproperlyConfigured(
                    f"changelog topic {spec.name!r} of table "
                    f"{tables.table_of(spec.name)!r} does not exist, and "
                    "topic_allow_declare=False: the worker creates no topics; create it "
                    f"({spec.partitions} partitions, cleanup.policy="
                    f"{config.get('cleanup.policy', 'compact')}) or allow the worker to "
                    "declare topics"
                )
        self._warn_uncompacted(specs, tables)
        return partitions

    def _warn_uncompacted(self, specs: list[TopicSpec], tables: TableManager) -> None:
        """A changelog whose records expire (cleanup.policy without ``compact``) loses
        table state at a later restore: say so, and run (Faust does not look). Not when
        the app asked for that policy (``changelog_topic=app.topic(..., deleting=True)``)."""
        compacted = [spec.name for spec in specs if _compacts(dict(spec.config))]
        for name, config in self.transport.topic_configs(compacted, ADMIN_TIMEOUT).items():
            if not _compacts(config):
                policy = config.get("cleanup.policy", "delete")
                log.warning(
                    "changelog topic %r of table %r has cleanup.policy=%s: its records "
                    "are deleted after the topic's retention and a later restore loses them; "
                    "set cleanup.policy=compact on it",
                    name,
                    tables.table_of(name),
                    policy,
                )

    def specs(self, consumers: Iterable[ConsumesTopics]) -> list[TopicSpec]:
        """What :meth:`ensure` creates: the declared topics, and the dead-letter topic of
        each topic an agent with the ``dead-letter`` policy consumes."""
        conf = self.conf
        specs: dict[str, TopicSpec] = {}
        # a topic declared as a table's changelog (``changelog_topic=``) is created with
        # the changelogs, co-partitioned with the table's sources
        changelogs = {table.changelog_topic_name for table in self.app.tables.values()}
        for topic in self.app.topics:
            for name in topic.topics:
                if name in changelogs:
                    continue
                specs[name] = TopicSpec(
                    name,
                    topic.partitions or conf.topic_partitions,
                    topic.replicas or conf.topic_replication_factor,
                    tuple(sorted(topic.config.items())),
                )
        if not conf.topic_disable_leader:  # the group elects its leader through it
            leader = leader_topic_name(self.app.id)
            specs[leader] = TopicSpec(leader, 1, conf.topic_replication_factor)
        consumers = list(consumers)
        for agent in self.app.agents.values():
            if (agent.error_policy or conf.error_policy) == "dead-letter":
                sources = {agent.channel.get_topic_name()}
                for consumer in consumers:
                    if consumer.name == agent.name:
                        sources.update(consumer.topics)
                for source in sorted(sources):
                    name = dead_letter_topic_name(
                        source, agent.dead_letter_topic or conf.dead_letter_topic
                    )
                    partitions = specs[source].partitions if source in specs else 1
                    specs.setdefault(
                        name, TopicSpec(name, partitions, conf.topic_replication_factor)
                    )
        return list(specs.values())


def _compacts(config: dict[str, str]) -> bool:
    """Does a topic with this configuration compact (Kafka's default policy: delete)?"""
    policy = config.get("cleanup.policy", "delete")
    return "compact" in policy.replace(" ", "").split(",")
