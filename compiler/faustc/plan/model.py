"""The plan IR: what a worker does, as frozen data, every decision a field a test can read.

A :class:`WorkerPlan` holds one :class:`AgentPlan` per fused agent (or task). An agent is a
list of :class:`Stage` (split at ``group_by``/``through``), each consuming one topic: how
its messages are decoded (:class:`Decode`) and the typed steps run on each of them
(:data:`Step`); then the user's own code, the loop body, whose statements the compiler
replaces are holes (:class:`UserCode`). The only Python text a plan holds is copied from the
user (an expression, a statement, a block); every other string is a name (a topic, a local
the fused function binds, a Record). ``faustc.emit`` alone writes Python from it.

Example: ``async for o in orders.filter(lambda o: o.amount > 1000):`` plans as::

    Stage(number=1, topic="orders_topic", topic_name="orders",
          decode=Decode(key=KeyDecode(load="load_key", used=False, by_batch="check_keys"),
                        value_local="load_value", value_failed="value_failed", ...),
          steps=(Filter(line=12, shown="lambda o: o.amount > 1000",
                        apply=Inline("value.amount > 1000")),),
          last=True)

``faustc build --dump-plan`` prints a plan (``faustc.plan.printer``); every plan the build
makes passes ``faustc.plan.validate``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Set as AbstractSet

from faustc.codecs.model import CodecsPlan
from faustc.front.ir import Code, FieldRef

# -- names --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Locals:
    """The fused function's own local names, none of them a name the user's code uses."""

    batch: str
    message: str
    key: str
    value: str
    event: str
    result: str
    handle_error: str
    exc: str
    holds: str
    buffer: str
    held: str
    deadline: str
    chunk: str
    chunk_messages: str
    index: str
    deliver: str
    pending: str
    new_key: str
    delay: str
    next_batch: str
    ending: str
    handle_chunk_error: str
    take_max: str
    take_within: str
    keys_valid: str
    monotonic: str


LOCAL_NAMES = tuple(field.name for field in dataclasses.fields(Locals))

# -- facts about the user's code ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ValueUse:
    """How some code uses one name: the attributes it reads off it (``reads``), the topics
    whose statement-level send carries it as ``value=`` (``sent_to``), and whether it uses
    it in any other way (``other``: passes it on, stores to it, binds it again ...)."""

    reads: frozenset[str] = frozenset()
    sent_to: frozenset[str] = frozenset()
    other: bool = False

    def reads_only(self, fields: AbstractSet[str]) -> bool:
        """Does the code read nothing but ``fields`` of it, and never send it?"""
        return not self.other and not self.sent_to and self.reads <= fields


# -- applying a user's function to the value ----------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Inline:
    """A lambda inlined: ``expression`` is its body with its parameter renamed to the
    value's local (copied user code)."""

    expression: str
    #: what in the lambda may read ``faust.events.current_message()``, None: nothing but
    #: the builtins it calls (as ``UserCode.message_read``: ``faustc.plan.observers``)
    message_read: str | None = "not looked at"
    builtins_called: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class CallFunction:
    """A module-level function called by name (awaited when it is ``async``)."""

    name: str
    awaited: bool


@dataclasses.dataclass(frozen=True, slots=True)
class CallBound:
    """Any other callable: the user's ``expression`` is evaluated once when the agent starts
    (bound to ``local``); its result is awaited when it is awaitable."""

    local: str
    expression: str


Apply = Inline | CallFunction | CallBound

# -- what a send carries ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class UserExpr:
    """An expression copied from the user's code."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class LocalName:
    """A local of the fused function (the decoded key, the value, the new key ...)."""

    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class MessageValue:
    """The consumed message's own value bytes."""


@dataclasses.dataclass(frozen=True, slots=True)
class MessageHeaders:
    """The consumed message's headers (None when it has none)."""


Argument = UserExpr | LocalName | MessageValue | MessageHeaders

# -- sends ---------------------------------------------------------------------------------

#: how a send reaches Kafka: ``send_soon`` (the topic's own method: the plan's plain
#: form, and the only one for a topic with several names), ``send`` (the app's producer
#: with the topic's encoders bound once) or ``produce`` (the client's own produce, ``send``
#: when it raises)
SEND_WAYS = ("send_soon", "send", "produce")


