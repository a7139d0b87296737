"""``faust.Record``: a typed, serializable data class with Faust's wire format.

A Record subclass declares fields with annotations; each class gets a generated
``__init__`` (compiled once, its source in ``linecache`` so tracebacks show it), a
namespace in :data:`registry`, and the JSON wire format Faust uses::

    >>> class Order(faust.Record, serializer="json"):
    ...     account_id: str
    ...     amount: float = 0.0
    >>> Order("a1", 10.0).dumps()
    b'{"account_id":"a1","amount":10.0,"__faust":{"ns":"shop.Order"}}'
    >>> Order.loads(b'{"account_id":"a1"}')          # metadata is optional on input
    <Order: account_id='a1', amount=0.0>

Options are class keywords or a nested ``class Meta`` (``serializer``, ``namespace``,
``include_metadata``, ``isodates``, ``decimals``, ``coerce``, ``validation``,
``polymorphic_fields``, ``allow_blessed_key``, ``frozen``). The class attribute
``Order.amount`` is the field's :class:`FieldDescriptor`; on an instance the attribute is a
plain value in the instance ``__dict__``.

Construction costs what a plain class costs: the generated ``__init__`` is one attribute
store per field (``self.amount = amount``), specialised by CPython like any plain class.
That needs two things of the class: no ``__setattr__`` of its own (only ``frozen`` classes
get one) and no descriptor in its ``__dict__`` under a field's name (a descriptor there
makes every store and read of ``record.amount`` take CPython's slow path). So the field
descriptors live in ``_options.descriptors`` and the metaclass finds ``Order.amount`` there
when the ordinary class lookup fails. Classes that coerce, validate or prepare values call
``_init_hook`` after the stores; which classes do is decided once, when the class is made.

Decoding (:meth:`Record.from_data`) always yields the annotated types: a ``datetime`` field
holds a datetime, a nested Record a Record, and a payload value of the wrong type is an
error naming the field (Faust leaves such values as decoded unless ``coerce=True``; we
take mypy's word for what a field holds). ``coerce`` converts values given to the
constructor. Which class a payload becomes: its own, or a subclass named by its
``__faust`` metadata when the caller asked for no particular type, or when the named class
sets ``allow_blessed_key`` or ``polymorphic_fields`` (Faust's rule; we also require the
named class to be a subclass, so a stream of ``Order`` only ever yields Orders).
"""

from __future__ import annotations

import dataclasses
import inspect
import linecache
import sys
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform

from faust.exceptions import ValidationError
from faust.models.fields import (
    MISSING,
    BooleanField,
    BytesField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    StringField,
)
from faust.models.typeinfo import (
    ConversionError,
    Converter,
    TypeNode,
    coercer,
    describe,
    json_decoder,
    json_encoder,
    type_checker,
)

R = TypeVar("R", bound="Record")

#: Every Record class by namespace (``"module.Class"`` unless the class sets ``namespace``).
registry: dict[str, type[Record]] = {}

#: The key Faust puts in a serialized record to name its class.
METADATA_KEY = "__faust"


class ModelOptions:
    """Per-class options, from class keywords or a nested ``class Meta``."""

    NAMES: ClassVar[tuple[str, ...]] = (
        "serializer",
        "namespace",
        "include_metadata",
        "isodates",
        "decimals",
        "coerce",
        "validation",
        "polymorphic_fields",
        "allow_blessed_key",
        "frozen",
    )

    def __init__(self, **options: Any) -> None:
        unknown = set(options) - set(self.NAMES)
        if unknown:
            raise TypeError(f"unknown Record option(s): {', '.join(sorted(unknown))}")
        self.serializer: Any = options.get("serializer")
        self.namespace: str = options.get("namespace") or ""
        self.include_metadata: bool = options.get("include_metadata", True)
        self.isodates: bool = options.get("isodates", False)
        self.decimals: bool = options.get("decimals", False)
        self.coerce: bool = options.get("coerce", False)
        self.validation: bool = options.get("validation", False)
        self.polymorphic_fields: bool = options.get("polymorphic_fields", False)
        self.allow_blessed_key: bool = options.get("allow_blessed_key", False)
        self.frozen: bool = options.get("frozen", False)
        #: field name -> descriptor, in declaration order (base classes first)
        self.descriptors: dict[str, FieldDescriptor[Any]] = {}

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.descriptors)


