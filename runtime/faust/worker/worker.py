"""The worker loop: consume a batch, run it through the agents, commit when it is durable.

One worker process holds one consumer (group = the app id, as in Faust), one producer and
one runner per agent. Scale-out is Kafka's: start more workers with the same app id (each
with its own ``--datadir``); they share the partitions, and when one stops or dies the
others are assigned its partitions, restore their tables from the changelogs and go on.

The commit protocol (``faust.worker.commit``: at-least-once or exactly-once) decides
when a commit is due and makes everything processed durable before it commits.

Start-up order: lock the data directory (RocksDB tables, exactly-once), create the declared
topics, start the producer (and its transactions), start every agent and task, wait until
each agent has asked for its first batch (by then its stream chain is built, so the topics
its ``group_by``/``through`` stages consume are declared), create those topics and the
tables' changelogs (co-partitioned with them), restore the global tables, subscribe. A
stream that appears later (``app.stream(topic)`` in a task) joins the subscription then.

Rebalancing: a newly assigned partition is paused until every table partition it writes
has been restored from its changelog to the true end (other partitions keep flowing
meanwhile); a revoked partition is committed and its table stores are closed.
Example::

    worker = Worker(app, compiled_agents={"wordcount.count": count})
    await worker.run()           # until request_stop() (SIGINT/SIGTERM in the CLI)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluent_kafka import TopicPartition

from faust.contract import consumer_group, transactional_id
from faust.events import TransportMessage
from faust.exceptions import BrokerUnavailable
from faust.replies import Replies
from faust.running import Running
from faust.tables.manager import TableManager
from faust.transport import open_transport
from faust.transport.base import Consumer, Producer, Transport
from faust.worker.clock import SYSTEM_CLOCK, Clock
from faust.worker.commit import CommitProtocol, commit_protocol, describe
from faust.worker.errors import AgentFailure, ErrorPolicy
from faust.worker.routes import Routes
from faust.worker.runner import AgentRunner, ConcurrentAgent
from faust.worker.schedule import Schedule
from faust.worker.state import DataDirectory
from faust.worker.topic_setup import TopicSetup

if TYPE_CHECKING:
    from faust.app import App

log = logging.getLogger("faust.worker")

#: seconds the consumer blocks when nothing is buffered (bounds timer lateness)
IDLE_POLL_SECONDS = 0.1
#: seconds the worker waits for every agent to reach its stream loop before subscribing
READY_TIMEOUT = 15.0


class Worker:
    """Runs an App's agents against its broker (see the module docstring)."""

    def __init__(
        self,
        app: App,
        *,
        compiled_agents: Mapping[str, Any] | None = None,
        transport: Transport | None = None,
        stop_when_idle: bool = False,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.app = app
        self.conf = app.conf
        #: where the worker reads the time (commit and clean-up intervals, timers)
        self.clock = clock
        #: compiled replacements of agents (and of tasks that loop over app.stream), by name
        self.compiled_agents = dict(compiled_agents or {})
        task_names = {task.name for task in app.tasks}
        unknown = sorted(set(self.compiled_agents) - set(app.agents) - task_names)
        if unknown:
            raise AgentFailure(
                f"the built worker has agents the app does not define: {', '.join(unknown)} "
                "(rebuild it with `faustc build`)"
            )
        self.transport = transport or open_transport(self.conf)
        self._topic_setup = TopicSetup(app, self.transport)
        #: for tests on the memory transport: stop at the first empty poll
        self.stop_when_idle = stop_when_idle
        self.exactly_once = self.conf.exactly_once
        #: the commit protocol of the app's processing guarantee (made at start-up)
        self.commits: CommitProtocol | None = None
        self.processed = 0
        #: the error policy of each agent (its counts are the error metrics)
        self.policies: dict[str, ErrorPolicy] = {}
        self._stopping = False
        self._failed = False
        self._closing = False
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._replies: Replies | None = None
        self._tables: TableManager | None = None
        self._state: DataDirectory | None = None
        #: source partitions paused while their tables restore
        self._paused: set[tuple[str, int]] = set()
        #: the stream consumers and the topics they take
        self.routes = Routes(app)
        self._schedule = Schedule(clock=clock)
        self._last_cleanup = clock.monotonic()

    # -- lifecycle -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the batch in hand, commit, and return from :meth:`run`."""
        if not self._stopping:
            log.info("stopping: finishing the current batch")
        self._stopping = True

    async def run(self) -> None:
        """Start, loop until stopped, stop. Raises AgentFailure when the policy says fail."""
        batch: list[TransportMessage] = []
        try:
            await self._start()
            tables, routes = self._tables, self.routes
            while not self._stopping:
                if routes.resubscribe:
                    self._subscribe()
                restoring = tables is not None and tables.restoring
                batch = self._consume(0.0 if restoring else IDLE_POLL_SECONDS)
                if tables is not None:
                    restoring = tables.restoring  # an assignment may have started one
                    if restoring:
                        await self._recover_step(tables)
                    tables.poll_globals()
                if batch:
                    await self._process(batch)
                    batch = []
                elif self.stop_when_idle and not restoring:
                    break
                await self._maybe_commit()
                await asyncio.sleep(0)  # let timers and tasks run
        except BaseException as exc:
            self._failed = True
            if self.commits is not None and not isinstance(exc, BrokerUnavailable):
                self.commits.abandon(batch)  # (an unreachable broker: nothing can be)
            await self._close(graceful=False)
            raise
        await self._stop()

    async def _start(self) -> None:
        app, conf = self.app, self.conf
        self.transport.check_connection(conf.broker_connect_timeout)
        if self._needs_data_directory():
            self._state = DataDirectory(Path(conf.data_directory))
            self._state.lock()
        self._topic_setup.declared()
        producer_id = None
        if self.exactly_once:
            assert self._state is not None
            producer_id = transactional_id(app.id, self._state.worker_id)
        # with tables, changelog records report their offsets (tables store what they applied)
        self._producer = self.transport.producer(
            transactional_id=producer_id, track_deliveries=bool(app.tables)
        )
        self.commits = commit_protocol(conf, self._producer, clock=self.clock)
        self.commits.begin()
        self._replies = Replies(app, self.transport)
        app.running = Running(
            self._producer, attach_stream=self.routes.attach, replies=self._replies
        )
        runners: list[AgentRunner | ConcurrentAgent] = []
        for agent in app.agents.values():
            fun = self.compiled_agents.get(agent.name, agent.fun)
            policy = self._policy_for(agent, fun)
            instances = [AgentRunner(agent, fun, policy) for _ in range(agent.concurrency)]
            for instance in instances:
                instance.on_new_topic = self.routes.on_new_topic
            runner = instances[0] if len(instances) == 1 else ConcurrentAgent(instances)
            runners.append(runner)
            self.routes.add(runner)
            runner.start()
        for task in app.tasks:
            self._schedule.start_task(task, self.compiled_agents.get(task.name, task.fun))
        await self._wait_until_ready(runners)
        partitions = self._start_tables() if app.tables else {}
        if self._tables is not None:
            await self._tables.start_globals()
        self._consumer = self.transport.consumer(consumer_group(app.id))
        self.commits.attach(self._consumer, tables=self._tables, held=self.routes.held_offsets)
        partitions.update(self._subscribe())
        self._schedule.start_timers(app.timers, app.crontabs)
        sources = self.routes.subscribed
        compiled = sum(name in self.compiled_agents for name in app.agents)
        log.info(
            "worker for app %r on %s: %d agent(s) (%d compiled), %d table(s), sources %s, "
            "group %r, %s",
            app.id,
            self.transport.description,
            len(app.agents),
            compiled,
            len(app.tables),
            ", ".join(f"{topic} ({partitions.get(topic, '?')} partitions)" for topic in sources)
            or "none",
            consumer_group(app.id),
            conf.processing_guarantee.replace("_", "-"),
        )

    def _policy_for(self, agent: Any, fun: Any) -> ErrorPolicy:
        code = getattr(agent.fun, "__code__", None)
        compiled_code = getattr(fun, "__code__", None) if fun is not agent.fun else None
        policy = ErrorPolicy(
            agent.error_policy or self.conf.error_policy,
            self.app,
            dead_letter_topic=agent.dead_letter_topic,
            user_file=code.co_filename if code is not None else None,
            user_line=code.co_firstlineno if code is not None else None,
            generated_file=compiled_code.co_filename if compiled_code is not None else None,
        )
        self.policies[agent.name] = policy
        return policy

    def _needs_data_directory(self) -> bool:
        stores = {table.store_scheme for table in self.app.tables.values()}
        return self.exactly_once or "rocksdb" in stores

    def _start_tables(self) -> dict[str, int]:
        """Create the changelogs, co-partitioned with the topics streams consume, and take
        the tables over."""
        partitions = self._topic_setup.ensure(self.routes.consumers)
        state = self._state.path if self._state is not None else None
        tables = self._tables = TableManager(self.app, self.transport, data_directory=state)
        sources = {name: partitions[name] for name in self.routes.topics() if name in partitions}
        changelog_partitions = self._topic_setup.changelogs(tables, sources)
        tables.attach()
        return {**partitions, **changelog_partitions}

    async def _wait_until_ready(self, runners: list[AgentRunner | ConcurrentAgent]) -> None:
        """Let every agent (and task) run up to its stream loop, so its topics are known."""
        waits = [
            runner.wait_ready() if isinstance(runner, ConcurrentAgent) else runner.ready.wait()
            for runner in runners
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), READY_TIMEOUT)
        except TimeoutError:
            log.warning("some agents did not reach their stream loop within %.0fs", READY_TIMEOUT)
        for _ in range(3):  # tasks that open app.stream() right away
            await asyncio.sleep(0)

    def _subscribe(self) -> dict[str, int]:
        """Create the topics streams consume that do not exist yet; (re)subscribe to all."""
        routes = self.routes
        routes.resubscribe = False
        partitions = self._topic_setup.ensure(routes.consumers)
        sources = routes.topics()
        if sources and sources != routes.subscribed and self._consumer is not None:
            self._consumer.subscribe(sources, self._on_assign, self._on_revoke)
            routes.subscribed = sources
        return partitions

    async def _stop(self) -> None:
        await self.routes.stop(timeout=30.0)
        self.commit()
        await self._close(graceful=True)
        for name, policy in self.policies.items():
            if policy.decode_errors or policy.agent_errors:
                log.info("agent %s: %s", name, policy.summary())
        log.info("stopped after processing %d message(s)", self.processed)

    async def _close(self, *, graceful: bool) -> None:
        self._closing = True
        self.transport.close()
        if self._replies is not None:
            await self._replies.close()
            self._replies = None
        await self._schedule.cancel()
        if self._consumer is not None:
            with contextlib.suppress(Exception) if not graceful else contextlib.nullcontext():
                self._consumer.close()  # revokes the assignment (commits when graceful)
            self._consumer = None
        if self._tables is not None:
            self._tables.close()
        if self._producer is not None:
            if graceful:
                self._producer.close()
            self._producer = None
        self.app.running = None  # taken back: sends from here on say the app is not running
        if self._state is not None:
            self._state.release()

    # -- the loop --------------------------------------------------------------------------

    def _consume(self, timeout: float) -> list[TransportMessage]:
        assert self._consumer is not None
        return self._consumer.consume(self.conf.batch_size, timeout)

    async def _process(self, batch: list[TransportMessage]) -> None:
        await self.routes.process(batch)
        assert self._producer is not None
        self._producer.poll()
        self.processed += len(batch)
        assert self.commits is not None
        self.commits.count(len(batch))

    async def _recover_step(self, tables: TableManager) -> None:
        ready = await tables.recover_step()
        if ready and self._consumer is not None:
            resume = [key for key in self._paused if key[1] in ready]
            self._consumer.resume([TopicPartition(topic, p) for topic, p in resume])
            self._paused.difference_update(resume)
            log.info("partition(s) %s restored: processing resumes", sorted(ready))

    async def _maybe_commit(self) -> None:
        now = self.clock.monotonic()
        tables = self._tables
        if tables is not None and (
            tables.expire_due() or now - self._last_cleanup >= self.conf.table_cleanup_interval
        ):
            self._last_cleanup = now
            await tables.expire()
        commits = self.commits
        if commits is not None and commits.due():
            commits.commit()

    def commit(self) -> None:
        """Commit now: everything processed so far made durable, then its offsets
        committed (``faust.worker.commit``)."""
        if self.commits is not None:
            self.commits.commit()

    # -- rebalancing -----------------------------------------------------------------------

    def _on_assign(self, partitions: list[TopicPartition]) -> None:
        log.info("assigned %s", describe(partitions) or "no partitions")
        if self._tables is None or self._consumer is None:
            return
        pause = self._tables.on_assigned(partitions)
        if pause:
            self._consumer.pause(pause)
            self._paused.update((tp.topic, tp.partition) for tp in pause)
            log.info(
                "restoring tables for partition(s) %s before processing them",
                sorted({tp.partition for tp in pause}),
            )

    def _on_revoke(self, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", describe(partitions) or "no partitions")
        if not partitions:
            return
        if not self._failed:
            self.commit()
        if self.commits is not None:
            self.commits.forget(partitions)
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self._paused -= revoked
        if self._closing:
            return  # shutting down: the stores close with the worker (memory ones stay readable)
        if self._tables is not None and self._consumer is not None:
            still = {
                tp.partition
                for tp in self._consumer.assignment()
                if (tp.topic, tp.partition) not in revoked
            }
            self._tables.on_revoked(still)