@dataclasses.dataclass(frozen=True, slots=True)
class Send:
    """``topic.send_soon(key=..., value=..., ...)`` (an argument None: not given)."""

    topic: str
    """The topic: a module-level topic variable or an internal topic of the worker."""
    key: Argument | None = None
    value: Argument | None = None
    partition: Argument | None = None
    timestamp: Argument | None = None
    headers: Argument | None = None
    #: the user's line the arguments come from (cited beside the lines computing them)
    line: int | None = None
    via: str = "send_soon"
    #: the value is a Record built as its JSON struct: this generated function encodes it
    out_encoder: str | None = None
    #: the conditions (on the value, a local name) under which msgspec writes the struct
    #: as the topic's dumper writes the Record (``faustc.codecs.json.json_out_checks``):
    #: the send site tests them and calls ``out_encoder`` only when one fails
    out_checks: tuple[str, ...] = ()
    #: the send site writes a key of type ``str`` as ``key.encode()`` itself where the
    #: topic's key dumper does the same (``Topic.key_dumper_is_text()``, asked once), and
    #: hands any other key to the dumper (a produce with a key, on a topic whose keys the
    #: compiler expects to be text)
    text_key: bool = False

    def arguments(self) -> tuple[tuple[str, Argument], ...]:
        """The keyword arguments given, in ``send_soon``'s order."""
        given = (
            ("key", self.key),
            ("value", self.value),
            ("partition", self.partition),
            ("timestamp", self.timestamp),
            ("headers", self.headers),
        )
        return tuple((name, value) for name, value in given if value is not None)

    @property
    def raw_value(self) -> bool:
        """The value is the consumed message's own bytes: they go on unencoded."""
        return isinstance(self.value, MessageValue)


# -- the steps of a stage ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Filter:
    """``.filter(fun)``: messages whose value ``fun`` rejects go no further."""

    line: int
    shown: str
    apply: Apply
    #: how a lambda uses the value (None: not a lambda)
    uses: ValueUse | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Map:
    """``.map(fun)`` (``kind="map"``) or a processor (``kind="processor"``): the value
    becomes ``fun(value)``. ``built_as`` names the Record the call builds when it is built
    as its JSON struct instead (``call_arguments`` then are its arguments, copied)."""

    line: int
    shown: str
    apply: Apply
    kind: str = "map"
    #: how a lambda uses the value (None: not a lambda)
    uses: ValueUse | None = None
    #: the Record a lambda builds from all of its fields (``lambda o: R(...)``), if it does
    builds: str | None = None
    #: a lambda whose body is a call: the function and the arguments (copied, the lambda's
    #: parameter renamed), for a writer that lays out a long call
    call: tuple[str, tuple[str, ...]] | None = None
    built_as: str | None = None
    built_why: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class NoAck:
    """``.noack()``: the events from here on are held back from the commit until acked
    (``AgentPlan.noack``); nothing is done per message."""

    line: int


