"""The IR: what the compiler understood of a Faust module, as frozen data.

Every node carries the :class:`Span` it came from. Code the compiler copies or inlines is
kept as source text (with its line number) and as the libcst nodes it was read from
(``node``/``statements``, left out of equality and repr), so later phases can ask the
module's one syntax tree (``AppModule.syntax``) about it instead of parsing the text again.
Example::

    AppModule(
        app=AppDef(var="app", app_id="word-count", span=...),
        topics=(TopicDef(var="words_topic", names=("words",), value_type="str", ...),),
        agents=(AgentDef(name="count_words", topic_var="words_topic",
                         loop=StreamLoop(target="word", operations=(), mode="values", ...)),),
        ...)
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from faust.contract import changelog_topic_name

if TYPE_CHECKING:
    import libcst as cst

    from faustc.front.syntax import SyntaxTree


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """A region of the source; lines and columns are 1-based, the end column exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclasses.dataclass(frozen=True, slots=True)
class Code:
    """Python statements or an expression copied from the user, dedented, with its line."""

    text: str
    line: int
    #: the statements (or the expression) the text is the source of
    statements: tuple[cst.CSTNode, ...] = dataclasses.field(default=(), compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class AppDef:
    """The module's ``faust.App``: the variable the worker uses, and the other names bound
    to the same App (``app = faust_app = faust.App(...)``, ``faust_app = app``)."""

    var: str
    app_id: str
    span: Span
    aliases: tuple[str, ...] = ()
    #: the environment variables the id depends on (``app_id`` is its default)
    env: tuple[str, ...] = ()
    #: the packages ``autodiscover`` scans for agents (Faust's: the listed modules and the
    #: ``origin``), the worker importing them at start
    discover: tuple[str, ...] = ()
    #: ``topic_partitions=`` when the compiler knows it (the partitions of a topic that
    #: declares none)
    topic_partitions: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.var, *self.aliases)


@dataclasses.dataclass(frozen=True, slots=True)
class FieldDef:
    """One annotated field of a Record.

    ``annotation_node`` is the annotation's syntax, which ``faustc.types`` resolves through
    the module's qualified names (``List[Order]`` -> ``typing.List[Order]``); ``default``
    is the default's source text; ``specifier``/``specifier_args`` name a ``faust`` field
    class used as the default (``DecimalField(max_digits=12)`` -> ``"DecimalField"``,
    ``(("max_digits", "12"),)``), whose own ``default=`` then is ``default``.
    """

    name: str
    annotation: str
    has_default: bool
    span: Span
    default: str | None = None
    specifier: str | None = None
    specifier_args: tuple[tuple[str, str], ...] = ()
    annotation_span: Span | None = None
    annotation_node: cst.BaseExpression | None = dataclasses.field(
        default=None, compare=False, repr=False
    )
    #: the default's syntax (the whole ``DecimalField(...)`` call for a specifier)
    default_node: cst.BaseExpression | None = dataclasses.field(
        default=None, compare=False, repr=False
    )


@dataclasses.dataclass(frozen=True, slots=True)
class RecordDef:
    name: str
    bases: tuple[str, ...]
    fields: tuple[FieldDef, ...]
    options: tuple[tuple[str, str], ...]
    span: Span
    #: the class body defines functions (``__post_init__``, properties, methods ...)
    has_methods: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class EnumDef:
    """An ``enum.Enum`` subclass of the module: its members' names and value source."""

    name: str
    members: tuple[tuple[str, str], ...]
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class TopicDef:
    var: str
    names: tuple[str, ...]
    key_type: str | None
    value_type: str | None
    partitions: int | None
    span: Span
    #: source text of the serializer keywords (``"'avro'"``), None when not given
    key_serializer: str | None = None
    value_serializer: str | None = None
    #: the environment variables the names depend on (``names`` are their defaults): the
    #: worker reads the topic's name from it at run time, never a literal
    env: tuple[str, ...] = ()
    #: the agent (its function's name) whose own topic this is, for ``@app.agent()``
    #: without a channel: named ``<app id>-<agent name>`` as in Faust, taken by the worker
    #: from the agent (``<agent>.channel``); ``var`` is a name the worker binds to it
    agent: str | None = None

    @property
    def fixed(self) -> bool:
        """Whether the names are the same in every environment and every App setting (an
        agent's own topic is named after the App's id, which its settings may change)."""
        return not self.env and self.agent is None


@dataclasses.dataclass(frozen=True, slots=True)
class TableDef:
    var: str
    name: str
    default: str | None
    span: Span
    #: the environment variables the name depends on (``name`` is its default)
    env: tuple[str, ...] = ()
    #: the topic ``changelog_topic=<module topic>`` names (None: the default changelog)
    changelog_topic: str | None = None

    def changelog(self, app_id: str) -> str:
        """The table's changelog topic (:func:`faust.contract.changelog_topic_name`
        unless ``changelog_topic=`` names one)."""
        return self.changelog_topic or changelog_topic_name(app_id, self.name)


