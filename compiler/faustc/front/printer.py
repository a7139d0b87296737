"""The IR printer: what the compiler understood of a module, as text (``--dump-ir``).

One line per declaration, operations indented under their loop, every line citing the
source line it came from. Pure: ``format_ir(module) -> str``. Example::

    print(format_ir(read_module(SourceFile.load(Path("examples/wordcount.py")))))
    # module wordcount (wordcount.py)
    # app app = App("word-count-app")                                 wordcount.py:13
    # topic words_topic "words" key=- value=str partitions=-         wordcount.py:15
    # ...
"""

from __future__ import annotations

from faustc.front.ir import (
    AgentDef,
    AppModule,
    Echo,
    FieldRef,
    Filter,
    Function,
    GroupBy,
    Map,
    NoAck,
    Processor,
    RateLimit,
    Span,
    StreamOperation,
    Through,
    TopicRef,
)

WIDTH = 72


def format_ir(module: AppModule) -> str:
    lines: list[str] = [f"module {module.module} ({module.display_name})"]

    def add(indent: int, text: str, span: Span | None) -> None:
        left = "  " * indent + text
        if span is not None:
            where = f"{module.display_name}:{span.line}"
            left = f"{left:<{WIDTH}} {where}" if len(left) < WIDTH else f"{left}  {where}"
        lines.append(left.rstrip())

    names = " = ".join(module.app.names)
    add(0, f'app {names} = App("{module.app.app_id}")', module.app.span)
    for record in module.records:
        options = ", ".join(f"{name}={value}" for name, value in record.options)
        add(
            0,
            f"record {record.name}({', '.join(record.bases)})"
            + (f" [{options}]" if options else ""),
            record.span,
        )
        for field in record.fields:
            default = " = ..." if field.has_default else ""
            add(1, f"{field.name}: {field.annotation}{default}", field.span)
    for topic in module.topics:
        names = ", ".join(f'"{name}"' for name in topic.names)
        add(
            0,
            f"topic {topic.var} {names} key={topic.key_type or '-'} "
            f"value={topic.value_type or '-'} partitions={topic.partitions or '-'}",
            topic.span,
        )
    for table in module.tables:
        add(
            0,
            f'table {table.var} "{table.name}" default={table.default or "-"} '
            f'changelog "{table.changelog(module.app.app_id)}"',
            table.span,
        )
    for agent in module.agents:
        _format_agent(agent, add)
    for task in module.tasks:
        add(0, f"task {task.name}", task.span)
    for timer in module.timers:
        when = f"every {timer.interval}s" if timer.cron is None else f'crontab "{timer.cron}"'
        add(0, f"timer {timer.name} {when}", timer.span)
    return "\n".join(lines) + "\n"


def _format_agent(agent: AgentDef, add: object) -> None:
    assert callable(add)
    extras = []
    if agent.concurrency > 1:
        extras.append(f"concurrency={agent.concurrency}")
    if agent.sinks:
        extras.append("sinks=[" + ", ".join(f"{s.kind} {s.text}" for s in agent.sinks) + "]")
    if agent.yields:
        extras.append("yields")
    suffix = f" [{'; '.join(extras)}]" if extras else ""
    add(0, f"{agent.kind} {agent.qualified_name} on {agent.topic_var}{suffix}", agent.span)
    loop = agent.loop
    if agent.prelude is not None:
        add(1, f"prelude ({agent.prelude.text.count(chr(10))} lines)", None)
    add(1, f"loop {loop.target}", loop.span)
    for operation in loop.operations:
        add(2, _format_operation(operation), operation.span)
    terminal = loop.terminal
    detail = {
        "enumerate": f"(start={terminal.start})",
        "take": f"(max_={terminal.max_}, within={terminal.within})",
    }.get(terminal.kind, "")
    add(2, f"terminal {terminal.kind}{detail}", terminal.span)
    add(2, f"body ({loop.body.text.count(chr(10))} lines)", None)
    if agent.postlude is not None:
        add(1, f"postlude ({agent.postlude.text.count(chr(10))} lines)", None)
    if agent.topics_named or agent.tables_named:
        add(1, f"names topics {list(agent.topics_named)} tables {list(agent.tables_named)}", None)


def _function(function: Function) -> str:
    text = " ".join(function.text.split())
    return text if function.kind == "lambda" else f"{function.kind} {text}"


def _topic(ref: TopicRef) -> str:
    return ref.var if ref.var is not None else f'"{ref.name}"'


def _format_operation(operation: StreamOperation) -> str:
    if isinstance(operation, Filter | Map | Processor):
        return f"{operation.kind} {_function(operation.function)}"
    if isinstance(operation, Echo):
        return "echo " + ", ".join(_topic(ref) for ref in operation.topics)
    if isinstance(operation, RateLimit):
        return f"rate_limit {operation.rate} per {operation.per}s"
    if isinstance(operation, NoAck):
        return "noack"
    if isinstance(operation, Through):
        return f"through {_topic(operation.topic)}  -- stage boundary"
    assert isinstance(operation, GroupBy)
    key = operation.key
    key_text = f"{key.record}.{key.field}" if isinstance(key, FieldRef) else _function(key)
    return (
        f"group_by {key_text} name={operation.name!r} partitions={operation.partitions or '-'}"
        "  -- stage boundary"
    )
