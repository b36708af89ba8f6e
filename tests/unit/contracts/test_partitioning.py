"""The contract's partitioner is Kafka's: murmur2, made positive, modulo the partition count."""

from __future__ import annotations

import random

import pytest
from aiokafka.partitioner import DefaultPartitioner

from contracts.partitioning import murmur2, partition_of

# Partitions of 1,000 computed by Apache Kafka's Java client (Utils.toPositive(Utils.murmur2(key))
# % 1000), the vectors its compatible Python clients test against.
JAVA = [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)]


@pytest.mark.parametrize(("key", "partition"), JAVA)
def test_the_partitioner_agrees_with_the_java_client(key: bytes, partition: int) -> None:
    assert partition_of(key, 1000) == partition


def test_the_partitioner_agrees_with_the_producers_of_this_project() -> None:
    rng = random.Random(7)
    aiokafka = DefaultPartitioner()
    for _ in range(2000):
        key = rng.randbytes(rng.randrange(0, 40))
        n = rng.choice([1, 3, 4, 12, 1000])
        assert partition_of(key, n) == aiokafka(key, list(range(n)), list(range(n)))


def test_murmur2_is_a_signed_32_bit_value_and_a_topic_needs_a_partition() -> None:
    assert all(-(2**31) <= murmur2(bytes([b]) * 7) < 2**31 for b in range(256))
    with pytest.raises(ValueError, match="at least one partition"):
        partition_of(b"D-1", 0)
