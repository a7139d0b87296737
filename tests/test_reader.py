"""Front end: what the reader finds in each example, with source positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES
from faustc.front.ir import AppModule, FieldRef, GroupBy, Terminal
from faustc.front.reader import read_module
from faustc.front.validate import validate_ir
from faustc.source import SourceFile


def read(name: str) -> tuple[AppModule, list[str]]:
    source = SourceFile.load(EXAMPLES / name)
    module = read_module(source)
    validate_ir(module)
    return module, source.lines


def position(lines: list[str], needle: str) -> tuple[int, int]:
    """1-based (line, column) of the first occurrence of ``needle``."""
    for number, line in enumerate(lines, start=1):
        column = line.find(needle)
        if column >= 0:
            return number, column + 1
    raise AssertionError(f"{needle!r} not in source")


def test_wordcount() -> None:
    module, lines = read("wordcount.py")
    assert module.module == "wordcount"
    assert module.display_name == "wordcount.py"
    assert module.app.var == "app"
    assert module.app.app_id == "word-count-app"
    assert (module.app.span.line, module.app.span.column) == position(lines, "faust.App(")

    (topic,) = module.topics
    assert (topic.var, topic.names, topic.value_type, topic.key_type) == (
        "words_topic",
        ("words",),
        "str",
        None,
    )
    assert (topic.span.line, topic.span.column) == position(lines, "app.topic(")

    (table,) = module.tables
    assert (table.var, table.name, table.default) == ("word_counts_table", "word-counts", "int")

    (timer,) = module.timers
    assert (timer.name, timer.interval) == ("print_counts", "5.0")

    (agent,) = module.agents
    assert agent.name == "count_words"
    assert agent.qualified_name == "wordcount.count_words"
    assert agent.topic_var == "words_topic"
    assert agent.param == "words"
    assert (agent.span.line, agent.span.column) == position(lines, "count_words(")
    assert agent.prelude is None and agent.postlude is None
    loop = agent.loop
    assert (loop.target, loop.mode, loop.operations) == ("word", "values", ())
    assert (loop.span.line, loop.span.column) == position(lines, "async for word")
    assert loop.body.text == "word_counts_table[word] += 1\n"
    assert loop.body.line == position(lines, "word_counts_table[word] += 1")[0]
    assert agent.globals_used == ("word_counts_table",)


def test_big_orders() -> None:
    module, lines = read("big_orders.py")
    assert [record.name for record in module.records] == ["Order", "BigOrder"]
    order = module.records[0]
    assert [(f.name, f.annotation, f.has_default) for f in order.fields] == [
        ("order_id", "str", False),
        ("account_id", "str", False),
        ("amount", "float", False),
        ("currency", "str", True),
    ]
    assert order.options == (("serializer", '"json"'),)
    assert (order.fields[2].span.line, order.fields[2].span.column) == position(
        lines, "amount: float"
    )

    orders, big = module.topics
    assert (orders.names, orders.key_type, orders.value_type, orders.partitions) == (
        ("orders",),
        "str",
        "Order",
        4,
    )
    assert big.names == ("big-orders",)

    (agent,) = module.agents
    loop = agent.loop
    assert loop.target == "big"
    first, second = loop.operations
    assert (first.kind, first.function.kind, first.function.param, first.function.body) == (
        "filter",
        "lambda",
        "o",
        "o.amount >= BIG",
    )
    assert (first.span.line, first.span.column) == position(lines, "filter(lambda")
    assert (second.kind, second.function.kind, second.function.text) == (
        "map",
        "sync",
        "to_big_order",
    )
    assert set(agent.globals_used) == {"BIG", "big_orders_topic", "to_big_order"}


def test_source_of_a_package_module(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    app_file = package / "streams.py"
    app_file.write_text((EXAMPLES / "wordcount.py").read_text())
    source = SourceFile.load(app_file)
    assert source.module == "shop.streams"
    assert source.display_name == "shop/streams.py"
    assert source.import_root == tmp_path
    assert read_module(source).agents[0].qualified_name == "shop.streams.count_words"


def test_every_stream_operation_becomes_an_ir_node() -> None:
    source = SourceFile.load(Path(__file__).parent / "apps" / "stages.py")
    module = read_module(source)
    validate_ir(module)
    lines = source.lines
    agents = {agent.name: agent for agent in module.agents}
    per_account = agents["per_account"]
    kinds = [op.kind for op in per_account.loop.operations]
    assert kinds == ["processor", "filter", "group_by", "map"]  # add_processor runs first
    group_by = per_account.loop.operations[2]
    assert isinstance(group_by, GroupBy) and group_by.key == FieldRef("Payment", "account")
    assert (group_by.name, group_by.partitions) == ("Payment.account", 2)
    assert (group_by.span.line, group_by.span.column) == position(lines, "group_by(Payment")
    assert per_account.loop.terminal == Terminal(
        "enumerate", per_account.loop.terminal.span, start="1"
    )
    assert per_account.prelude is None  # the add_processor statement moved into the chain
    batched = agents["batched"]
    assert [op.kind for op in batched.loop.operations] == ["echo", "group_by"]
    assert (batched.loop.terminal.max_, batched.loop.terminal.within) == ("4", "3600")
    assert [(s.kind, s.text) for s in batched.sinks] == [
        ("topic", "audit"),
        ("async", "audit_sink"),
    ]
    assert batched.yields
    assert [op.kind for op in agents["mirrored"].loop.operations] == ["rate_limit", "through"]
    assert [op.kind for op in agents["acking"].loop.operations] == ["noack"]
    assert agents["acking"].loop.terminal.kind == "events"
    assert agents["in_parallel"].concurrency == 3
    task = agents["small_payments"]
    assert (task.kind, task.topic_var, task.param) == ("task", "payments", "")


CURRENT_EVENT_APP = '''
import faust
from faust import current_event as now

app = faust.App("events")
numbers = app.topic("numbers", value_type=int)
# (a comment that names current_event, and a string: "faust.current_event()")


def stamp(value: int) -> str:
    event = now()
    return f"{value}@{event.message.offset if event else '-'}"


@app.agent(numbers)
async def plain(stream: faust.Stream[int]) -> None:
    """Sums; never asks for faust.current_event()."""
    async for value in stream:
        print(value)


@app.agent(numbers)
async def direct(stream: faust.Stream[int]) -> None:
    async for value in stream:
        print(faust.current_event(), value)


@app.agent(numbers)
async def through_a_helper(stream: faust.Stream[int]) -> None:
    async for value in stream.map(stamp):
        print(value)
'''


def test_current_event_is_found_by_qualified_name_inside_the_agent(tmp_path: Path) -> None:
    """An agent builds an Event per message only when its code, or module-level code it
    names, refers to ``faust.current_event`` (an alias included); a comment or a string
    that mentions it changes nothing (it used to switch every agent of the module)."""
    app_file = tmp_path / "events.py"
    app_file.write_text(CURRENT_EVENT_APP)
    module = read_module(SourceFile.load(app_file))
    uses = {agent.name: agent.uses_current_event for agent in module.agents}
    assert uses == {"plain": False, "direct": True, "through_a_helper": True}


def test_a_comment_naming_current_event_leaves_every_agent_without_events(
    tmp_path: Path,
) -> None:
    app_file = tmp_path / "wordcount.py"
    text = (EXAMPLES / "wordcount.py").read_text()
    app_file.write_text(text + "\n# faust.current_event() is not used here\n")
    module = read_module(SourceFile.load(app_file))
    assert [agent.uses_current_event for agent in module.agents] == [False]


def test_a_build_parses_the_app_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The reader parses the module once and keeps the tree; types, checks, the plan and
    its analyses ask that tree (the app used to be parsed again 27 times a build)."""
    import libcst

    from faustc.build import compile_source

    calls: list[str] = []
    for name in ("parse_module", "parse_expression", "parse_statement"):
        original = getattr(libcst, name)

        def counting(*args: object, _name: str = name, _original: object = original) -> object:
            calls.append(_name)
            assert callable(_original)
            return _original(*args)

        monkeypatch.setattr(libcst, name, counting)
    for app in ("stages.py", "chains.py", "records_app.py", "windowed.py"):
        calls.clear()
        compile_source(SourceFile.load(Path(__file__).parent / "apps" / app), tmp_path)
        assert calls == ["parse_module"], app