@dataclasses.dataclass(frozen=True, slots=True)
class Echo:
    """``.echo(*topics)``: send the value to each topic, then go on."""

    line: int
    sends: tuple[Send, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RateLimit:
    """``.rate_limit(rate, per=)``: wait as ``limiter`` says (``rate``/``per`` are copied)."""

    line: int
    rate: str
    per: str
    limiter: str


@dataclasses.dataclass(frozen=True, slots=True)
class Repartition:
    """The end of a stage at ``group_by``: the new key is ``key`` (a field of the value, or
    a function of it), and the message goes to the repartition topic (``send``);
    ``forward_value``: the value is as consumed, its bytes go on unchanged."""

    line: int
    key: FieldRef | Apply
    send: Send
    forward_value: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Through:
    """The end of a stage at ``through(topic)``: the message goes to ``topic_name``."""

    line: int
    topic_name: str
    send: Send


Step = Filter | Map | NoAck | Echo | RateLimit | Repartition | Through

# -- decoding a stage's messages -----------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class KeyDecode:
    """The key is decoded by ``load`` (a local bound to ``topic.key_loader()``). When
    nothing reads it (``used`` false) it is decoded only so that a key that does not decode
    meets the error policy; ``by_batch`` then names ``topic.keys_check()``, which clears a
    whole batch at once (the loop decodes keys one by one only in a batch it did not
    clear)."""

    load: str
    used: bool
    headers: bool = False
    by_batch: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Decode:
    """How a stage decodes each message: the key (None: not at all), the value (always),
    and whether it makes the Event (``Event(app, key, value, ...)``)."""

    key: KeyDecode | None
    value_local: str
    value_headers: bool
    make_event: bool
    #: ``topic.value_decoder()``'s ``failed``: the loop calls the decoder itself and turns
    #: what it raises into the loader's error (None: ``topic.value_loader()``)
    value_failed: str | None = None
    #: why the stage decodes the Record's fields only (a view), None: the Record
    fields_only: str | None = None
    #: the one field the stage reads, which the ``group_by`` before it keyed its records
    #: by: ``topic.field_decoder(field)`` reads it from the key where the keys are its
    #: text (None: the value is decoded)
    field_from_key: str | None = None
    #: the Record whose generated JSON view the loop runs inline (its lines, without its
    #: frame) where the runtime chose that view as the decoder; ``view_local`` holds the
    #: answer, asked once (``load is view_<record>_json``)
    json_view: str | None = None
    view_local: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Stage:
    """One stage: the topic it consumes, its decoding and its steps. Every stage but the
    last ends with a :class:`Repartition` or :class:`Through` step."""

    number: int
    topic: str
    topic_name: str
    decode: Decode
    steps: tuple[Step, ...]
    last: bool
    #: the Record and the codec of the values the stage consumes (None: not a Record)
    record: str | None = None
    codec: str = "json"
    #: whether ``topic_name`` is the name in every environment (else it is the default of
    #: a name read from the environment, and the worker asks the topic for its name)
    name_fixed: bool = True
    #: the local holding the topic's name, bound once (a stage whose name is not fixed,
    #: and that the loop tells apart by its name; ``bind_locals`` sets it)
    name_local: str | None = None

    @property
    def boundary(self) -> Repartition | Through | None:
        if self.steps and isinstance(self.steps[-1], Repartition | Through):
            return self.steps[-1]
        return None


# -- the user's code with holes ------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Deliver:
    """``yield value`` in an agent with sinks: ``value`` goes to ``deliver`` (with the
    message's key and headers when ``with_context``); awaited unless every sink is sync."""

    value: str
    with_context: bool
    awaited: bool


@dataclasses.dataclass(frozen=True, slots=True)
class TableUpdate:
    """``table[key] <op>= operand`` on a module-level table (``statement``, copied);
    ``in_place``: done as one call, ``table.in_place(key, operator.<operator>, operand)``;
    ``direct``: on the store of the message's partition when the loop has it
    (:class:`TableLocals`), else as ``in_place`` says."""

    table: str
    key: str
    operator: str
    operand: str
    statement: str
    in_place: bool = False
    direct: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class TableSet:
    """``table[key] = value`` on a module-level table, in the message loop: on the store of
    the message's partition when the loop has it (:class:`TableLocals`), else
    ``statement`` as written."""

    table: str
    key: str
    value: str
    statement: str


@dataclasses.dataclass(frozen=True, slots=True)
class TableLocals:
    """The names a fused loop binds to read and write one module-level table directly
    (``faust.compiled.table_access``, ``window_access``): once per batch ``stores``,
    ``window`` (a windowed table's size; 0.0: none) and ``target`` (the table whose rules
    a miss follows), for a windowed table also ``expires``, ``clock`` and ``hops`` (a
    hopping window's ranges; None: tumbling); once per message ``store`` (None: the
    table's methods) and ``data``; ``key``/``value`` the temporaries of one access;
    ``start``/``range``/``limit`` the tumbling window last computed and the clock's limit
    of its direct writes, ``time``, ``moment`` and ``wkey`` the message's timestamp, its
    window's start and windowed key; ``ranges``/``hop``/``operand`` a hopping window's
    ranges, one of them and the operand applied to each; ``ends`` the window index a
    write is tracked in (windows that expire). ``windows``: the loop only updates the
    table in place, so a windowed table's key may be computed inline."""

    table: str
    stores: str
    window: str
    target: str
    store: str
    data: str
    key: str
    value: str
    start: str
    range: str
    time: str
    moment: str
    wkey: str
    expires: str
    clock: str
    hops: str
    limit: str
    ranges: str
    hop: str
    operand: str
    ends: str
    windows: bool


Hole = Send | Deliver | TableUpdate | TableSet


@dataclasses.dataclass(frozen=True, slots=True)
class UserCode:
    """The user's statements (dedented, from source line ``line``) with the statements the
    compiler replaces cut out: the line of hole ``n`` reads ``<marker><n>`` (at the
    statement's indentation, and keeps its trailing comment when ``holes[n]`` keeps it)."""

    text: str
    line: int
    marker: str = "__faustc_hole_"
    holes: tuple[Hole, ...] = ()
    #: the source statements each hole replaced, for ``(first line, last line)``
    hole_lines: tuple[tuple[int, int], ...] = ()
    #: the tables the code reads and writes directly (its holes and its rewritten reads)
    tables: tuple[TableLocals, ...] = ()
    #: what in the code, as rewritten, may read ``faust.events.current_message()`` (a call
    #: of the user's, a table used through its methods: ``faustc.plan.observers``); None:
    #: nothing but the builtins it calls (``builtins_called``)
    message_read: str | None = "not looked at"
    builtins_called: frozenset[str] = frozenset()

    @classmethod
    def of(cls, code: Code) -> UserCode:
        return cls(code.text, code.line)


# -- what a fused function binds before its loop ------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class BindDeliverer:
    local: str
    agent: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindCallable:
    local: str
    expression: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindRateLimiter:
    local: str
    rate: str
    per: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindSender:
    """``local = app.sender()``."""

    local: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindDirectSender:
    """``produce, retry, cell = app.counting_sender()``."""

    produce: str
    retry: str
    cell: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindSendCount:
    """``local = cell(name)``: the one-item list the loop adds each record it produced to
    ``topic`` to (the worker's ``/metrics`` reads it); ``name`` is the topic's name, a
    literal or the local holding it."""

    local: str
    cell: str
    topic: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindEncoder:
    """``local = topic.key_dumper()`` (``part="key"``) or ``value_dumper()``."""

    local: str
    topic: str
    part: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindKeyText:
    """``local = topic.key_dumper_is_text()``: does the topic's key dumper write a ``str``
    key as ``key.encode()`` (then the loop does so itself)?"""

    local: str
    topic: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindTopicName:
    """``local = topic.get_topic_name()`` (a topic whose name the compiler does not know)."""

    local: str
    topic: str


@dataclasses.dataclass(frozen=True, slots=True)
class BindSendSoon:
    """``local = topic.send_soon``."""

    local: str
    topic: str


Binding = (
    BindDeliverer
    | BindCallable
    | BindRateLimiter
    | BindSender
    | BindDirectSender
    | BindSendCount
    | BindEncoder
    | BindKeyText
    | BindTopicName
    | BindSendSoon
)


@dataclasses.dataclass(frozen=True, slots=True)
class SendLocals:
    """The locals the sends of one fused function share (bound by ``bind_locals``)."""

    send: str | None = None
    produce: str | None = None
    retry: str | None = None
    #: ``cell(topic)``, the counting cells' source (``app.counting_sender()``)
    cell: str | None = None
    key: str | None = None
    value: str | None = None
    headers: str | None = None
    #: the key as the send gives it, before a text key is encoded inline (``Send.text_key``)
    given_key: str | None = None
    #: topic -> its name: ``(True, name)`` a literal, ``(False, local)`` a bound local
    topic_names: tuple[tuple[str, tuple[bool, str]], ...] = ()
    #: ``(topic, part)`` -> the local holding its encoder
    encoders: tuple[tuple[tuple[str, str], str], ...] = ()
    #: topic -> the local holding its ``send_soon``
    send_soon: tuple[tuple[str, str], ...] = ()
    #: topic -> the local counting the records produced to it (``BindSendCount``)
    counts: tuple[tuple[str, str], ...] = ()
    #: topic -> the local saying whether its key dumper writes str keys as their UTF-8
    #: (``BindKeyText``)
    text_keys: tuple[tuple[str, str], ...] = ()

    def topic_name(self, topic: str) -> tuple[bool, str]:
        return dict(self.topic_names)[topic]

    def encoder(self, topic: str, part: str) -> str:
        return dict(self.encoders)[topic, part]

    def send_soon_of(self, topic: str) -> str:
        return dict(self.send_soon)[topic]

    def count_of(self, topic: str) -> str:
        return dict(self.counts)[topic]

    def text_key_of(self, topic: str) -> str:
        return dict(self.text_keys)[topic]


# -- agents and the worker -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Terminal:
    """How the loop iterates (``values``, ``items``, ``events``, ``enumerate``, ``take``);
    ``start``, ``max_`` and ``within`` are copied user expressions."""

    kind: str
    start: str = "0"
    max_: str | None = None
    within: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AgentPlan:
    kind: str
    function_name: str
    qualified_name: str
    agent_var: str
    param: str
    locals: Locals
    stages: tuple[Stage, ...]
    terminal: Terminal
    target: str
    prelude: UserCode | None
    body: UserCode
    postlude: UserCode | None
    line: int
    loop_line: int
    #: the type of the values its stream carries: a builtin or a name of the app module
    #: the worker imports (None: Any)
    value_type: str | None
    #: the agent's code asks for ``faust.current_event()``: every message makes its Event
    set_current_event: bool
    #: tables write to the partition of the message in hand (faust.events.current_message)
    set_current_message: bool
    noack: bool
    yields: bool
    #: every sink is a topic, an agent or a plain function (a delivery is never awaited)
    sync_sinks: bool
    #: names the fused function's scope holds: the user's and those the plan gave out
    taken: frozenset[str] = frozenset()
    #: names the agent's own code binds (a module-level topic or table of that name is not
    #: the one its code means)
    rebound: frozenset[str] = frozenset()
    #: how the loop body and the code after the loop use the loop variable (None: the
    #: target is not one name)
    target_use: ValueUse | None = None
    #: module variables the agent's code reads or writes that a function rebinds at run
    #: time (``global``): the copied code reaches them on the app module (``app_module.x``)
    module_state: tuple[str, ...] = ()
    bindings: tuple[Binding, ...] = ()
    sends: SendLocals = SendLocals()
    #: the Record the last map builds as its JSON struct, if any
    sent_as_json: str | None = None
    #: instead of every message (``set_current_message`` false), the loop marks the
    #: message current only before the paths that run a table's methods and before the
    #: error policy, in every stage (``faustc.plan.observers``: nothing else it runs reads
    #: the mark)
    message_at_fallbacks: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RepartitionTopic:
    """A ``group_by``'s topic, declared by the worker: ``faust.streams.repartition_topic``."""

    var: str
    name: str
    agent: str
    source: str
    suffix: str
    partitions: int | None
    key: FieldRef | None
    same_value_type: bool
    line: int


@dataclasses.dataclass(frozen=True, slots=True)
class DerivedTopic:
    """``through("name")``: a topic with the source's types, declared by the worker."""

    var: str
    name: str
    source: str


@dataclasses.dataclass(frozen=True, slots=True)
class AgentTopic:
    """The topic of an agent declared without a channel (``@app.agent()``): the worker
    binds ``var`` to the agent's own (``<agent>.channel``), named by the runtime."""

    var: str
    agent: str
    #: its name with the App's id as the compiler read it
    name: str


InternalTopic = RepartitionTopic | DerivedTopic | AgentTopic


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerPlan:
    version: str
    display_name: str
    module: str
    import_root: str
    sha256: str
    app_var: str
    app_id: str
    user_imports: tuple[str, ...]
    internal_topics: tuple[InternalTopic, ...]
    agents: tuple[AgentPlan, ...]
    codecs: CodecsPlan | None = None
    #: Records some agent builds as their JSON struct (their ``out`` codecs are written)
    sent_as_json: tuple[str, ...] = ()
