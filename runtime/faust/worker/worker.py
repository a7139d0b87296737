"""The worker: start an App's agents, run the poll loop, stop cleanly.

One worker process holds one consumer (group = the app id, as in Faust), one producer and
one runner per agent. Scale-out is Kafka's: start more workers with the same app id (each
with its own ``--datadir``); they share the partitions, and when one stops or dies the
others are assigned its partitions, restore their tables from the changelogs and go on.

The worker does its jobs through one object each, all in ``faust.worker``:

- ``routes.py``: which stream consumers (agent runners, ``app.stream()`` feeds) take
  which topic's messages; ``runner.py`` drives each agent;
- ``commit.py``: the commit protocol, at-least-once or exactly-once, and its order;
- ``topic_setup.py``: the topics created and seen in the metadata before subscribing;
- ``rebalance.py``: partitions assigned (tables restored first) and revoked (committed);
- ``schedule.py``: timers, crontabs and tasks; ``clock.py``: the time all of them read;
- ``fencing.py`` (exactly-once): says the worker's transactional id, fences those of dead
  predecessors (a replacement on a fresh data directory has a new id);
- ``sensors.py``: what the worker reports as it runs (nothing unless asked);
- ``reports.py``: its periodic log lines (waiting for an assignment, throughput).

While it runs, the worker lends the App one :class:`~faust.running.Running` (the producer,
``routes.attach`` for ``app.stream()``, the replies of ``agent.ask()``) and takes it back
when it has closed.

Start-up order: lock the data directory (RocksDB tables, exactly-once), create the declared
topics, start the producer (exactly-once: fence older producers, begin a transaction, say
its transactional id in the app's registry of them), lend
the app its running engine, start every agent and task, wait until each agent has asked
for its first batch (by then its stream chain is built, so the topics its
``group_by``/``through`` stages consume are declared), create those topics and the
tables' changelogs (co-partitioned with them), restore the global tables, subscribe, start
the timers and crontabs. A stream that appears later (``app.stream(topic)`` in a task)
joins the subscription then.

The poll loop (:meth:`Worker._loop`), until stopped: subscribe again if a stream added a
topic; consume a batch (without waiting while tables restore); restore a little more;
hand the batch to the streams and wait until they have processed it; hand what was sent to
the app's channels (``app.channel()``) to their readers, until none is left; serve the
producer's delivery reports; expire windows when due; commit when due; log what is due
to be said (still waiting for an assignment, every 5 s; the throughput, every minute).
SIGINT/SIGTERM
(:meth:`Worker.request_stop`) finish the batch in hand, end the streams, commit and close.
After a failure the commit protocol keeps what is durable (``abandon``) and the worker
closes without committing more. Example::

    worker = Worker(app, compiled_agents={"wordcount.count": count})
    await worker.run()           # until request_stop() (SIGINT/SIGTERM in the CLI)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faust.contract import consumer_group, leader_topic_name, transactional_id
from faust.delivery import sends_with_callbacks
from faust.events import TransportMessage
from faust.exceptions import BrokerUnavailable, StoreFailed
from faust.replies import Replies
from faust.running import Running
from faust.tables.manager import TableManager
from faust.transport import open_transport
from faust.transport.base import Consumer, Producer, Transport
from faust.worker.app_hooks import AppHooks
from faust.worker.clock import SYSTEM_CLOCK, Clock
from faust.worker.commit import CommitProtocol, commit_protocol
from faust.worker.errors import AgentFailure, ErrorPolicy
from faust.worker.fencing import TransactionalRegistry
from faust.worker.rebalance import Rebalance
from faust.worker.reports import Reports
from faust.worker.routes import Routes
from faust.worker.runner import AgentRunner, ConcurrentAgent, IsolatedAgent
from faust.worker.schedule import Leadership, Schedule
from faust.worker.sensors import SensedProducer, Sensor, combine
from faust.worker.state import DataDirectory
from faust.worker.topic_setup import TopicSetup

if TYPE_CHECKING:
    from confluent_kafka import TopicPartition

    from faust.app import App

log = logging.getLogger("faust.worker")

#: seconds the consumer blocks when nothing is buffered (bounds timer lateness)
IDLE_POLL_SECONDS = 0.1
#: turns of the event loop after a poll that found nothing: the consumer's poll blocks the
#: loop, and an HTTP request (``/health``, a page) needs several turns to be read, handled
#: and answered; one turn per idle poll answered it in ~0.7 s, these in one poll's time
IDLE_LOOP_TURNS = 10
#: seconds the worker waits for every agent to reach its stream loop before subscribing
READY_TIMEOUT = 15.0
#: seconds each agent gets to finish the code after its loop at shutdown
STOP_TIMEOUT = 30.0


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
        sensors: Iterable[Sensor] = (),
    ) -> None:
        self.app = app
        self.conf = app.conf
        #: compiled replacements of agents (and of tasks that loop over app.stream), by name
        self.compiled_agents = dict(compiled_agents or {})
        #: whether this is a built worker (it names the agents it runs uncompiled)
        self.built = compiled_agents is not None
        task_names = {task.name for task in app.tasks}
        unknown = sorted(set(self.compiled_agents) - set(app.agents) - task_names)
        if unknown:
            raise AgentFailure(
                f"the built worker has agents the app does not define: {', '.join(unknown)} "
                "(rebuild it with `faustc build`)"
            )
        self.transport = transport or open_transport(self.conf)
        #: for tests on the memory transport: stop at the first empty poll
        self.stop_when_idle = stop_when_idle
        #: where the worker reads the time (commit and clean-up intervals, timers)
        self.clock = clock
        #: the app's own sensors and partition signals (None: it has neither)
        self.hooks = AppHooks.for_app(app)
        #: told of batches, commits and partition moves (None: no sensors)
        self.sensor = combine([*sensors, *([self.hooks] if self.hooks is not None else [])])
        #: messages processed since the worker started
        self.processed = 0
        #: the error policy of each agent (its counts are the error metrics)
        self.policies: dict[str, ErrorPolicy] = {}
        #: the stream consumers and the topics they take
        self.routes = Routes(app, monotonic=clock.monotonic, sensor=self.sensor)
        #: the commit protocol of the app's processing guarantee (made at start-up)
        self.commits: CommitProtocol | None = None
        self._topic_setup = TopicSetup(app, self.transport)
        #: whether this worker is the group's leader (on_leader=True timers and tasks)
        self._leadership = Leadership()
        #: the agents with ``isolated_partitions=True`` (an instance per partition)
        self._isolated: list[IsolatedAgent] = []
        self._schedule = Schedule(clock=clock, leader=self._leadership)
        self._state: DataDirectory | None = None
        self._producer: Producer | None = None
        self._replies: Replies | None = None
        self._tables: TableManager | None = None
        self._consumer: Consumer | None = None
        self._rebalance: Rebalance | None = None
        #: exactly-once: says this worker's transactional id, fences silent ones
        self._registry: TransactionalRegistry | None = None
        self._stopping = False
        #: the periodic lines: waiting for an assignment, throughput
        self._reports = Reports(
            clock, group=consumer_group(app.id), session_timeout=self.conf.broker_session_timeout
        )
        #: the batch the streams hold (what a failure must not commit)
        self._batch: list[TransportMessage] = []
        self._last_cleanup = clock.monotonic()
        #: when the poll loop last went round (None: it has not started): ``/health``
        self.last_turn: float | None = None
        #: where the web server listens (set by whoever serves it; said in the start-up line)
        self.web_address: str | None = None
        app.on_worker_init.send()

    def request_stop(self) -> None:
        """Finish the batch in hand, commit, and return from :meth:`run`."""
        if not self._stopping:
            log.info("stopping: finishing the current batch")
        self._stopping = True

    def readiness(self) -> str | None:
        """Why this worker is not ready to take its share of the work yet (``/ready``);
        None once it is: the group gave it an assignment and every table is restored."""
        if self._stopping:
            return "the worker is stopping"
        rebalance = self._rebalance
        if rebalance is None:
            return "the worker is starting"
        if self.routes.subscribed and not rebalance.assigned_once:
            return "waiting for the group to assign partitions"
        tables = self._tables
        if tables is not None and tables.restoring:
            partitions = sorted(tables.recovering)
            remaining = tables.recovery_remaining()
            left = f", about {remaining} record(s) to go" if remaining is not None else ""
            return f"restoring tables for partition(s) {partitions}{left}"
        return None

    def health(self, stalled_after: float) -> str | None:
        """Why this worker is unhealthy (``/health``): its poll loop has not gone round for
        ``stalled_after`` seconds (an agent or a broker call is stuck); None if it is fine."""
        last = self.last_turn
        if last is None:
            return None  # starting: start-up has its own time limits
        idle = time.monotonic() - last
        if idle > stalled_after:
            return f"the poll loop has not gone round for {idle:.0f}s"
        return None

    def offsets(self) -> list[tuple[str, int, int | None, int | None, int | None]]:
        """``(topic, partition, position, committed, end)`` of every assigned partition,
        from what the consumer knows (no broker request): the consumer lag."""
        consumer, commits = self._consumer, self.commits
        if consumer is None or commits is None:
            return []
        result = []
        for tp in consumer.position(consumer.assignment()):
            position = tp.offset if tp.offset >= 0 else None
            committed = commits.committed.get((tp.topic, tp.partition))
            end = consumer.high_watermark(tp.topic, tp.partition)
            result.append((tp.topic, tp.partition, position, committed, end))
        return result

    @property
    def producer(self) -> Producer | None:
        """The worker's producer (None before it starts and after it closed)."""
        return self._producer

    @property
    def tables(self) -> TableManager | None:
        """The worker's side of the app's tables (None without tables)."""
        return self._tables

    def commit(self) -> None:
        """Commit now: everything processed so far made durable, then its offsets
        committed (``faust.worker.commit``)."""
        if self.commits is not None:
            self.commits.commit()

    async def run(self) -> None:
        """Start, loop until stopped, stop. Raises AgentFailure when the policy says fail."""
        try:
            await self._start()
            await self.app.on_startup.send()
            await self._loop()
        except BaseException as exc:
            await self._fail(exc)
            raise
        await self._stop()

    # -- the poll loop ---------------------------------------------------------------------

    async def _loop(self) -> None:
        """Consume, process, commit; until stopped (the module docstring)."""
        assert self._consumer is not None
        self._reports.start(self._consumer.assignment)
        while not self._stopping:
            idle = await self._step(IDLE_POLL_SECONDS)
            if idle and self.stop_when_idle:
                break

    async def _step(self, timeout: float) -> bool:
        """One turn of the poll loop; True when it found nothing to do (no message, no
        restore in progress)."""
        consumer, producer, commits, rebalance = (
            self._consumer,
            self._producer,
            self.commits,
            self._rebalance,
        )
        assert consumer is not None and producer is not None
        assert commits is not None and rebalance is not None
        routes, tables, sensor, hooks = self.routes, self._tables, self.sensor, self.hooks
        self.last_turn = time.monotonic()
        if routes.resubscribe:
            self._subscribe()
        restoring = tables is not None and tables.restoring
        batch = self._batch = consumer.consume(self.conf.batch_size, 0.0 if restoring else timeout)
        if hooks is not None:
            await hooks.send_signals()  # partition moves during the poll
        if tables is not None:
            restoring = tables.restoring  # an assignment may have started one
            if restoring:
                await rebalance.recover_step()
            tables.poll_globals()
            tables.poll_standbys()
        if batch:
            if sensor is not None:
                sensor.on_batch_in(batch)
            await routes.process(batch)
            producer.poll()  # delivery reports
            self.processed += len(batch)
            commits.count(len(batch))
            if sensor is not None:
                sensor.on_batch(len(batch))
            self._batch = []  # processed: a failure from here on may commit past it
        busy = False
        if self.app.channels and await routes.process_channels():
            producer.poll()
            busy = True
        elif not batch and not restoring:
            replies = self._replies
            if routes.in_flight() or (replies is not None and replies.pending()):
                busy = True
                if not timeout:  # (a poll that waited has let them run already)
                    await asyncio.sleep(0.005)  # an agent or a task waits on ask() replies
        if tables is not None:
            await self._expire_windows(tables)
        if commits.due():
            commits.commit()
        if self._registry is not None:
            self._registry.tick()
        self._reports.tick(self.processed)
        await asyncio.sleep(0)  # let timers and tasks run
        idle = not batch and not restoring and not busy
        if idle and timeout:  # (a worker, not a test driver's stepping)
            for _ in range(IDLE_LOOP_TURNS):
                await asyncio.sleep(0)  # the web server's requests, without waiting a poll each
        return idle

    # -- stepping (a test driver runs the worker this way: ``faust.testing.AppDriver``) ----

    async def start(self) -> None:
        """Start everything :meth:`run` starts, and return: the caller then steps the
        worker with :meth:`run_until_idle` and ends it with :meth:`stop`."""
        try:
            await self._start()
            assert self._consumer is not None
            self._reports.start(self._consumer.assignment)
            await self.app.on_startup.send()
        except BaseException as exc:
            await self._fail(exc)
            raise

    async def run_until_idle(self, settle: int = 10) -> None:
        """Process until no message is left anywhere the worker reads, no restore is in
        progress, and the timers and tasks woken so far have run (``settle`` turns of the
        event loop find nothing new). Raises what :meth:`run` raises."""
        try:
            quiet = 0
            while quiet < settle:
                quiet = quiet + 1 if await self._step(0.0) else 0
        except BaseException as exc:
            await self._fail(exc)
            raise

    async def tick(self) -> None:
        """Hand every stream an empty batch (a ``take(within=)`` looks at its deadline on
        the worker's clock) and expire the windows that are due now."""
        try:
            await self.routes.process_empty()
            if self._tables is not None:
                await self._tables.expire()
        except BaseException as exc:
            await self._fail(exc)
            raise

    async def stop(self) -> None:
        """Stop as :meth:`run` does after :meth:`request_stop` (commit, close)."""
        if self._producer is None:
            return  # failed and closed already
        self._stopping = True
        await self._stop()

    async def _fail(self, exc: BaseException) -> None:
        """After ``exc``: keep what is durable, commit nothing more, close."""
        if self._rebalance is not None:
            self._rebalance.failed = True
        if self.commits is not None and not isinstance(exc, BrokerUnavailable):
            # (an unreachable broker: nothing can be committed; a store that could not
            # be written: nothing may be, its changes are not all stored)
            self.commits.abandon(self._batch, stored=not isinstance(exc, StoreFailed))
        await self._close(graceful=False)

    async def _expire_windows(self, tables: TableManager) -> None:
        """Expire windows every ``table_cleanup_interval`` (and right after recovery)."""
        now = self.clock.monotonic()
        if tables.expire_due() or now - self._last_cleanup >= self.conf.table_cleanup_interval:
            self._last_cleanup = now
            await tables.expire()

    # -- starting --------------------------------------------------------------------------

    async def _start(self) -> None:
        app, conf = self.app, self.conf
        if conf.autodiscover:
            discovered = app.discover()  # the agents, tables... of the app's other modules
            log.info("autodiscover imported %s", ", ".join(discovered) or "nothing")
        self.transport.check_connection(conf.broker_connect_timeout)
        if conf.exactly_once or any(t.store_scheme == "rocksdb" for t in app.tables.values()):
            self._state = DataDirectory(Path(conf.data_directory))
            self._state.lock()
        self._topic_setup.declared()
        producer_id = None
        if conf.exactly_once:
            assert self._state is not None
            producer_id = transactional_id(app.id, self._state.worker_id)
        # with tables, changelog records report their offsets (tables store what they
        # applied); sends with callback= need success reports too
        functions: list[Callable[..., Any]] = [
            *(agent.fun for agent in app.agents.values()),
            *(timer.fun for timer in app.timers),
            *(crontab.fun for crontab in app.crontabs),
            *(task.fun for task in app.tasks),
        ]
        reported = sends_with_callbacks(functions) or (
            self.sensor is not None and self.sensor.wants_completions
        )
        producer = self._producer = self.transport.producer(
            transactional_id=producer_id,
            track_deliveries=bool(app.tables) or reported,
            # only the changelog records need success reports: the Kafka producer sends
            # the rest where only failures are reported (one report fewer a record)
            tracked_only=not reported,
        )
        if self.sensor is not None and self.sensor.wants_send_errors:
            producer.report_failures(self.sensor.on_send_error)
        self.commits = commit_protocol(conf, producer, clock=self.clock, sensor=self.sensor)
        self.commits.begin()
        if producer_id is not None:
            self._registry = TransactionalRegistry(
                self.transport,
                app.id,
                producer_id,
                silence=conf.broker_session_timeout,
                clock=self.clock,
                replicas=conf.topic_replication_factor,
            )
            self._registry.start()
        self._replies = Replies(app, self.transport)
        sensor = self.sensor
        lent: Producer = (
            SensedProducer(producer, sensor)
            if sensor is not None and (sensor.wants_sends or sensor.wants_completions)
            else producer
        )
        app.running = Running(
            lent,
            attach_stream=self.routes.attach,
            replies=self._replies,
            detach=self.routes.detach_current,
            is_leader=lambda: self._leadership.is_leader,
        )
        runners = self._start_agents()
        for task in app.tasks:
            self._schedule.start_task(task, self.compiled_agents.get(task.name, task.fun))
        await self._wait_until_ready(runners)
        partitions = self._start_tables() if app.tables else {}
        if self._tables is not None:
            await self._tables.start_globals()
        consumer = self._consumer = self.transport.consumer(consumer_group(app.id))
        if self.hooks is not None:
            self.hooks.consumer, self.hooks.producer = consumer, producer
        self.commits.attach(
            consumer,
            tables=self._tables,
            held=self.routes.held_offsets,
            ignored=frozenset() if conf.topic_disable_leader else frozenset({self._leader_topic}),
        )
        self._rebalance = Rebalance(
            consumer, tables=self._tables, commits=self.commits, sensor=self.sensor
        )
        partitions.update(self._subscribe())
        self._schedule.start_timers(app.timers, app.crontabs)
        for service in app.start_services():
            await service.start()
        sources = self.routes.subscribed
        compiled = sum(name in self.compiled_agents for name in app.agents)
        log.info(
            "worker for app %r on %s: %d agent(s) (%d compiled), %d table(s), sources %s, "
            "group %r, %s%s",
            app.id,
            self.transport.description,
            len(app.agents),
            compiled,
            len(app.tables),
            ", ".join(f"{topic} ({partitions.get(topic, '?')} partitions)" for topic in sources)
            or "none",
            consumer_group(app.id),
            conf.processing_guarantee.replace("_", "-"),
            f", web server on {self.web_address}" if self.web_address else "",
        )
        uncompiled = sorted(name for name in app.agents if name not in self.compiled_agents)
        if self.built and uncompiled:
            log.warning(
                "agent(s) running uncompiled (faustc did not fuse them: registered in "
                "another module, inside a function or by a call): %s",
                ", ".join(uncompiled),
            )

    def _start_agents(self) -> list[AgentRunner | ConcurrentAgent | IsolatedAgent]:
        """One runner per agent instance (``concurrency=N``: N of them), started."""
        runners: list[AgentRunner | ConcurrentAgent | IsolatedAgent] = []
        for agent in self.app.agents.values():
            fun = self.compiled_agents.get(agent.name, agent.fun)
            policy = self._policy_for(agent, fun)
            if agent.isolated_partitions:
                isolated = IsolatedAgent(
                    functools.partial(self._isolated_instance, agent, fun, policy),
                    agent.name,
                    [agent.channel.get_topic_name()],
                )
                self._isolated.append(isolated)
                runners.append(isolated)
                self.routes.add(isolated)
                continue
            instances = [AgentRunner(agent, fun, policy) for _ in range(agent.concurrency)]
            for instance in instances:
                instance.on_new_topic = self.routes.on_new_topic
                instance.monotonic = self.clock.monotonic
            runner = instances[0] if len(instances) == 1 else ConcurrentAgent(instances)
            runners.append(runner)
            self.routes.add(runner)
            runner.start()
        return runners

    def _isolated_instance(self, agent: Any, fun: Any, policy: ErrorPolicy) -> AgentRunner:
        runner = AgentRunner(agent, fun, policy)
        runner.on_new_topic = self.routes.on_new_topic
        return runner

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

    async def _wait_until_ready(
        self, runners: list[AgentRunner | ConcurrentAgent | IsolatedAgent]
    ) -> None:
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

    def _start_tables(self) -> dict[str, int]:
        """Create the changelogs, co-partitioned with the topics streams consume, and take
        the tables over."""
        partitions = self._topic_setup.ensure(self.routes.consumers)
        state = self._state.path if self._state is not None else None
        tables = self._tables = TableManager(
            self.app, self.transport, data_directory=state, wall_clock=self.clock.time
        )
        sources = {name: partitions[name] for name in self.routes.topics() if name in partitions}
        changelog_partitions = self._topic_setup.changelogs(tables, sources)
        tables.attach()
        return {**partitions, **changelog_partitions}

    def _subscribe(self) -> dict[str, int]:
        """Create the topics streams consume that do not exist yet; (re)subscribe to all."""
        routes, consumer, rebalance = self.routes, self._consumer, self._rebalance
        routes.resubscribe = False
        partitions = self._topic_setup.ensure(routes.consumers)
        sources = routes.topics()
        if sources and sources != routes.subscribed and consumer is not None:
            assert rebalance is not None
            leading = [] if self.conf.topic_disable_leader else [self._leader_topic]
            # and the leader topic, whose partition 0 elects the leader
            consumer.subscribe(
                [*sources, *leading], self._on_assigned, self._on_revoked, self._on_lost
            )
            routes.subscribed = sources
        return partitions

    @property
    def _leader_topic(self) -> str:
        return leader_topic_name(self.app.id)

    def _on_assigned(self, partitions: list[TopicPartition]) -> None:
        """The rebalance's assignment, with the leader topic's partition taken out: it
        only says whether this worker leads."""
        assert self._rebalance is not None
        self._reports.rebalanced()
        leader = self._leader_topic
        if not self.conf.topic_disable_leader and (
            any(tp.topic == leader for tp in partitions) or not self._leadership.known.is_set()
        ):
            self._leadership.assigned(any(tp.topic == leader for tp in partitions))
        self._rebalance.on_assigned([tp for tp in partitions if tp.topic != leader])

    def _on_revoked(self, partitions: list[TopicPartition], *, lost: bool = False) -> None:
        assert self._rebalance is not None
        self._reports.rejoining()
        leader = self._leader_topic
        if any(tp.topic == leader for tp in partitions):
            self._leadership.assigned(False)
        ours = [tp for tp in partitions if tp.topic != leader]
        if lost:
            self._rebalance.on_lost(ours)
        else:
            self._rebalance.on_revoked(ours)
        for isolated in self._isolated:  # their instances of those partitions end
            revoked = [tp.partition for tp in partitions if tp.topic in isolated.topics]
            if revoked:
                isolated.revoke(revoked, STOP_TIMEOUT)

    def _on_lost(self, partitions: list[TopicPartition]) -> None:
        """The group took the partitions away without a revocation (the session expired):
        as a revocation, without committing (they may be another worker's already)."""
        self._on_revoked(partitions, lost=True)

    # -- stopping --------------------------------------------------------------------------

    async def _stop(self) -> None:
        await self.app.on_before_shutdown.send()
        await self.routes.stop(timeout=STOP_TIMEOUT)
        try:
            self.commit()
        except StoreFailed as exc:  # closing must not commit past it (a revocation would)
            await self._fail(exc)
            raise
        await self._close(graceful=True)
        if self.hooks is not None:
            await self.hooks.send_signals()  # the revocation of closing
        await self.app.on_shutdown.send()
        for name, policy in self.policies.items():
            if policy.decode_errors or policy.agent_errors:
                log.info("agent %s: %s", name, policy.summary())
        log.info("stopped after processing %d message(s)", self.processed)

    async def _close(self, *, graceful: bool) -> None:
        if self._rebalance is not None:
            self._rebalance.closing = True
        if self.hooks is not None:
            self.hooks.closing = True
        for service in self.app.running_services:
            try:
                await service.stop()
            except Exception:
                log.exception("service %r raised while stopping", service)
        self.app.running_services = []
        if self._registry is not None:
            with contextlib.suppress(Exception):
                self._registry.close()
            self._registry = None
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
