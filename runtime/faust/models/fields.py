"""Field descriptors: per-field options of a Record, and the typed fields that validate.

A field's options are given by assigning a descriptor as its default; the class attribute
(``Order.amount``) is then that descriptor, which ``group_by`` and the compiler use to name
the field. Example::

    class Order(faust.Record, validation=True):
        account_id: str = StringField(max_length=32)
        amount: Decimal = DecimalField(max_digits=12, decimal_places=2)
        placed: datetime = DatetimeField(timezone=datetime.UTC)
        note: str = FieldDescriptor(default="", output_name="Note", exclude=False)

    Order("a1", Decimal("12.5"), now).validate()     # [] when every field is valid

``validator=`` takes a callable ``value -> None``; it fails the field by raising
``ValueError``/``TypeError`` (the message is used) or by returning ``False``.
"""

from __future__ import annotations

import datetime
import decimal
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from faust.models.record import Record

    # For the type checker a descriptor is assignable to the field's annotated type
    # (``amount: Decimal = DecimalField(...)``), as dataclasses.field() is.
    _Base = Any
else:

    class _Base:
        __slots__ = ()


T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: "no default" (None is a valid default)
MISSING: Any = _Missing()


class FieldDescriptor(_Base, Generic[T]):  # type: ignore[misc]
    """One field of a Record: its name, type, default and options."""

    #: the Python type this descriptor class is for (typed fields set it)
    expected_type: Any = None

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
        if not required and default is MISSING and default_factory is None:
            default = None  # Faust: an optional field defaults to None
        self.required = default is MISSING and default_factory is None
        self.default = default
        self.default_factory = default_factory
        self.coerce = coerce
        self.validator = validator
        self.exclude = exclude
        self.input_name: str = input_name or ""
        self.output_name: str = output_name or ""
        self._explicit_names = (input_name, output_name)
        self.field = ""
        self.type: Any = Any
        self.model: type[Record] | None = None

    def bind(self, model: type[Record], field: str, type_: Any) -> None:
        """Attach the descriptor to ``model.field`` of type ``type_``."""
        self.model = model
        self.field = field
        self.type = type_
        self.input_name = self._explicit_names[0] or field
        self.output_name = self._explicit_names[1] or field

    def _settings(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this descriptor (see :meth:`clone`)."""
        return {
            "default": self.default,
            "default_factory": self.default_factory,
            "coerce": self.coerce,
            "validator": self.validator,
            "exclude": self.exclude,
            "input_name": self._explicit_names[0],
            "output_name": self._explicit_names[1],
        }

    def clone(self) -> FieldDescriptor[T]:
        """An unbound copy with the same settings (a subclass gets its own descriptor)."""
        return type(self)(**self._settings())

    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not None

    def make_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        return self.default

    def validate(self, value: Any) -> list[str]:
        """Reasons ``value`` is invalid for this field (empty when valid)."""
        reasons = self.check(value) if value is not None else []
        if self.validator is not None:
            try:
                ok = self.validator(value)
            except (ValueError, TypeError) as exc:
                reasons.append(str(exc) or type(exc).__name__)
            else:
                if ok is False:
                    reasons.append(f"rejected by validator {_name(self.validator)}")
        return reasons

    def check(self, value: Any) -> list[str]:
        """The typed fields' own constraints (none here)."""
        return []

    def prepare_value(self, value: Any) -> Any:
        """Bring a decoded or coerced value into the field's form (typed fields may)."""
        return value

    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        # Only reached when the instance has no value of its own (never after __init__).
        raise AttributeError(self.field)

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model is not None else "?"
        type_name = getattr(self.type, "__name__", self.type)
        return f"<{type(self).__name__}: {owner}.{self.field}: {type_name}>"


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", repr(function))


class StringField(FieldDescriptor[str]):
    """A ``str`` field: ``min_length``, ``max_length``, ``allow_blank``, ``trim_whitespace``."""

    expected_type = str

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        allow_blank: bool = True,
        trim_whitespace: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.min_length = min_length
        self.max_length = max_length
        self.allow_blank = allow_blank
        self.trim_whitespace = trim_whitespace

    def _settings(self) -> dict[str, Any]:
        return {
            **super()._settings(),
            "min_length": self.min_length,
            "max_length": self.max_length,
            "allow_blank": self.allow_blank,
            "trim_whitespace": self.trim_whitespace,
        }

    def prepare_value(self, value: Any) -> Any:
        if self.trim_whitespace and isinstance(value, str):
            return value.strip()
        return value

    def check(self, value: Any) -> list[str]:
        if not isinstance(value, str):
            return []
        reasons = []
        if not self.allow_blank and not value.strip():
            reasons.append("must not be blank")
        if self.min_length is not None and len(value) < self.min_length:
            reasons.append(f"must be at least {self.min_length} characters (got {len(value)})")
        if self.max_length is not None and len(value) > self.max_length:
            reasons.append(f"must be at most {self.max_length} characters (got {len(value)})")
        return reasons


class _NumberField(FieldDescriptor[T]):
    def __init__(self, *, min_value: Any = None, max_value: Any = None, **options: Any) -> None:
        super().__init__(**options)
        self.min_value = min_value
        self.max_value = max_value

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "min_value": self.min_value, "max_value": self.max_value}

    def check(self, value: Any) -> list[str]:
        reasons = []
        try:
            if self.min_value is not None and value < self.min_value:
                reasons.append(f"must be >= {self.min_value} (got {value!r})")
            if self.max_value is not None and value > self.max_value:
                reasons.append(f"must be <= {self.max_value} (got {value!r})")
        except TypeError:
            pass  # the type check reports a value of the wrong type
        return reasons