def test_an_app_under_two_names(tmp_path: Path) -> None:
    """``app = faust_app = faust.App(...)`` and ``other = app`` bind one App: topics and
    agents declared through any of the names are read."""
    app_file = tmp_path / "aliases.py"
    app_file.write_text(
        "import faust\n"
        "app = faust_app = faust.App('aliases')\n"
        "other = faust_app\n"
        "orders = faust_app.topic('orders', value_type=str)\n"
        "counts = other.Table('counts', default=int)\n"
        "@other.agent(orders)\n"
        "async def count(stream):\n"
        "    async for order in stream:\n"
        "        counts[order] += 1\n"
    )
    module = read_module(SourceFile.load(app_file))
    assert module.app.names == ("app", "faust_app", "other")
    assert [topic.var for topic in module.topics] == ["orders"]
    assert [table.name for table in module.tables] == ["counts"]
    assert [agent.qualified_name for agent in module.agents] == ["aliases.count"]


def test_a_file_whose_name_is_no_module_name(tmp_path: Path) -> None:
    """``exercise6.4.py`` is named by its stem, as Python names the script it runs (no
    package walk: nothing imports it), and loaded from its path by its worker."""
    (tmp_path / "__init__.py").write_text("")
    app_file = tmp_path / "exercise6.4.py"
    app_file.write_text((EXAMPLES / "wordcount.py").read_text())
    source = SourceFile.load(app_file)
    assert (source.module, source.display_name, source.importable) == (
        "exercise6.4",
        "exercise6.4.py",
        False,
    )
    assert source.import_root == tmp_path
    assert read_module(source).agents[0].qualified_name == "exercise6.4.count_words"


