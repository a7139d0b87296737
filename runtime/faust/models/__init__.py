"""Models: typed records that travel as message keys and values.

Example::

    class Point(faust.Record):
        x: int
        y: int = 0

    Point(1).dumps()        # b'{"x":1,"y":0,"__faust":{"ns":"geometry.Point"}}'
"""

from faust.models.record import (
    FieldDescriptor,
    Record,
    maybe_model,
    registry,
)

__all__ = ["FieldDescriptor", "Record", "maybe_model", "registry"]
