"""Read the module-level declarations: the App, its topics and its tables.

Each function takes the module's :class:`ModuleContext` and one assignment, and appends
what it declares (or a diagnostic). Example::

    # orders_topic = app.topic("orders", key_type=str, value_type=Order, partitions=4)
    read_assignment(context, line)
    context.topics[-1]      # TopicDef(var='orders_topic', names=('orders',), ...)
"""

from __future__ import annotations

import dataclasses
import difflib

import libcst as cst

from faust.contract import DEFAULT_ID_FORMAT, app_id, discovery_modules
from faust.settings import ALIASES, NOT_APPLIED, setting_names
from faustc.front.context import ModuleContext
from faustc.front.ir import AppDef, Span, TableDef, TopicDef

APP_NAMES = frozenset({"faust.App", "faust.app.App"})
#: the App methods that declare a table
TABLE_KINDS = ("Table", "GlobalTable", "SetTable", "SetGlobalTable")


def read_assignment(context: ModuleContext, line: cst.SimpleStatementLine) -> None:
    for statement in line.body:
        if not isinstance(statement, cst.Assign | cst.AnnAssign):
            continue
        value = statement.value
        if isinstance(statement, cst.Assign):
            targets = [target.target for target in statement.targets]
        else:
            targets = [statement.target]
        if not all(isinstance(target, cst.Name) for target in targets):
            continue
        names = [target.value for target in targets if isinstance(target, cst.Name)]
        if isinstance(value, cst.Name) and context.app is not None:
            if value.value in context.app.names:  # faust_app = app
                context.app = dataclasses.replace(
                    context.app, aliases=(*context.app.aliases, *names)
                )
            continue
        if not isinstance(value, cst.Call):
            continue
        if context.qualified(value.func) & APP_NAMES:
            read_app(context, names[0], value, aliases=tuple(names[1:]))
            continue
        if len(names) != 1:
            continue
        var = names[0]
        if context.is_app_method(value, "topic"):
            read_topic(context, var, value)
        else:
            table_call = table_declaration(context, value)
            if table_call is not None:
                read_table(context, var, table_call)


def read_app(
    context: ModuleContext, var: str, call: cst.Call, *, aliases: tuple[str, ...] = ()
) -> None:
    if context.app is not None:
        context.error("FC106", f"a second faust.App ({var!r}); one module holds one app", call)
        return
    positional = [arg for arg in call.args if arg.keyword is None and arg.star == ""]
    id_node = positional[0].value if positional else context.keyword(call, "id")
    app_id = context.static_string(id_node) if id_node is not None else None
    if app_id is None:
        context.error(
            "FC105",
            "the App id must be known when the worker is built (a string, a module "
            "constant, an f-string of constants or os.environ.get('VAR', 'default')): "
            "it names the consumer group and every internal topic",
            id_node if id_node is not None else call,
        )
    name = str(app_id.value) if app_id is not None else "<unknown>"
    if app_id is not None:
        name = versioned_id(context, call, name)
    env = app_id.env if app_id is not None else ()
    _check_settings(context, call)
    partitions = context.keyword(call, "topic_partitions")
    context.app = AppDef(
        var,
        name,
        context.span(call),
        aliases,
        env,
        discovered(context, call),
        context.fixed_int(partitions) if partitions is not None else None,
    )