STATICS_APP = """\
import os
from os import environ, getenv
import faust

PREFIX = 'sensor'
COUNT = 3
TWICE = 'a'
TWICE = 'b'
if PREFIX:
    INSIDE = 'x'
app = faust.App(os.environ.get('APP_ID', f'{PREFIX}-app'))
"""

STATIC_CASES = [
    ("'plain'", "plain", ()),
    ("PREFIX", "sensor", ()),
    ("f'{PREFIX}-{COUNT}'", "sensor-3", ()),
    ("PREFIX + '-alerts'", "sensor-alerts", ()),
    ("COUNT * 2 + 1", 7, ()),
    ("os.environ.get('SINK', 'out')", "out", ("SINK",)),
    ("environ.get('SINK', default=PREFIX)", "sensor", ("SINK",)),
    ("getenv('SINK', f'{PREFIX}-x')", "sensor-x", ("SINK",)),
    ("f'{app.conf.id}-events'", "sensor-app-events", ("APP_ID",)),
    ("app.id", "sensor-app", ("APP_ID",)),
    ("os.environ['SINK']", None, ()),
    ("os.environ.get('SINK')", None, ()),
    ("TWICE", None, ()),
    ("INSIDE", None, ()),
    ("f'{COUNT:03}'", None, ()),
    ("str(COUNT)", None, ()),
    ("UNDEFINED", None, ()),
]


@pytest.mark.parametrize(("expression", "value", "env"), STATIC_CASES)
def test_static_values(
    tmp_path: Path, expression: str, value: object, env: tuple[str, ...]
) -> None:
    """What the compiler evaluates for a name: constants, f-strings, the environment's
    defaults (remembering the variables), the App's id; None for anything dynamic."""
    from libcst import parse_module
    from libcst.metadata import MetadataWrapper

    from faustc.front.context import ModuleContext

    app_file = tmp_path / "statics.py"
    app_file.write_text(STATICS_APP + f"probe = {expression}\n")
    source = SourceFile.load(app_file)
    module = read_module(source)
    context = ModuleContext(source, MetadataWrapper(parse_module(source.text)))
    probe = context.tree.body[-1].body[0]  # type: ignore[attr-defined]
    found = context.statics.evaluate(probe.value, module.app)
    if value is None:
        assert found is None
    else:
        assert found is not None and (found.value, found.env) == (value, env)


def test_names_from_constants_of_the_apps_other_modules(tmp_path: Path) -> None:
    """``from settings import TOPIC``, ``import settings`` / ``settings.SINK`` and
    relative imports of the app's own modules are read there (re-exports followed)."""
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("import os\nPREFIX = os.getenv('SHOP_PREFIX', 'shop')\n")
    (package / "settings.py").write_text(
        "from .base import PREFIX\nORDERS = f'{PREFIX}-orders'\nSINK = 'receipts'\n"
    )
    (package / "app.py").write_text(
        "import faust\n"
        "import shop.settings as conf\n"
        "from shop import settings\n"
        "from .settings import ORDERS\n"
        "app = faust.App(conf.PREFIX)\n"
        "orders = app.topic(ORDERS, value_type=str)\n"
        "receipts = app.topic(settings.SINK, value_type=str)\n"
    )
    module = read_module(SourceFile.load(package / "app.py"))
    assert (module.app.app_id, module.app.env) == ("shop", ("SHOP_PREFIX",))
    assert [(t.names, t.env) for t in module.topics] == [
        (("shop-orders",), ("SHOP_PREFIX",)),
        (("receipts",), ()),
    ]
