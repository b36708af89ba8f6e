"""Which partition a message belongs on: the contract's partitioner.

Every message about a dossier is keyed by its `dossier_id` (UTF-8), heartbeats by the agency's
name, and the partition is murmur2(key) made positive, modulo the topic's partition count: the
partitioner of Apache Kafka's Java client (`Utils.murmur2`, `toPositive`), aiokafka's default,
and librdkafka's `murmur2_random` (confluent-kafka must be told `partitioner: murmur2_random`;
its default, CRC32, puts a dossier's events on other partitions than everyone else's).

The monitor keeps each dossier's state on the partition its events arrive on, so one dossier's
events must all arrive on the same partition of the event topic. Written out here rather than
imported from a Kafka client so that the contract does not depend on one; a unit test holds it
to aiokafka's partitioner and to values computed by the Java client.
"""

from __future__ import annotations

SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash of `data`, as a signed 32-bit integer (what Java returns)."""
    length = len(data)
    h = (SEED ^ length) & _MASK
    whole = length - length % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = (h * _M) & _MASK
        h ^= k
    rest = length % 4
    if rest == 3:
        h ^= data[whole + 2] << 16
    if rest >= 2:
        h ^= data[whole + 1] << 8
    if rest >= 1:
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_of(key: bytes, partitions: int) -> int:
    """The partition a message keyed by `key` belongs on, of `partitions`."""
    if partitions < 1:
        raise ValueError("a topic has at least one partition")
    return (murmur2(key) & 0x7FFFFFFF) % partitions