def _check_settings(context: ModuleContext, call: cst.Call) -> None:
    """FC117 for each App keyword the worker will ignore, as the runtime warns when the
    app starts (one catalogue: ``faust.settings.NOT_APPLIED``)."""
    known = {*setting_names(), *ALIASES, "broker", "id"}
    for arg in call.args:
        if arg.keyword is None:
            continue
        name = arg.keyword.value
        if name in NOT_APPLIED:
            context.warning(
                "FC117",
                f"Faust setting {name!r} does not apply here and is ignored: {NOT_APPLIED[name]}",
                arg.keyword,
            )
        elif name not in known:
            close = difflib.get_close_matches(name, [*known, *NOT_APPLIED], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            context.warning("FC117", f"unknown App setting {name!r} is ignored{hint}", arg.keyword)


def versioned_id(context: ModuleContext, call: cst.Call, name: str) -> str:
    """The id the app runs under: ``name`` with ``version=`` and ``id_format=`` applied
    by Faust's rule (:func:`faust.contract.app_id`), when the compiler knows them."""
    version_node = context.keyword(call, "version")
    format_node = context.keyword(call, "id_format")
    version = context.fixed_int(version_node) if version_node is not None else 1
    id_format = context.fixed_string(format_node) if format_node is not None else None
    unknown = version_node if version is None else None
    if format_node is not None and id_format is None:
        unknown = format_node
    if unknown is not None or version is None:
        context.error(
            "FC105",
            "the App's version= and id_format= must be known when the worker is built "
            "(constants): with version > 1 they make the App id",
            unknown if unknown is not None else call,
        )
        return name
    try:
        return app_id(name, version, id_format or DEFAULT_ID_FORMAT)
    except (AttributeError, KeyError, IndexError, ValueError):
        context.error(
            "FC105",
            "this id_format reads more than {id} and {self.version}: the compiler cannot "
            "know the App id it makes",
            format_node if format_node is not None else call,
        )
        return name


def discovered(context: ModuleContext, call: cst.Call) -> tuple[str, ...]:
    """The packages ``faust.App(..., autodiscover=..., origin=...)`` scans, by the rule
    the worker's ``App.discover()`` follows (:func:`faust.contract.discovery_modules`;
    the values the compiler can evaluate)."""
    autodiscover = context.keyword(call, "autodiscover")
    if autodiscover is None:
        return ()
    listed: bool | list[str]
    if isinstance(autodiscover, cst.List | cst.Tuple):
        listed = []
        for element in autodiscover.elements:
            name = context.fixed_string(element.value)
            if name is not None:
                listed.append(name)
    else:
        enabled = context.static(autodiscover)
        if enabled is None or not enabled.value:  # False, or a callable we cannot run
            return ()
        listed = True
    origin = context.keyword(call, "origin")
    origin_name = context.fixed_string(origin) if origin is not None else None
    try:
        return tuple(discovery_modules(listed, origin_name))
    except ValueError:  # autodiscover=True without an origin: the worker says so
        return ()


def read_topic(context: ModuleContext, var: str, call: cst.Call) -> None:
    names: list[str] = []
    env: list[str] = []
    for arg in call.args:
        if arg.keyword is not None:
            continue
        name = context.static_string(arg.value) if not arg.star else None
        if name is None:
            context.error(
                "FC104",
                "a topic name must be known when the worker is built: a string, a module "
                "constant, an f-string of constants or os.environ.get('VAR', 'default') "
                "(the worker creates and subscribes to its topics before it runs any code)",
                arg.value,
            )
            return
        names.append(str(name.value))
        env += [variable for variable in name.env if variable not in env]
    if not names:
        pattern = context.keyword(call, "pattern") is not None
        context.error(
            "FC119",
            "a topic subscribed by pattern= is not compiled: name its topics "
            "(`app.topic('orders', 'refunds')`)"
            if pattern
            else "app.topic() names no topic: give it at least one (`app.topic('orders')`)",
            call,
        )
        return
    context.topics.append(
        topic_definition(context, var, call, tuple(names), tuple(env), context.span(call))
    )


#: the keywords of app.topic() (and of an agent's own topic) that type it
TYPING_KEYWORDS = ("key_type", "value_type", "key_serializer", "value_serializer")
SCHEMA_NAMES = frozenset({"faust.Schema", "faust.serializers.schemas.Schema"})


def topic_definition(
    context: ModuleContext,
    var: str,
    call: cst.Call,
    names: tuple[str, ...],
    env: tuple[str, ...],
    span: Span,
    *,
    agent: str | None = None,
) -> TopicDef:
    """The topic ``call`` declares (``app.topic(...)``, or ``@app.agent(...)`` without a
    channel), typed by its keywords and its ``schema=``."""
    typing = typing_keywords(context, call)
    text = {name: context.code(node) for name, node in typing.items()}
    partitions_node = context.keyword(call, "partitions")
    partitions = context.fixed_int(partitions_node) if partitions_node is not None else None
    return TopicDef(
        var,
        names,
        text.get("key_type"),
        text.get("value_type"),
        partitions,
        span,
        # types.topic_codec reads the serializers
        key_serializer=text.get("key_serializer"),
        value_serializer=text.get("value_serializer"),
        env=env,
        agent=agent,
    )


def typing_keywords(context: ModuleContext, call: cst.Call) -> dict[str, cst.BaseExpression]:
    """``key_type``, ``value_type``, ``key_serializer``, ``value_serializer`` of ``call``:
    its own keywords, else those of its ``schema=`` (a ``faust.Schema(...)`` call, inline
    or a module constant). A schema the compiler cannot read leaves the types unknown and
    the serializers to the runtime (its expression stands for them)."""
    keywords = {name: context.keyword(call, name) for name in TYPING_KEYWORDS}
    found = {name: value for name, value in keywords.items() if value is not None}
    schema = context.keyword(call, "schema")
    if schema is None:
        return found
    schema_call = schema_declaration(context, schema)
    if schema_call is None:  # the schema's expression stands for its serializers
        return {"key_serializer": schema, "value_serializer": schema, **found}
    given = {name: context.keyword(schema_call, name) for name in TYPING_KEYWORDS}
    return {**{name: value for name, value in given.items() if value is not None}, **found}


def schema_declaration(context: ModuleContext, node: cst.BaseExpression) -> cst.Call | None:
    """The ``faust.Schema(...)`` call ``node`` is, or names (a module constant)."""
    if isinstance(node, cst.Name):
        bound = context.statics.bound_value(node)
        node = bound if bound is not None else node
    if isinstance(node, cst.Call) and context.qualified(node.func) & SCHEMA_NAMES:
        return node
    return None


def table_declaration(context: ModuleContext, call: cst.Call) -> cst.Call | None:
    """The ``app.Table(...)`` (or GlobalTable, SetTable, SetGlobalTable) call of a table
    declaration, also under chained calls: ``app.Table(...).tumbling(60)``."""
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call):
        if any(context.is_app_method(node, kind) for kind in TABLE_KINDS):
            return node
        func = node.func
        node = func.value if isinstance(func, cst.Attribute) else func
    return None


def read_table(context: ModuleContext, var: str, call: cst.Call) -> None:
    positional = [arg for arg in call.args if arg.keyword is None]
    name_node = positional[0].value if positional else context.keyword(call, "name")
    name = context.static_string(name_node) if name_node is not None else None
    if name is None:
        context.error(
            "FC104",
            "a table name must be known when the worker is built: a string, a module "
            "constant, an f-string of constants or os.environ.get('VAR', 'default') (it "
            "names the changelog topic)",
            name_node if name_node is not None else call,
        )
        return
    default = context.keyword(call, "default")
    changelog = context.keyword(call, "changelog_topic")
    changelog_topic = None
    if isinstance(changelog, cst.Name):
        for topic in context.topics:
            if topic.var == changelog.value and len(topic.names) == 1:
                changelog_topic = topic.names[0]
    context.tables.append(
        TableDef(
            var,
            str(name.value),
            context.code(default) if default is not None else None,
            context.span(call),
            name.env,
            changelog_topic,
        )
    )
