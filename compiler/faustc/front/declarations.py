"""Read the module-level declarations: the App, its topics and its tables.

Each function takes the module's :class:`ModuleContext` and one assignment, and appends
what it declares (or a diagnostic). Example::

    # orders_topic = app.topic("orders", key_type=str, value_type=Order, partitions=4)
    read_assignment(context, line)
    context.topics[-1]      # TopicDef(var='orders_topic', names=('orders',), ...)
"""

from __future__ import annotations

import dataclasses

import libcst as cst

from faustc.front.context import ModuleContext
from faustc.front.ir import AppDef, TableDef, TopicDef

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
    env = app_id.env if app_id is not None else ()
    context.app = AppDef(var, name, context.span(call), aliases, env)


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
    partitions_node = context.keyword(call, "partitions")
    partitions = context.fixed_int(partitions_node) if partitions_node is not None else None
    key_type = context.keyword(call, "key_type")
    value_type = context.keyword(call, "value_type")
    serializers = [
        context.code(node) if node is not None else None
        for node in (
            context.keyword(call, "key_serializer"),
            context.keyword(call, "value_serializer"),
        )
    ]
    context.topics.append(
        TopicDef(
            var,
            tuple(names),
            context.code(key_type) if key_type is not None else None,
            context.code(value_type) if value_type is not None else None,
            partitions,
            context.span(call),
            # key_serializer, value_serializer (records.topic_codec reads them)
            key_serializer=serializers[0],
            value_serializer=serializers[1],
            env=tuple(env),
        )
    )


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
    context.tables.append(
        TableDef(
            var,
            str(name.value),
            context.code(default) if default is not None else None,
            context.span(call),
            name.env,
        )
    )
