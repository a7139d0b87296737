"""The contract between the compiler and the runtime: one rule, one home (``faust.contract``).

Each test names one promise: the compiler and the runtime compute the same internal names
from the same function, so a built worker and the reference runtime create and consume the
same topics.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import faust
from conftest import EXAMPLES, REPO
from faust import compiled, contract
from faustc.build import compile_source
from faustc.front.reader import read_module
from faustc.source import SourceFile
from faustc.topology import build_topology

APPS = Path(__file__).parent / "apps"


def test_a_repartition_topic_is_named_as_faust_names_it() -> None:
    assert (
        contract.repartition_topic_name("shop.count", "orders", "Order.account")
        == "shop.count-orders-Order.account-repartition"
    )
    assert contract.repartition_topic_name("", "orders", "mod3") == "orders-mod3-repartition"


def test_a_changelog_is_named_after_the_app_and_the_table() -> None:
    assert contract.changelog_topic_name("shop", "totals") == "shop-totals-changelog"
    app = faust.App("contract-changelog")
    assert app.Table("totals").changelog_topic_name == "contract-changelog-totals-changelog"


def test_the_runtime_names_a_group_by_topic_with_the_contract() -> None:
    app = faust.App("contract-group-by")

    class Order(faust.Record):
        account: str

    orders = app.topic("orders", value_type=Order)
    stream = app.stream(orders)
    stream.prefix = "shop.count"
    stream.group_by(Order.account)
    assert app.find_topic("shop.count-orders-Order.account-repartition") is not None


def test_the_compiler_names_internal_topics_with_the_contract() -> None:
    module = read_module(SourceFile.load(APPS / "stages.py"))
    labels = {node.label for node in build_topology(module).nodes}
    assert (
        contract.repartition_topic_name(
            "stages.per_account", "payments", contract.group_by_name("Payment", "account")
        )
        in labels
    )
    assert contract.changelog_topic_name("stages", "account-totals") in labels


def test_the_groups_and_internal_topics_of_an_app_start_with_its_id() -> None:
    """ACLs are granted on the app id's prefix: every group and internal topic has it."""
    assert contract.consumer_group("shop") == "shop"
    assert contract.changelog_reader_group("shop") == "shop-changelog-reader"
    assert contract.reply_topic_name("shop") == "shop-reply"
    assert contract.reply_topic_name("shop", "answers") == "answers"  # the reply_to setting
    assert contract.reply_group("shop", "0f3a") == "shop-reply-0f3a"
    assert contract.transactional_id("shop", "w1") == "shop-w1"
    assert contract.dead_letter_topic_name("orders") == "orders-dlq"
    assert contract.dead_letter_topic_name("orders", "{topic}.failed") == "orders.failed"
    assert contract.dead_letter_topic_name("orders", "all-failures") == "all-failures"


VERSIONED_APP = """
import faust

app = faust.App("ledger", version=3, broker="memory://")
totals = app.Table("totals", default=int)
history = app.topic("ledger-history", partitions=8)
balances = app.Table("balances", default=int, changelog_topic=history)


@app.agent()
async def audit(stream):
    async for value in stream:
        totals[value] += 1
"""