class IntegerField(_NumberField[int]):
    """An ``int`` field: ``min_value``, ``max_value``."""

    expected_type = int


class FloatField(_NumberField[float]):
    """A ``float`` field: ``min_value``, ``max_value``."""

    expected_type = float


class DecimalField(_NumberField[decimal.Decimal]):
    """A ``Decimal`` field with ``max_digits`` and ``decimal_places`` (Avro precision/scale)."""

    expected_type = decimal.Decimal

    def __init__(
        self,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.max_digits = max_digits
        self.decimal_places = decimal_places

    def _settings(self) -> dict[str, Any]:
        return {
            **super()._settings(),
            "max_digits": self.max_digits,
            "decimal_places": self.decimal_places,
        }

    def check(self, value: Any) -> list[str]:
        reasons = super().check(value)
        if not isinstance(value, decimal.Decimal):
            return reasons
        if not value.is_finite():
            return [*reasons, f"must be a finite number (got {value})"]
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        places = max(0, -exponent)
        whole = max(0, len(digits) + exponent)
        if self.decimal_places is not None and places > self.decimal_places:
            reasons.append(f"must have at most {self.decimal_places} decimal places (got {value})")
        if self.max_digits is not None:
            whole_allowed = self.max_digits - (self.decimal_places or 0)
            if whole + places > self.max_digits or whole > whole_allowed:
                reasons.append(
                    f"must have at most {self.max_digits} digits, {whole_allowed} before the "
                    f"point (got {value})"
                )
        return reasons


class DatetimeField(FieldDescriptor[datetime.datetime]):
    """A ``datetime`` field; ``timezone`` (a tzinfo or an IANA name) converts values to it.

    ``precision`` (``"micros"``, the default, or ``"millis"``) is the Avro logical type the
    field is exported and encoded as: ``timestamp-micros`` or ``timestamp-millis``.
    """

    expected_type = datetime.datetime

    def __init__(
        self,
        *,
        timezone: datetime.tzinfo | str | None = None,
        precision: str = "micros",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if precision not in ("micros", "millis"):
            raise ValueError("DatetimeField precision must be 'micros' or 'millis'")
        self.timezone_setting = timezone
        self.timezone: datetime.tzinfo | None = (
            zoneinfo.ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        )
        self.precision = precision

    def _settings(self) -> dict[str, Any]:
        return {
            **super()._settings(),
            "timezone": self.timezone_setting,
            "precision": self.precision,
        }

    def prepare_value(self, value: Any) -> Any:
        if self.timezone is None or not isinstance(value, datetime.datetime):
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=self.timezone)
        return value.astimezone(self.timezone)


class BooleanField(FieldDescriptor[bool]):
    """A ``bool`` field."""

    expected_type = bool


class BytesField(FieldDescriptor[bytes]):
    """A ``bytes`` field (base64 in JSON, ``bytes`` in Avro)."""

    expected_type = bytes


FIELD_SPECIFIERS = (
    FieldDescriptor,
    StringField,
    IntegerField,
    FloatField,
    DecimalField,
    DatetimeField,
    BooleanField,
    BytesField,
)


#: every field specifier: the classes a Record field's default may be an instance of, to
#: give the field options (``Record``'s ``dataclass_transform`` lists them too, as mypy
#: needs them written out there; a test keeps the two the same)
FIELD_SPECIFIERS = (
    FieldDescriptor,
    StringField,
    IntegerField,
    FloatField,
    DecimalField,
    DatetimeField,
    BooleanField,
    BytesField,
)