@dataclasses.dataclass(slots=True)
class FieldPlan:
    """What the generic codec path does with one field (built once per class)."""

    name: str
    input_name: str
    output_name: str
    descriptor: FieldDescriptor[Any]
    node: TypeNode
    decode: Converter
    encode: Converter | None
    check: Callable[[Any], bool]
    coerce: Converter | None


class _ClassPlan:
    def __init__(self, fields: list[FieldPlan], validation: bool) -> None:
        self.fields = fields
        self.validation = validation


def canonical_module_name(module: str) -> str:
    """``__main__`` is replaced by the script's file stem, so names stay stable.

    Faust does the same: a Record defined in ``app.py`` is ``app.Order`` whether the module
    was imported or run as a script.
    """
    if module != "__main__":
        return module
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if not main_file:
        return module
    stem = str(main_file).rsplit("/", 1)[-1]
    return stem[:-3] if stem.endswith(".py") else stem


_new = object.__new__


class RecordType(type):
    """The metaclass of Records: ``Order.amount`` is the field's descriptor.

    The descriptors are not in the class ``__dict__`` (see the module docstring), so the
    ordinary lookup fails for a field name and ``__getattr__`` answers from
    ``_options.descriptors``. Hidden from mypy, which would otherwise accept any name.
    """

    if not TYPE_CHECKING:

        def __getattr__(cls, name: str) -> Any:
            options = cls.__dict__.get("_options")
            if options is not None:
                descriptor = options.descriptors.get(name)
                if descriptor is not None:
                    return descriptor
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")

    def __dir__(cls) -> list[str]:
        options = cls.__dict__.get("_options")
        fields = list(options.descriptors) if options is not None else []
        return sorted({*super().__dir__(), *fields})


