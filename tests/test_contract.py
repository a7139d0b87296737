"""The contract between the compiler and the runtime: one rule, one home (``faust.contract``).

Each test names one promise: the compiler and the runtime compute the same internal names
from the same function, so a built worker and the reference runtime create and consume the
same topics.
"""

from __future__ import annotations

from pathlib import Path

import faust
from faust import contract
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


def test_map_and_processors_change_the_value_and_nothing_else_does() -> None:
    assert [op for op in ("filter", "map", "processor", "echo") if contract.changes_value(op)] == [
        "map",
        "processor",
    ]
