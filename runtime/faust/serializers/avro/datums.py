"""Datums: Python values <-> the dicts, lists and primitives fastavro reads and writes.

A Record becomes a dict of its fields by output name (:func:`record_to_datum`) and comes
back from one (:func:`record_from_datum`, validated when the class asks for it); Enums
travel as their member names, sets and tuples as arrays, nested Records as dicts. These
are the reference converters; a compiled worker installs generated ones for its Records
(``faust.serializers.generated``). Example::

    to_dict = record_to_datum(Order)
    to_dict(Order("o1", Decimal("9.95")))     # {"order_id": "o1", "amount": Decimal("9.95")}
    record_from_datum(Order)({"order_id": "o1", "amount": Decimal("9.95")})   # Order(...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.models.record import Record
from faust.models.typeinfo import TypeNode, timezone_converter


def to_datum(node: TypeNode) -> Callable[[Any], Any] | None:
    """``value -> Avro datum`` for ``node`` (None when the value is the datum)."""
    kind = node.kind
    if kind == "enum":
        return lambda value: value.name
    if kind == "optional":
        inner = to_datum(node.args[0])
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if kind in ("list", "set", "frozenset", "tuple"):
        item = to_datum(node.args[0])
        if item is None:
            return None if kind == "list" else list
        return lambda value: [item(element) for element in value]
    if kind == "dict":
        val = to_datum(node.args[1])
        if val is None:
            return None
        return lambda value: {k: val(v) for k, v in value.items()}
    if kind == "record":
        model = node.py
        return lambda value: record_to_datum(model)(value)
    return None


def from_datum(node: TypeNode, *, timezone: Any = None) -> Callable[[Any], Any] | None:
    """``Avro datum -> value`` for ``node`` (None when the datum is the value)."""
    kind = node.kind
    if kind == "enum":
        enum_type = node.py
        return lambda symbol: enum_type[symbol]
    if kind == "datetime" and timezone is not None:
        return timezone_converter(timezone)
    if kind == "optional":
        inner = from_datum(node.args[0], timezone=timezone)
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    if kind in ("list", "set", "frozenset", "tuple"):
        item = from_datum(node.args[0], timezone=timezone)
        build: Callable[[Any], Any] = {
            "list": list,
            "set": set,
            "frozenset": frozenset,
            "tuple": tuple,
        }[kind]
        if item is None:
            return None if kind == "list" else build
        return lambda value: build([item(element) for element in value])
    if kind == "dict":
        val = from_datum(node.args[1], timezone=timezone)
        if val is None:
            return None
        return lambda value: {k: val(v) for k, v in value.items()}
    if kind == "record":
        model = node.py
        return lambda value: record_from_datum(model)(value)
    return None


_to_datum_cache: dict[type[Record], Callable[[Record], dict[str, Any]]] = {}
_from_datum_cache: dict[type[Record], Callable[[dict[str, Any]], Record]] = {}


def record_to_datum(model: type[Record]) -> Callable[[Record], dict[str, Any]]:
    """``record -> dict`` that fastavro writes with ``avro_schema(model)``."""
    found = _to_datum_cache.get(model)
    if found is not None:
        return found
    steps = [
        (field.name, field.output_name, to_datum(field.node))
        for field in model._plan().fields
        if not field.descriptor.exclude
    ]

    def convert(record: Record) -> dict[str, Any]:
        values = record.__dict__
        return {
            output: (values[name] if step is None else step(values[name]))
            for name, output, step in steps
        }

    _to_datum_cache[model] = convert
    return convert


def record_from_datum(model: type[Record]) -> Callable[[dict[str, Any]], Record]:
    """``dict fastavro read -> record`` (validated when the class sets ``validation``)."""
    found = _from_datum_cache.get(model)
    if found is not None:
        return found
    steps = []
    for field in model._plan().fields:
        descriptor = field.descriptor
        step = from_datum(field.node, timezone=getattr(descriptor, "timezone", None))
        if _prepares(descriptor) and field.node.kind != "datetime":
            step = _then_prepare(step, descriptor.prepare_value)
        steps.append((field.name, field.output_name, descriptor, step))
    validate = model._options.validation

    def convert(datum: dict[str, Any]) -> Record:
        # fastavro reads every field of the Record's schema: only excluded ones are absent
        values = {}
        for name, output, descriptor, step in steps:
            if descriptor.exclude:
                values[name] = descriptor.make_default()
                continue
            value = datum[output]
            values[name] = value if step is None else step(value)
        record = object.__new__(model)
        record.__dict__.update(values)
        if validate:
            record.validate_or_raise()
        return record

    _from_datum_cache[model] = convert
    return convert


def _prepares(descriptor: Any) -> bool:
    """Does the descriptor change values it is given (``StringField(trim_whitespace=)``)?
    The JSON path applies it to decoded values (``faust.models.record``); so does Avro."""
    from faust.models.fields import FieldDescriptor

    return type(descriptor).prepare_value is not FieldDescriptor.prepare_value


def _then_prepare(
    step: Callable[[Any], Any] | None, prepare: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    if step is None:
        return prepare
    return lambda value: prepare(step(value))
