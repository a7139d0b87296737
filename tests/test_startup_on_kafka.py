"""A built worker that cannot run on the cluster it finds, or with the settings it is
given, stops at start-up with one line on stderr and exit status 1, never a traceback
(tests/test_topic_setup.py has the same rules on the memory transport).

Each case is a real worker process on the embedded broker: a table whose ``partitions=``
is not its source topic's partition count (narrower or wider, topics declared by the
worker or not), ``topic_allow_declare=False`` with a source or changelog topic missing or
of the wrong width, a declared topic narrower on the broker than declared, and settings
out of range. An existing changelog that is not compacted is a warning, and the worker
runs (Faust does not look).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from faustc.broker import EmbeddedBroker
from kafka_helpers import WorkerProcess, build_app, create_topic, wait_for_output_in

pytestmark = pytest.mark.broker

_ids = itertools.count()

APP = """\
import faust

app = faust.App({app_id!r}, broker="kafka://localhost:9092", store="rocksdb://"{settings})

orders_topic = app.topic({orders!r}, key_type=str, value_type=int{orders_partitions})
totals_table = app.Table("totals", default=int{table_partitions}{table_options})


@app.agent(orders_topic)
async def count(orders: faust.Stream[int]) -> None:
    async for account, amount in orders.items():
        totals_table[account] += amount
{extra}

if __name__ == "__main__":
    app.main()
"""


class StartingApp:
    """``APP`` under names of its own (the session's broker is shared), built."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        settings: str = "",
        orders_partitions: int | None = 4,
        table_partitions: int | None = None,
        extra: str = "",
        table_options: str = "",
    ) -> None:
        tag = f"startup-{next(_ids)}-{int(time.time() * 1000) % 100_000}"
        self.tmp_path = tmp_path
        self.app_id = tag
        self.orders = f"{tag}-orders"
        self.changelog = f"{tag}-totals-changelog"
        source = tmp_path / f"{tag.replace('-', '_')}.py"
        source.write_text(
            APP.format(
                app_id=tag,
                settings=f", {settings}" if settings else "",
                orders=self.orders,
                orders_partitions=(
                    f", partitions={orders_partitions}" if orders_partitions else ""
                ),
                table_partitions=f", partitions={table_partitions}" if table_partitions else "",
                extra=extra,
                table_options=table_options,
            )
        )
        self.source = source
        self.built = build_app(source, tmp_path)

    def start(
        self, broker: EmbeddedBroker, env: dict[str, str] | None = None, *, built: bool = True
    ) -> WorkerProcess:
        program = self.built if built else self.source
        argv = [str(program), "worker", "--broker", broker.url, "--without-web"]
        argv += ["--datadir", str(self.tmp_path / "data")]
        return WorkerProcess(argv, self.tmp_path, env)

    def refused(
        self, broker: EmbeddedBroker, env: dict[str, str] | None = None, *, built: bool = True
    ) -> str:
        """Start a worker that must stop at once: its one ``error:`` line."""
        worker = self.start(broker, env, built=built)
        try:
            code = worker.process.wait(60)
        finally:
            worker.kill()
        stderr = worker.stderr
        assert code == 1, stderr
        assert "Traceback" not in stderr, stderr
        errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, stderr
        return errors[0]


# -- tables whose partitions are not their source's --------------------------------------


@pytest.mark.parametrize("declare", [True, False])
def test_a_table_narrower_than_its_source_is_one_line(
    broker: EmbeddedBroker, tmp_path: Path, declare: bool
) -> None:
    """The reported bug: with topic_allow_declare=False the worker knew no source topic's
    partitions and died of ``max() arg is an empty sequence``."""
    app = StartingApp(tmp_path, settings=f"topic_allow_declare={declare}", table_partitions=2)
    create_topic(broker.bootstrap, app.orders, 4)
    assert app.refused(broker) == (
        f"error: table 'totals' declares partitions=2, but its source topic {app.orders!r} "
        "has 4 partitions: a table's changelog has one partition per partition of the "
        "topics that write it; set partitions=4 on the table (or leave it out)"
    )


