"""``faust.Record``: a typed, serializable data class with Faust's wire format.

A Record subclass declares fields with annotations; each class gets a generated
``__init__`` (compiled once, with its source in ``linecache`` so tracebacks show it), a
namespace in :data:`registry`, and the JSON wire format Faust uses::

    >>> class Order(faust.Record, serializer="json"):
    ...     account_id: str
    ...     amount: float = 0.0
    >>> Order("a1", 10.0).dumps()
    b'{"account_id":"a1","amount":10.0,"__faust":{"ns":"shop.Order"}}'
    >>> Order.loads(b'{"account_id":"a1"}')          # metadata is optional on input
    <Order: account_id='a1', amount=0.0>

The class attribute ``Order.amount`` is the field's :class:`FieldDescriptor`; on an instance
the attribute is a plain value stored in the instance ``__dict__`` (the descriptor defines
only ``__get__``, so reading a field costs a dict lookup and nothing else).
"""

from __future__ import annotations

import inspect
import linecache
import sys
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, dataclass_transform

from faust.serializers import codecs

T = TypeVar("T")
R = TypeVar("R", bound="Record")

#: Every Record class by namespace (``"module.Class"`` unless the class sets ``namespace``).
registry: dict[str, type[Record]] = {}

#: The key Faust puts in a serialized record to name its class.
METADATA_KEY = "__faust"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FieldDescriptor(Generic[T]):
    """One field of a Record: its name, type and default.

    ``Order.amount`` (on the class) returns this descriptor; the compiler and ``group_by``
    use it to name a field. On instances the field is a plain attribute.
    """

    def __init__(
        self,
        *,
        required: bool = True,
        default: Any = MISSING,
        default_factory: Callable[[], Any] | None = None,
        coerce: bool | None = None,
        validator: Callable[[Any], Any] | None = None,
        exclude: bool = False,
        input_name: str | None = None,
        output_name: str | None = None,
    ) -> None:
        self.required = required and default is MISSING and default_factory is None
        self.default = default
        self.default_factory = default_factory
        self.coerce = coerce
        self.validator = validator
        self.exclude = exclude
        self.input_name = input_name
        self.output_name = output_name
        self.field = ""
        self.type: Any = Any
        self.model: type[Record] | None = None

    def bind(self, model: type[Record], field: str, type_: Any) -> None:
        """Attach the descriptor to ``model.field`` of type ``type_``."""
        self.model = model
        self.field = field
        self.type = type_
        if self.input_name is None:
            self.input_name = field
        if self.output_name is None:
            self.output_name = field

    def clone(self) -> FieldDescriptor[T]:
        """An unbound copy with the same settings (for a subclass's own descriptor)."""
        copy = FieldDescriptor[T](
            default=self.default,
            default_factory=self.default_factory,
            coerce=self.coerce,
            validator=self.validator,
            exclude=self.exclude,
            input_name=self.input_name if self.input_name != self.field else None,
            output_name=self.output_name if self.output_name != self.field else None,
        )
        copy.required = self.required
        return copy

    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not None

    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        # Only reached when the instance has no value of its own (never after __init__).
        raise AttributeError(self.field)

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model is not None else "?"
        return (
            f"<FieldDescriptor: {owner}.{self.field}: {getattr(self.type, '__name__', self.type)}>"
        )


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
        self.serializer: str | None = options.get("serializer")
        self.namespace: str | None = options.get("namespace")
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


@dataclass_transform(field_specifiers=(FieldDescriptor,))
class Record:
    """Base class of typed records (see the module docstring)."""

    _options: ClassVar[ModelOptions]

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
        _collect_fields(cls)
        cls.__init__ = _make_init(cls)  # type: ignore[method-assign]
        namespace = cls._options.namespace or (
            f"{canonical_module_name(cls.__module__)}.{cls.__qualname__}"
        )
        cls._options.namespace = namespace
        registry[namespace] = cls

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def from_data(cls: type[R], data: Mapping[str, Any], *, preferred_type: Any = None) -> R:
        """Build a record from a decoded mapping; ``__faust`` metadata may name a subclass."""
        target: type[R] = cls
        metadata = data.get(METADATA_KEY)
        if metadata is not None:
            named = registry.get(metadata.get("ns", ""))
            if named is not None and issubclass(named, cls):
                target = named
        descriptors = target._options.descriptors
        return target(
            **{
                name: data[descriptor.input_name or name]
                for name, descriptor in descriptors.items()
                if (descriptor.input_name or name) in data
            }
        )

    @classmethod
    def loads(cls: type[R], s: bytes, *, serializer: str | None = None) -> R:
        """Decode bytes written by :meth:`dumps` (or by Faust)."""
        codec = serializer or cls._options.serializer or "json"
        return cls.from_data(codecs.loads(codec, s))

    # -- output ----------------------------------------------------------------------------

    def asdict(self) -> dict[str, Any]:
        """The fields as a dict (shallow: nested records stay records)."""
        instance = self.__dict__
        return {name: instance[name] for name in self._options.descriptors}

    def to_representation(self) -> dict[str, Any]:
        """The dict that is serialized: output names, excluded fields dropped, metadata."""
        instance = self.__dict__
        payload = {
            descriptor.output_name or name: instance[name]
            for name, descriptor in self._options.descriptors.items()
            if not descriptor.exclude
        }
        if self._options.include_metadata:
            payload[METADATA_KEY] = {"ns": self._options.namespace}
        return payload

    def dumps(self, *, serializer: str | None = None) -> bytes:
        """Encode with ``serializer`` (default: the class's, else JSON)."""
        codec = serializer or self._options.serializer or "json"
        return codecs.dumps(codec, self.to_representation())

    def derive(self: R, *objects: Record, **fields: Any) -> R:
        """A copy with ``fields`` (and the fields of ``objects``) replaced."""
        values = self.asdict()
        for obj in objects:
            values.update(obj.asdict())
        values.update(fields)
        return type(self)(**values)

    # -- python protocol -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self.asdict() == other.asdict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.asdict().items())
        return f"<{type(self).__name__}: {fields}>"


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
        value = cls.__dict__.get(name, MISSING)
        descriptors[name] = (
            value if isinstance(value, FieldDescriptor) else FieldDescriptor(default=value)
        )
    seen_default = False
    for name, descriptor in list(descriptors.items()):
        if descriptor.model is not None and descriptor.model is not cls:
            descriptor = descriptor.clone()  # inherited: the subclass gets its own
        descriptor.bind(cls, name, hints.get(name, Any))
        setattr(cls, name, descriptor)
        descriptors[name] = descriptor
        if descriptor.has_default():
            seen_default = True
        elif seen_default:
            raise TypeError(
                f"{cls.__qualname__}: field {name!r} without a default follows a field with one"
            )
    cls._options.descriptors = descriptors


_init_counter: dict[str, int] = {}


def _make_init(cls: type[Record]) -> Callable[..., None]:
    """Generate ``cls.__init__``: positional-or-keyword fields, defaults, one store each.

    The source is registered in ``linecache`` under a real-looking filename so a traceback
    through it shows the generated line.
    """
    descriptors = cls._options.descriptors
    params = ["self"]
    body: list[str] = []
    namespace: dict[str, Any] = {"MISSING": MISSING}
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
    body.extend(f"    self.__dict__[{name!r}] = {name}" for name in descriptors)
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
