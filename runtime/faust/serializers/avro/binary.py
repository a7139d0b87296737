"""Avro's binary primitives, written and read straight: what the compiler's generated
writers and readers call (through ``faust.compiled``) for Records of primitive fields.

Each function does what fastavro does for one value, so generated code and fastavro write
the same bytes; a reader raises for anything it will not read, and the generated reader
then hands the whole message to fastavro. Example::

    write_long(-1), write_long(64)        # (b'\\x01', b'\\x80\\x01')
    read_long(b"\\x80\\x01", 0)           # (64, 2): the value and the position after it
    SHORT_LENGTHS[0x06]                   # 3: a one-byte length, read inline
"""

from __future__ import annotations

import struct

# -- writing primitives straight (the compiler's generated writers use these) ---------------

#: the longs -64..63, whose zigzag varint is one byte, by ``n + 64``
_ONE_BYTE_LONGS = tuple(bytes(((n << 1) ^ (n >> 63),)) for n in range(-64, 64))
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
write_double = struct.Struct("<d").pack


def write_long(n: int) -> bytes:
    """An Avro ``long`` (or ``int``): zigzag, then a base-128 varint, as fastavro writes it.

    >>> write_long(-1), write_long(64)
    (b'\\x01', b'\\x80\\x01')
    """
    if -64 <= n < 64:
        return _ONE_BYTE_LONGS[n + 64]
    if not _LONG_MIN <= n <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def write_string(text: str) -> bytes:
    """An Avro ``string``: its UTF-8 length as a long, then the bytes."""
    utf8 = text.encode()
    return write_long(len(utf8)) + utf8


# -- reading primitives straight (the compiler's generated readers use these) ---------------
# The generated readers read lengths of one byte inline (SHORT_LENGTHS) and call these for
# the rest. Each raises for what it will not read; the reader then hands the whole message
# to fastavro, which decides what it is (these only need to be right on what they accept).

#: a one-byte length (a long that is 0..63) by its byte; -1: not a one-byte length
SHORT_LENGTHS = tuple(byte >> 1 if byte < 0x80 and not byte & 1 else -1 for byte in range(256))
read_double = struct.Struct("<d").unpack_from


def read_long(data: bytes, pos: int) -> tuple[int, int]:
    """The Avro long at ``data[pos]`` (a zigzag varint of at most 10 bytes whose value
    fits 64 bits, as fastavro reads it), and the position after it."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 63:
            raise ValueError("a long of more than 10 bytes")
    if value >> 64:
        raise ValueError("a long of more than 64 bits")
    return (value >> 1) ^ -(value & 1), pos


def read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    """The Avro ``bytes`` at ``data[pos]`` and the position after them."""
    length, pos = read_long(data, pos)
    end = pos + length
    if length < 0 or end > len(data):
        raise ValueError(f"a length of {length} at {pos} in {len(data)} bytes")
    return data[pos:end], end


def read_string(data: bytes, pos: int) -> tuple[str, int]:
    """The Avro ``string`` at ``data[pos]`` and the position after it."""
    utf8, pos = read_bytes(data, pos)
    return utf8.decode(), pos