def test_a_versioned_app_runs_under_faust_s_id_format(tmp_path: Path) -> None:
    """``version=N > 1`` makes the id ``<id>-vN`` (Faust's ``id_format``), and every name
    derived from the id follows, in the runtime and in the compiler alike."""
    assert contract.app_id("ledger") == "ledger"
    assert contract.app_id("ledger", 1) == "ledger"
    assert contract.app_id("ledger", 3) == "ledger-v3"
    assert contract.app_id("ledger", 3, "{id}.{self.version}") == "ledger.3"

    namespace: dict[str, object] = {}
    exec(compile(VERSIONED_APP, "versioned.py", "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, faust.App)
    assert (app.id, app.conf.id, app.conf.name) == ("ledger-v3", "ledger-v3", "ledger")
    assert app.tables["totals"].changelog_topic_name == "ledger-v3-totals-changelog"
    (agent,) = app.agents.values()
    assert agent.channel.topics == (f"ledger-v3-{agent.name}",)
    assert contract.consumer_group(app.id) == "ledger-v3"

    path = tmp_path / "versioned.py"
    path.write_text(VERSIONED_APP)
    module = read_module(SourceFile.load(path))
    assert module.app is not None and module.app.app_id == "ledger-v3"
    labels = {node.label for node in build_topology(module).nodes}
    assert "ledger-v3-totals-changelog" in labels
    assert "ledger-v3-versioned.audit" in labels
    # a changelog the app names (changelog_topic=) is that topic, on both sides
    assert app.tables["balances"].changelog_topic_name == "ledger-history"
    assert "ledger-history" in labels and "ledger-v3-balances-changelog" not in labels


def test_the_clients_are_configured_with_the_contract_groups() -> None:
    from faust.settings import Settings
    from faust.transport.client_config import ClientConfigs

    configs = ClientConfigs(Settings.from_app_kwargs("shop", "kafka://b1:9093", {}))
    assert configs.consumer(contract.consumer_group("shop"))["group.id"] == "shop"
    reader = configs.changelog_reader()
    assert reader["group.id"] == contract.changelog_reader_group("shop")
    asker = configs.reply_consumer(contract.reply_group("shop", "1"))
    assert asker["group.id"] == "shop-reply-1"


def test_map_and_processors_change_the_value_and_nothing_else_does() -> None:
    assert [op for op in ("filter", "map", "processor", "echo") if contract.changes_value(op)] == [
        "map",
        "processor",
    ]


# -- the surface generated code may use ------------------------------------------------------

THROUGH_A_NAME = """
import faust

app = faust.App("derived")
numbers = app.topic("numbers", value_type=int)


@app.agent(numbers)
async def relay(stream: faust.Stream[int]) -> None:
    async for number in stream.through("numbers-again"):
        print(number)
"""


def _built_workers(tmp_path: Path) -> dict[str, str]:
    """The worker of every example, test app and bench app, and of an app that goes
    through a topic named by a string: between them they use every name of the surface."""
    extra = tmp_path / "derived.py"
    extra.write_text(THROUGH_A_NAME)
    sources = [*EXAMPLES.glob("*.py"), *APPS.glob("*.py"), *(REPO / "bench/apps").glob("*.py")]
    return {
        path.name: compile_source(SourceFile.load(path), tmp_path / "build").text
        for path in [*sorted(sources), extra]
    }


def _runtime_imports(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "faust"
        ):
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "faust"]
    return found


def test_generated_workers_import_the_runtime_only_through_faust_compiled(tmp_path: Path) -> None:
    for name, text in _built_workers(tmp_path).items():
        for module, names in _runtime_imports(text):
            assert module == "faust.compiled", (name, module)
            assert set(names) <= set(compiled.__all__), (name, names)


def test_generated_workers_touch_no_private_name_of_the_runtime(tmp_path: Path) -> None:
    """No ``x._private`` in a worker but the generated structs' own ``_faust`` field."""
    for name, text in _built_workers(tmp_path).items():
        private = {
            node.attr
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        }
        assert private <= {"_faust"}, (name, private)


def test_the_surface_is_exactly_what_generated_workers_use(tmp_path: Path) -> None:
    used = {
        imported
        for text in _built_workers(tmp_path).values()
        for _, names in _runtime_imports(text)
        for imported in names
    }
    assert used == set(compiled.__all__) - {"SURFACE_VERSION"}


def test_the_surface_names_public_objects_of_the_runtime() -> None:
    assert sorted(compiled.__all__) == sorted(set(compiled.__all__))
    assert all(not name.startswith("_") for name in compiled.__all__)
    assert all(hasattr(compiled, name) for name in compiled.__all__)
    assert isinstance(compiled.SURFACE_VERSION, int)


def test_a_worker_built_for_another_surface_is_refused_in_one_line() -> None:
    compiled.require_surface(compiled.SURFACE_VERSION)
    with pytest.raises(SystemExit) as refused:
        compiled.require_surface(compiled.SURFACE_VERSION + 1)
    message = str(refused.value.code)
    assert "\n" not in message and "rebuild it" in message


@given(st.dictionaries(st.integers(1, 300), st.integers(1, 120), max_size=80))
def test_a_line_table_reads_back_every_line_it_was_made_of(origins: dict[int, int]) -> None:
    table = contract.line_ranges(origins)
    for line in range(0, 302):
        assert contract.source_line(table, line) == origins.get(line)
    assert len(table) <= len(origins)


# -- one list of field specifiers, one Avro mapping, one type tree ----------------------------


def test_records_list_the_field_specifiers_the_runtime_and_compiler_know() -> None:
    """``dataclass_transform`` needs its list written out (mypy reads it there); it is
    the same list the runtime and the compiler use."""
    from faust.models.fields import FIELD_SPECIFIERS

    assert faust.Record.__dataclass_transform__["field_specifiers"] == FIELD_SPECIFIERS
    assert {cls.__name__ for cls in FIELD_SPECIFIERS} == contract.FIELD_SPECIFIER_NAMES


def test_the_compiler_and_the_runtime_map_every_record_to_the_same_avro_schema() -> None:
    """One mapping (``faust.serializers.avroschema``): the schema the compiler derives from
    the source equals the one the runtime derives from the class, for every Record a topic
    of the test apps carries with an Avro codec."""
    import sys

    from faust.serializers.avro import avro_schema
    from faustc.codecs.plan import avro_records
    from faustc.schema import record_schema
    from faustc.types import record_types

    sys.path.insert(0, str(APPS))
    try:
        import records_app
    finally:
        sys.path.remove(str(APPS))
    module = read_module(SourceFile.load(APPS / "records_app.py"))
    records = record_types(module)
    names = avro_records(module, records)
    assert len(names) >= 5
    for name in names:
        assert record_schema(module, records, name) == avro_schema(getattr(records_app, name))
