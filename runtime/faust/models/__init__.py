"""Models: typed records that travel as message keys and values.

Example::

    class Point(faust.Record):
        x: int
        y: int = IntegerField(default=0, min_value=0)

    Point(1).dumps()        # b'{"x":1,"y":0,"__faust":{"ns":"geometry.Point"}}'
    registry["geometry.Point"] is Point
"""

from faust.models.fields import (
    BooleanField,
    BytesField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    StringField,
)
from faust.models.record import (
    ModelOptions,
    Record,
    maybe_model,
    registry,
)

__all__ = [
    "BooleanField",
    "BytesField",
    "DatetimeField",
    "DecimalField",
    "FieldDescriptor",
    "FloatField",
    "IntegerField",
    "ModelOptions",
    "Record",
    "StringField",
    "maybe_model",
    "registry",
]