@dataclasses.dataclass(frozen=True, slots=True)
class TimerDef:
    """``@app.timer(interval)`` (``cron`` is None) or ``@app.crontab(cron)``."""

    name: str
    interval: str | None
    cron: str | None
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class Function:
    """A function passed to a stream operation.

    ``kind`` is ``"lambda"`` (one parameter: inlined, ``body`` is its expression),
    ``"sync"``/``"async"`` (a module-level function called by name), or ``"callable"``
    (any other expression: evaluated once when the agent starts, result maybe awaited).
    """

    kind: str
    text: str
    param: str | None = None
    body: str | None = None
    #: the expression (a ``cst.Lambda`` for ``"lambda"``)
    node: cst.BaseExpression | None = dataclasses.field(default=None, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class TopicRef:
    """A topic named in a chain: a module-level topic variable, or a literal name."""

    var: str | None
    name: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class FieldRef:
    """``Record.field`` (a group_by key)."""

    record: str
    field: str


@dataclasses.dataclass(frozen=True, slots=True)
class Filter:
    function: Function
    span: Span
    kind: str = "filter"


@dataclasses.dataclass(frozen=True, slots=True)
class Map:
    function: Function
    span: Span
    kind: str = "map"


@dataclasses.dataclass(frozen=True, slots=True)
class Processor:
    """``stream.add_processor(fun)`` or ``processors=[fun]``: ``value = fun(value)``."""

    function: Function
    span: Span
    kind: str = "processor"


@dataclasses.dataclass(frozen=True, slots=True)
class Echo:
    topics: tuple[TopicRef, ...]
    span: Span
    kind: str = "echo"


@dataclasses.dataclass(frozen=True, slots=True)
class RateLimit:
    rate: str
    per: str
    span: Span
    kind: str = "rate_limit"


@dataclasses.dataclass(frozen=True, slots=True)
class NoAck:
    span: Span
    kind: str = "noack"


@dataclasses.dataclass(frozen=True, slots=True)
class GroupBy:
    """A stage boundary: repartition by ``key``; ``name`` suffixes the repartition topic."""

    key: FieldRef | Function
    name: str
    partitions: int | None
    span: Span
    kind: str = "group_by"


@dataclasses.dataclass(frozen=True, slots=True)
class Through:
    """A stage boundary: send to ``topic``, go on with what is consumed from it."""

    topic: TopicRef
    span: Span
    kind: str = "through"


StreamOperation = Filter | Map | Processor | Echo | RateLimit | NoAck | GroupBy | Through
#: the operation kinds that end a stage
BOUNDARIES = ("group_by", "through")


@dataclasses.dataclass(frozen=True, slots=True)
class Terminal:
    """How the loop iterates: ``values``, ``items``, ``events``, ``enumerate`` or ``take``.

    ``start`` (enumerate), ``max_`` and ``within`` (take) are source expressions.
    """

    kind: str
    span: Span
    start: str = "0"
    max_: str | None = None
    within: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StreamLoop:
    """``async for <target> in <source>.<operations>.<terminal>():`` and its body."""

    target: str
    operations: tuple[StreamOperation, ...]
    terminal: Terminal
    body: Code
    span: Span
    target_node: cst.BaseAssignTargetExpression | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    @property
    def mode(self) -> str:
        return self.terminal.kind


@dataclasses.dataclass(frozen=True, slots=True)
class SinkRef:
    """Where an agent's yielded values go: ``topic``, ``agent``, ``sync``/``async`` function,
    or ``callable`` (anything else)."""

    kind: str
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class AgentDef:
    """An ``@app.agent`` (``kind="agent"``) or an ``@app.task`` looping over
    ``app.stream(topic)`` (``kind="task"``); both are compiled into one fused function."""

    name: str
    qualified_name: str
    topic_var: str
    param: str
    prelude: Code | None
    loop: StreamLoop
    postlude: Code | None
    names_used: frozenset[str]
    globals_used: tuple[str, ...]
    uses_current_event: bool
    span: Span
    kind: str = "agent"
    concurrency: int = 1
    sinks: tuple[SinkRef, ...] = ()
    yields: bool = False
    #: module-level topics and tables the function's code names
    topics_named: tuple[str, ...] = ()
    tables_named: tuple[str, ...] = ()
    node: cst.FunctionDef | None = dataclasses.field(default=None, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class TaskDef:
    """An ``@app.task`` the compiler leaves as written (it has no ``app.stream`` loop)."""

    name: str
    span: Span
    topics_named: tuple[str, ...] = ()
    tables_named: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class AppModule:
    """Everything read from one module."""

    module: str
    display_name: str
    app: AppDef
    records: tuple[RecordDef, ...]
    topics: tuple[TopicDef, ...]
    tables: tuple[TableDef, ...]
    agents: tuple[AgentDef, ...]
    timers: tuple[TimerDef, ...]
    module_names: frozenset[str]
    tasks: tuple[TaskDef, ...] = ()
    #: classes defined at module level (Records and others)
    class_names: frozenset[str] = frozenset()
    #: the path diagnostics print (as the user gave it)
    source_path: str = ""
    enums: tuple[EnumDef, ...] = ()
    #: module variables some function rebinds at run time (``global``): code the worker
    #: copies reads and writes them on the app module, never on its own copy
    module_state: frozenset[str] = frozenset()
    #: the module's syntax tree and its metadata, for the phases after the reader
    syntax: SyntaxTree | None = dataclasses.field(default=None, compare=False, repr=False)

    def topic(self, var: str) -> TopicDef:
        for topic in self.topics:
            if topic.var == var:
                return topic
        raise KeyError(var)

    def topic_named(self, name: str) -> TopicDef | None:
        for topic in self.topics:
            if name in topic.names:
                return topic
        return None

    def record(self, name: str) -> RecordDef | None:
        for record in self.records:
            if record.name == name:
                return record
        return None
