"""The Avro schema of a Record class (or a plain type), from the class itself.

The mapping from types to Avro is ``faust.serializers.avroschema`` (shared with the
compiler, which describes what it read from the source); this module describes a Record
*class* for it (its fields, defaults, aliases, the options of its field descriptors).
Example::

    class Order(faust.Record, namespace="shop.Order", serializer="avro"):
        order_id: str
        amount: Decimal = DecimalField(max_digits=12, decimal_places=2)

    avro_schema(Order)
    # {'type': 'record', 'name': 'Order', 'namespace': 'shop', 'fields': [...]}
"""

from __future__ import annotations

from typing import Any

from faust.models.fields import MISSING as _MISSING
from faust.models.record import Record
from faust.models.typeinfo import TypeNode, describe
from faust.serializers.avroschema import (
    NO_DEFAULT,
    SchemaField,
    SchemaRecord,
    type_schema,
)


def record_fullname(model: type[Record]) -> str:
    return model._options.namespace


def enum_fullname(enum_type: type) -> str:
    from faust.models.record import canonical_module_name

    return f"{canonical_module_name(enum_type.__module__)}.{enum_type.__name__}"


def schema_record(model: type[Record]) -> SchemaRecord:
    """``model`` as the schema mapping (``faust.serializers.avroschema``) takes it."""
    fields = []
    for field in model._plan().fields:
        descriptor = field.descriptor
        if descriptor.exclude:
            continue
        has_default = descriptor.default_factory is None and descriptor.default is not _MISSING
        fields.append(
            SchemaField(
                field.output_name,
                field.node,
                f"{model.__name__}.{field.name}",
                aliases=(field.input_name,) if field.input_name != field.output_name else (),
                default=descriptor.default if has_default else NO_DEFAULT,
                max_digits=getattr(descriptor, "max_digits", None),
                decimal_places=getattr(descriptor, "decimal_places", None),
                precision=getattr(descriptor, "precision", "micros"),
            )
        )
    return SchemaRecord(record_fullname(model), tuple(fields))


class _Classes:
    """The Records and Enums a schema names, from the classes themselves."""

    def record(self, node: TypeNode) -> SchemaRecord:
        return schema_record(node.py)

    def enum(self, node: TypeNode) -> tuple[str, tuple[str, ...]]:
        return enum_fullname(node.py), tuple(member.name for member in node.py)


def avro_schema(typ: Any) -> Any:
    """The Avro schema (JSON-ready) for a Record class or a plain type."""
    return type_schema(describe(typ), _Classes(), where=getattr(typ, "__name__", "value"))