def test_a_table_wider_than_its_source_is_one_line(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """A wider changelog used to be accepted: table routes then place keys by its width,
    not the source's (and Faust refuses it at the table's first write)."""
    app = StartingApp(tmp_path, table_partitions=8)
    assert app.refused(broker) == (
        f"error: table 'totals' declares partitions=8, but its source topic {app.orders!r} "
        "has 4 partitions: a table's changelog has one partition per partition of the "
        "topics that write it; set partitions=4 on the table (or leave it out)"
    )


# -- topic_allow_declare=False: the topics must be there, as the worker would make them ---


def test_a_missing_source_topic_is_one_line(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app = StartingApp(tmp_path, settings="topic_allow_declare=False")
    assert app.refused(broker) == (
        f"error: topic {app.orders!r} (consumed by {app.app_id.replace('-', '_')}.count) "
        "does not exist, and topic_allow_declare=False: the worker creates no topics; "
        "create it (4 partitions) or allow the worker to declare topics"
    )


def test_a_missing_changelog_topic_is_one_line(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app = StartingApp(tmp_path, settings="topic_allow_declare=False")
    create_topic(broker.bootstrap, app.orders, 4)
    assert app.refused(broker) == (
        f"error: changelog topic {app.changelog!r} of table 'totals' does not exist, and "
        "topic_allow_declare=False: the worker creates no topics; create it (4 partitions, "
        "cleanup.policy=compact) or allow the worker to declare topics"
    )


def test_a_changelog_of_another_width_is_one_line(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app = StartingApp(tmp_path, settings="topic_allow_declare=False", orders_partitions=None)
    create_topic(broker.bootstrap, app.orders, 4)  # not declared: the broker's count rules
    create_topic(broker.bootstrap, app.changelog, 2)
    assert app.refused(broker) == (
        f"error: changelog topic {app.changelog!r} of table 'totals' has 2 partitions, but "
        "the table needs 4 (co-partitioned with its source topics); recreate the changelog "
        "with 4 partitions (the table then starts empty)"
    )


def test_a_changelog_that_is_not_compacted_is_a_warning_and_the_worker_runs(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    app = StartingApp(tmp_path, settings="topic_allow_declare=False")
    create_topic(broker.bootstrap, app.orders, 4)
    create_topic(broker.bootstrap, app.changelog, 4)  # cleanup.policy: the default, delete
    worker = app.start(broker)
    try:
        wait_for_output_in(worker.stderr_path, "restored: processing resumes")
        assert worker.stop() == 0, worker.stderr
    finally:
        worker.kill()
    warnings = [line for line in worker.stderr.splitlines() if "cleanup.policy" in line]
    assert len(warnings) == 1, worker.stderr
    assert warnings[0].endswith(
        f"changelog topic {app.changelog!r} of table 'totals' has cleanup.policy=delete: its "
        "records are deleted after the topic's retention and a later restore loses them; set "
        "cleanup.policy=compact on it"
    )
    assert "Traceback" not in worker.stderr


def test_a_missing_leader_topic_is_one_line_when_the_app_has_leader_timers(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Without its leader topic the group elects no leader: an on_leader=True timer would
    never run (Faust runs so, silently)."""
    timer = """

@app.timer(60.0, on_leader=True)
async def report() -> None:
    print("leading")
"""
    app = StartingApp(tmp_path, settings="topic_allow_declare=False", extra=timer)
    create_topic(broker.bootstrap, app.orders, 4)
    create_topic(broker.bootstrap, app.changelog, 4, topic_config={"cleanup.policy": "compact"})
    module = app.source.stem
    assert app.refused(broker) == (
        f"error: the leader topic '{app.app_id}-__assignor-__leader' does not exist, and "
        "topic_allow_declare=False: no worker would run the on_leader=True timers and tasks "
        f"({module}.report); create it (1 partition)"
    )


def test_a_changelog_declared_as_deleting_is_not_warned_about(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``changelog_topic=app.topic(..., deleting=True)``: the policy the app asked for."""
    changelog = f"deleting-{next(_ids)}-{int(time.time() * 1000) % 100_000}"
    app = StartingApp(
        tmp_path,
        settings="topic_allow_declare=False",
        table_options=f", changelog_topic=app.topic({changelog!r}, deleting=True)",
    )
    create_topic(broker.bootstrap, app.orders, 4)
    create_topic(broker.bootstrap, changelog, 4, topic_config={"cleanup.policy": "delete"})
    worker = app.start(broker)
    try:
        wait_for_output_in(worker.stderr_path, "restored: processing resumes")
        assert worker.stop() == 0, worker.stderr
    finally:
        worker.kill()
    assert "cleanup.policy" not in worker.stderr and "Traceback" not in worker.stderr


# -- declared topics ------------------------------------------------------------------------


def test_a_topic_narrower_than_declared_is_one_line(broker: EmbeddedBroker, tmp_path: Path) -> None:
    app = StartingApp(tmp_path)
    create_topic(broker.bootstrap, app.orders, 2)
    assert app.refused(broker) == (
        f"error: topic {app.orders!r} is declared with partitions=4 but has 2 on the broker: "
        f"set partitions=2 on app.topic({app.orders!r}) or give the topic 4 partitions "
        "(topics that feed tables must be co-partitioned)"
    )


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"FAUST_BROKER_SESSION_TIMEOUT": "-5"},
            "broker_session_timeout must be more than 0, not -5.0",
        ),
        ({"FAUST_TOPIC_PARTITIONS": "0"}, "topic_partitions must be more than 0, not 0"),
        (
            {"FAUST_BROKER_MAX_POLL_RECORDS": "-1"},
            "broker_max_poll_records must be more than 0, not -1",
        ),
        (
            {"FAUST_STREAM_BUFFER_MAXSIZE": "2000000"},
            "stream_buffer_maxsize must be at most 1000000 (librdkafka's limit for one "
            "batch), not 2000000",
        ),
        (
            {"FAUST_BROKER_COMMIT_INTERVAL": "-1"},
            "broker_commit_interval must be more than 0, not -1.0",
        ),
        (
            {"FAUST_TOPIC_REPLICATION_FACTOR": "0"},
            "topic_replication_factor must be 1 or more (or -1: the broker's default), not 0",
        ),
        (
            {"FAUST_BROKER_HEARTBEAT_INTERVAL": "6", "FAUST_BROKER_SESSION_TIMEOUT": "6"},
            "broker_heartbeat_interval (6s) must be less than broker_session_timeout (6s); "
            "Kafka advises a third of it at most",
        ),
        (
            {"FAUST_PROCESSING_GUARANTEE": "exactly-once"},
            "processing_guarantee must be 'at_least_once' or 'exactly_once', not 'exactly-once'",
        ),
        (
            {"FAUST_DATADIR": "/tmp/{app}-data"},
            "datadir='/tmp/{app}-data' cannot be filled in (it may use {appid}): KeyError: 'app'",
        ),
        (
            {"FAUST_DEAD_LETTER_TOPIC": "{source}-dlq"},
            "dead_letter_topic='{source}-dlq' cannot be filled in (it may use {topic}): "
            "KeyError: 'source'",
        ),
        (
            {"FAUST_VALUE_SERIALIZER": "yaml"},
            "unknown serializer 'yaml' (known: avro, avro-confluent, binary, json, pickle, raw)",
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_a_setting_out_of_range_is_one_line(
    broker: EmbeddedBroker, tmp_path: Path, env: dict[str, str], line: str
) -> None:
    app = StartingApp(tmp_path)
    assert app.refused(broker, env) == f"error: {line}"


def test_a_setting_out_of_range_in_the_app_is_one_line(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    app = StartingApp(tmp_path, settings="topic_partitions=0")
    assert app.refused(broker) == "error: topic_partitions must be more than 0, not 0"


def test_an_unknown_serializer_is_one_line_from_the_app_module_too(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``python app.py worker``: the error is raised while the module declares its topics,
    so it never reaches ``app.main()``: the one line, and no second one saying so."""
    app = StartingApp(tmp_path)
    worker = app.start(broker, {"FAUST_VALUE_SERIALIZER": "yaml"}, built=False)
    try:
        assert worker.process.wait(60) == 1, worker.stderr
    finally:
        worker.kill()
    assert worker.stderr.splitlines() == [
        "error: unknown serializer 'yaml' (known: avro, avro-confluent, binary, json, pickle, raw)"
    ]
