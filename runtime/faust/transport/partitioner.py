"""Kafka's default key partitioner (murmur2), so in-memory partitions match Kafka's.

The Kafka worker configures librdkafka with ``partitioner=murmur2_random``, the Java
client's choice; Kafka Streams and Faust's aiokafka producer hash keys the same way, so a
key lands in the same partition whichever of them wrote it. Example::

    >>> partition_for_key(b"a1", 4)
    0
"""

from __future__ import annotations


def murmur2(data: bytes) -> int:
    """The 32-bit murmur2 hash as Kafka's Java client computes it (seed 0x9747b28c)."""
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    r = 24
    h = (seed ^ length) & 0xFFFFFFFF
    length4 = length // 4
    for i in range(length4):
        i4 = i * 4
        k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    tail = length % 4
    base = length & ~3
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