@dataclass_transform(
    field_specifiers=(
        FieldDescriptor,
        StringField,
        IntegerField,
        FloatField,
        DecimalField,
        DatetimeField,
        BooleanField,
        BytesField,
    )
)
class Record(metaclass=RecordType):
    """Base class of typed records (see the module docstring)."""

    _options: ClassVar[ModelOptions]
    __is_model__: ClassVar[bool] = True

    def __init_subclass__(cls, **options: Any) -> None:
        super().__init_subclass__()
        meta = cls.__dict__.get("Meta")
        merged: dict[str, Any] = {}
        for base in reversed(cls.__mro__[1:]):
            base_options = base.__dict__.get("_options")
            if isinstance(base_options, ModelOptions):
                merged.update(
                    (name, getattr(base_options, name))
                    for name in ModelOptions.NAMES
                    if name != "namespace"
                )
        if meta is not None:
            merged.update(
                (name, getattr(meta, name)) for name in ModelOptions.NAMES if hasattr(meta, name)
            )
        merged.update(options)
        cls._options = ModelOptions(**merged)
        _plans.pop(cls, None)
        _collect_fields(cls)
        if cls._options.frozen:
            setattr(cls, "__setattr__", _frozen_setattr)  # noqa: B010
            setattr(cls, "__delattr__", _frozen_delattr)  # noqa: B010
        elif "__setattr__" not in cls.__dict__ and cls.__setattr__ is _frozen_setattr:
            # a non-frozen subclass of a frozen record: plain stores again
            setattr(cls, "__setattr__", object.__setattr__)  # noqa: B010
            setattr(cls, "__delattr__", object.__delattr__)  # noqa: B010
        cls.__init__ = _make_init(cls)  # type: ignore[method-assign]
        namespace = cls._options.namespace or (
            f"{canonical_module_name(cls.__module__)}.{cls.__qualname__}"
        )
        cls._options.namespace = namespace
        registry[namespace] = cls

    # -- the per-class plan (type hints resolved on first use: forward references work) ---

    @classmethod
    def _plan(cls) -> _ClassPlan:
        return _plan_of(cls)

    @classmethod
    def _field_nodes(cls) -> dict[str, TypeNode]:
        """Each field's :class:`TypeNode` (what the codecs and schema export use)."""
        return {field.name: field.node for field in cls._plan().fields}

    @classmethod
    def _field_decoder(cls, name: str) -> Converter:
        """The generic ``payload value -> value`` of one field (generated codecs use it for
        field types they do not inline)."""
        return next(field.decode for field in cls._plan().fields if field.name == name)

    @classmethod
    def _field_encoder(cls, name: str) -> Converter:
        """The generic ``value -> JSON-ready value`` of one field."""
        for field in cls._plan().fields:
            if field.name == name:
                return field.encode or _identity
        raise KeyError(name)

    # -- construction -----------------------------------------------------------------------

    def _init_hook(self) -> None:
        """Called by ``__init__`` when the class coerces, validates or prepares values."""
        options = self._options
        values = self.__dict__
        for field in self._plan().fields:
            value = values[field.name]
            if field.coerce is not None:
                value = field.coerce(value)
            values[field.name] = field.descriptor.prepare_value(value)
        if options.validation:
            self.validate_or_raise()

    @classmethod
    def _blessed_target(cls: type[R], data: Any, preferred_type: Any) -> type[R]:
        return _blessed_target(cls, data, preferred_type)

    @classmethod
    def from_data(cls: type[R], data: Mapping[str, Any], *, preferred_type: Any = None) -> R:
        """Build a record from a decoded payload (a JSON object as Faust writes it).

        Raises :class:`~faust.models.typeinfo.ConversionError` (a ValueError) naming the
        field when a value does not fit its type.
        """
        if isinstance(data, Record):
            return data  # type: ignore[return-value]
        if not isinstance(data, Mapping):
            raise ConversionError(
                f"expected an object for {cls.__name__}, got {type(data).__name__}"
            )
        return _decode_fields(_blessed_target(cls, data, preferred_type), data)

    @classmethod
    def _decode_payload(cls: type[R], data: Mapping[str, Any], *, nested: bool = False) -> R:
        """A nested field's payload: the declared class unless a subclass is allowed."""
        return _decode_fields(_blessed_target(cls, data, cls), data)

    @classmethod
    def loads(
        cls: type[R],
        s: bytes,
        *,
        serializer: Any = None,
        default_serializer: Any = None,
    ) -> R:
        """Decode bytes written by :meth:`dumps` (or by Faust), with ``serializer``, else
        the class's, else ``default_serializer``, else JSON. A codec that needs the type
        (``avro``) reads by this Record's schema."""
        from faust.serializers import codecs

        codec = codecs.get_codec(
            serializer or cls._options.serializer or default_serializer or "json"
        )
        record: R = codec.loads_record(cls, s)  # type: ignore[assignment]
        return record

    # -- output ----------------------------------------------------------------------------

    def asdict(self) -> dict[str, Any]:
        """The fields as a dict (shallow: nested records stay records)."""
        instance = self.__dict__
        return {name: instance[name] for name in self._options.descriptors}

    def to_representation(self) -> dict[str, Any]:
        """The JSON-ready payload: output names, excluded fields dropped, ``__faust`` metadata.

        Datetimes, Decimals, UUIDs, Enums, bytes and nested Records are in their JSON form
        (see ``faust.models.typeinfo``), so any JSON-like codec can write the result.
        """
        instance = self.__dict__
        payload: dict[str, Any] = {}
        for field in self._plan().fields:
            if field.descriptor.exclude:
                continue
            value = instance[field.name]
            payload[field.output_name] = field.encode(value) if field.encode else value
        if self._options.include_metadata:
            payload[METADATA_KEY] = {"ns": self._options.namespace}
        return payload

    def __json__(self) -> dict[str, Any]:
        return self.to_representation()

    def dumps(self, *, serializer: Any = None) -> bytes:
        """Encode with ``serializer`` (default: the class's, else JSON)."""
        from faust.serializers import codecs

        codec = codecs.get_codec(serializer or self._options.serializer or "json")
        return codec.dumps_record(self)

    def derive(self: R, *objects: Record, **fields: Any) -> R:
        """A copy with ``fields`` (and the fields of ``objects``) replaced."""
        values = self.asdict()
        for obj in objects:
            values.update(obj.asdict())
        values.update(fields)
        return type(self)(**values)

    # -- validation ------------------------------------------------------------------------

    def validate(self) -> list[ValidationError]:
        """Every invalid field, one :class:`ValidationError` each (empty when valid)."""
        errors: list[ValidationError] = []
        instance = self.__dict__
        model = self._options.namespace
        for field in self._plan().fields:
            value = instance.get(field.name, MISSING)
            reasons: list[str] = []
            if value is MISSING:
                reasons.append("missing")
            elif not field.check(value):
                reasons.append(f"expected {field.node}, got {type(value).__name__} {value!r}")
            else:
                reasons.extend(field.descriptor.validate(value))
            for reason in reasons:
                errors.append(ValidationError(reason, field=field.name, model=model))
        return errors

    def is_valid(self) -> bool:
        return not self.validate()

    def validate_or_raise(self) -> None:
        """Raise one ValidationError listing every invalid field."""
        errors = self.validate()
        if errors:
            raise ValidationError(model=self._options.namespace, errors=errors)

    # -- python protocol -------------------------------------------------------------------

    def _values(self) -> tuple[Any, ...]:
        instance = self.__dict__
        return tuple(instance[name] for name in self._options.descriptors)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        # As in Faust, a record hashes its field values (a record holding a list does not
        # hash). ``frozen=True`` forbids changing a field, so the hash stays valid.
        return hash((type(self).__qualname__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.asdict().items())
        return f"<{type(self).__name__}: {fields}>"


# The generic path's per-message helpers are module functions over dicts keyed by class:
# an attribute read on a Record *class* goes through the metaclass's __getattr__ hook
# (RecordType), several times slower than a dict lookup.

_plans: dict[type, _ClassPlan] = {}


def _plan_of(cls: type[Record]) -> _ClassPlan:
    """The class's plan, built on first use (type hints resolved then: forward references
    work)."""
    plan = _plans.get(cls)
    if plan is None:
        plan = _plans[cls] = _build_plan(cls)
    return plan


def _blessed_target(cls: type[R], data: Any, preferred_type: Any) -> type[R]:
    """The class a payload becomes: ``cls``, or a subclass its ``__faust`` metadata names
    (see the module docstring)."""
    metadata = data.get(METADATA_KEY) if isinstance(data, dict) else None
    if not isinstance(metadata, dict):
        return cls
    named = registry.get(metadata.get("ns", ""))
    if named is None or named is cls or not issubclass(named, cls):
        return cls
    abstract = preferred_type is None or preferred_type is Record
    if abstract or named._options.allow_blessed_key or named._options.polymorphic_fields:
        return named
    return cls


def _decode_fields(cls: type[R], data: Mapping[str, Any]) -> R:
    plan = _plan_of(cls)
    values: dict[str, Any] = {}
    for field in plan.fields:
        raw = data.get(field.input_name, MISSING)
        if raw is MISSING:
            if field.descriptor.required:
                raise ConversionError(f"missing required field {field.input_name!r}")
            values[field.name] = field.descriptor.make_default()
            continue
        try:
            values[field.name] = field.decode(raw)
        except ConversionError as exc:
            raise ConversionError(f"field {field.name!r}: {exc}") from None
    record = _new(cls)
    record.__dict__.update(values)  # (faster than replacing __dict__; frozen-safe)
    if plan.validation:
        record.validate_or_raise()
    return record


def _frozen_setattr(self: Record, name: str, value: Any) -> None:
    """``__setattr__`` of ``frozen=True`` records (the only ones that have their own)."""
    if name in self._options.descriptors:
        raise dataclasses.FrozenInstanceError(
            f"cannot assign to field {name!r} of frozen {type(self).__name__}"
        )
    object.__setattr__(self, name, value)


def _frozen_delattr(self: Record, name: str) -> None:
    if name in self._options.descriptors:
        raise dataclasses.FrozenInstanceError(
            f"cannot delete field {name!r} of frozen {type(self).__name__}"
        )
    object.__delattr__(self, name)


def _collect_fields(cls: type[Record]) -> None:
    """Find the fields of ``cls`` (base classes first) and give each a descriptor on ``cls``."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # a forward reference that cannot be resolved yet: keep the strings
        hints = {}
        for klass in reversed(cls.__mro__):
            hints.update(inspect.get_annotations(klass))
    descriptors: dict[str, FieldDescriptor[Any]] = {}
    for base in reversed(cls.__mro__[1:]):
        base_options = base.__dict__.get("_options")
        if isinstance(base_options, ModelOptions):
            descriptors.update(base_options.descriptors)
    for name in inspect.get_annotations(cls):
        hint = hints.get(name)
        if name.startswith("_") or hint is ClassVar or typing.get_origin(hint) is ClassVar:
            continue
        if isinstance(hint, str) and hint.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = cls.__dict__.get(name, MISSING)
        descriptors[name] = (
            value if isinstance(value, FieldDescriptor) else FieldDescriptor(default=value)
        )
    seen_default = False
    for name, descriptor in list(descriptors.items()):
        if descriptor.model is not None and descriptor.model is not cls:
            descriptor = descriptor.clone()  # inherited: the subclass gets its own
        descriptor.bind(cls, name, hints.get(name, Any))
        if name in cls.__dict__:
            delattr(cls, name)  # the metaclass answers ``cls.name`` (see RecordType)
        descriptors[name] = descriptor
        if descriptor.has_default():
            seen_default = True
        elif seen_default:
            raise TypeError(
                f"{cls.__qualname__}: field {name!r} without a default follows a field with one"
            )
    cls._options.descriptors = descriptors


def _build_plan(cls: type[Record]) -> _ClassPlan:
    hints = typing.get_type_hints(cls)  # raises NameError for a name that never appeared
    options = cls._options
    fields: list[FieldPlan] = []
    for name, descriptor in options.descriptors.items():
        hint = hints.get(name, Any)
        descriptor.type = hint
        node = describe(hint)
        timezone = getattr(descriptor, "timezone", None)
        decode = json_decoder(node, timezone=timezone) if node.kind != "unsupported" else None
        prepare = descriptor.prepare_value
        overrides_prepare = type(descriptor).prepare_value is not FieldDescriptor.prepare_value
        if decode is None:
            decode = _unsupported_decoder(node)
        elif overrides_prepare and node.kind != "datetime":
            plain = decode
            decode = lambda value, plain=plain, prepare=prepare: prepare(plain(value))  # noqa: E731
        wants_coerce = descriptor.coerce
        if wants_coerce is None:
            wants_coerce = (
                options.coerce
                or (options.isodates and node.kind in ("datetime", "date"))
                or (options.decimals and node.kind == "decimal")
            )
        fields.append(
            FieldPlan(
                name=name,
                input_name=descriptor.input_name,
                output_name=descriptor.output_name,
                descriptor=descriptor,
                node=node,
                decode=decode,
                encode=_safe_encoder(node),
                check=type_checker(node),
                coerce=coercer(node) if wants_coerce else None,
            )
        )
    return _ClassPlan(fields, options.validation)


def _identity(value: Any) -> Any:
    return value


def _unsupported_decoder(node: TypeNode) -> Converter:
    def decode(value: Any) -> Any:
        return value

    return decode


def _safe_encoder(node: TypeNode) -> Converter | None:
    try:
        return json_encoder(node)
    except TypeError:
        return None


_init_counter: dict[str, int] = {}


def _needs_init_hook(cls: type[Record]) -> bool:
    """Might ``_init_hook`` change anything for ``cls``? Decided from the options and the
    descriptor classes alone (type hints may not resolve yet); a yes that turns out to be
    needless only costs the hook's loop."""
    options = cls._options
    if options.validation or options.coerce or options.isodates or options.decimals:
        return True
    return any(
        descriptor.coerce or type(descriptor).prepare_value is not FieldDescriptor.prepare_value
        for descriptor in options.descriptors.values()
    )


def _make_init(cls: type[Record]) -> Callable[..., None]:
    """Generate ``cls.__init__``: positional-or-keyword fields, defaults, one store each.

    The stores are plain attribute stores (``self.x = x``), which CPython specialises as
    for any plain class; a frozen class stores through ``object.__setattr__``. The source
    is registered in ``linecache`` under a real-looking filename so a traceback through it
    shows the generated line.
    """
    descriptors = cls._options.descriptors
    frozen = cls._options.frozen
    params = ["self"]
    body: list[str] = []
    namespace: dict[str, Any] = {"MISSING": MISSING, "_set": object.__setattr__}
    for name, descriptor in descriptors.items():
        if descriptor.default_factory is not None:
            namespace[f"_factory_{name}"] = descriptor.default_factory
            params.append(f"{name}=MISSING")
            body.append(f"    if {name} is MISSING:")
            body.append(f"        {name} = _factory_{name}()")
        elif descriptor.default is not MISSING:
            namespace[f"_default_{name}"] = descriptor.default
            params.append(f"{name}=_default_{name}")
        else:
            params.append(name)
    for name in descriptors:
        body.append(f"    _set(self, {name!r}, {name})" if frozen else f"    self.{name} = {name}")
    if _needs_init_hook(cls):
        body.append("    self._init_hook()")
    if not body:
        body.append("    pass")
    source = f"def __init__({', '.join(params)}):\n" + "\n".join(body) + "\n"
    base = f"<faust.Record {cls.__module__}.{cls.__qualname__}.__init__>"
    count = _init_counter.get(base, 0)
    _init_counter[base] = count + 1
    filename = base if count == 0 else f"{base[:-1]}-{count}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def maybe_model(arg: Any) -> Any:
    """Turn a dict carrying Faust metadata (``__faust: {ns}``) into its Record."""
    if isinstance(arg, dict):
        metadata = arg.get(METADATA_KEY)
        if isinstance(metadata, dict):
            model = registry.get(metadata.get("ns", ""))
            if model is not None:
                return model.from_data(arg)
    return arg
