"""The IR: what the compiler understood of a Faust module, as frozen data.

Every node carries the :class:`Span` it came from. Code the compiler copies or inlines is
kept as source text (with its line number), so later passes need no syntax tree. Example::

    AppModule(
        app=AppDef(var="app", app_id="word-count", span=...),
        topics=(TopicDef(var="words_topic", names=("words",), value_type="str", ...),),
        agents=(AgentDef(name="count_words", topic_var="words_topic",
                         loop=StreamLoop(target="word", operations=(), mode="values", ...)),),
        ...)
"""

from __future__ import annotations

import dataclasses


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


@dataclasses.dataclass(frozen=True, slots=True)
class AppDef:
    var: str
    app_id: str
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class FieldDef:
    """One annotated field of a Record.

    ``type_text`` is the annotation with every name the module imports replaced by its
    qualified name (``List[Order]`` -> ``typing.List[Order]``); ``default`` is the default's
    source text; ``specifier``/``specifier_args`` name a ``faust`` field class used as the
    default (``DecimalField(max_digits=12)`` -> ``"DecimalField"``, ``(("max_digits",
    "12"),)``), whose own ``default=`` then is ``default``.
    """

    name: str
    annotation: str
    has_default: bool
    span: Span
    type_text: str = ""
    default: str | None = None
    specifier: str | None = None
    specifier_args: tuple[tuple[str, str], ...] = ()
    annotation_span: Span | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RecordDef:
    name: str
    bases: tuple[str, ...]
    fields: tuple[FieldDef, ...]
    options: tuple[tuple[str, str], ...]
    span: Span


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


@dataclasses.dataclass(frozen=True, slots=True)
class TableDef:
    var: str
    name: str
    default: str | None
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class TimerDef:
    name: str
    interval: str
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class Function:
    """A function passed to ``filter``/``map``.

    ``kind`` is ``"lambda"`` (one parameter: inlined, ``body`` is its expression),
    ``"sync"``/``"async"`` (a module-level function called by name), or ``"callable"``
    (any other expression: evaluated once when the agent starts, result maybe awaited).
    """

    kind: str
    text: str
    param: str | None = None
    body: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Operation:
    kind: str  # "filter" | "map"
    function: Function
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class StreamLoop:
    """``async for <target> in <param>.<operations>.<mode>():`` and its body."""

    target: str
    operations: tuple[Operation, ...]
    mode: str  # "values" | "items" | "events"
    body: Code
    span: Span


@dataclasses.dataclass(frozen=True, slots=True)
class AgentDef:
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
    enums: tuple[EnumDef, ...] = ()

    def topic(self, var: str) -> TopicDef:
        for topic in self.topics:
            if topic.var == var:
                return topic
        raise KeyError(var)
