"""Serialization: codecs (``codecs.py``: bytes <-> Python objects) and schemas
(``schemas.py``: a topic's key and value types and how they are decoded).

Example::

    from faust.serializers import codecs
    codecs.dumps("json", {"a": 1})        # b'{"a":1}'
"""

from faust.serializers import codecs
from faust.serializers.codecs import Codec

__all__ = ["Codec", "codecs"]
