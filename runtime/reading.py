"""Reading whole topics from their beginning with no consumer group: reading changes nothing on
the broker (`lienthong dlq`, the crash replay's check of what the new broker holds)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime.kafka import is_primer


async def read_to_end(bootstrap: str, names: Iterable[str], client_id: str, timeout_s: float = 30.0) -> list[Any]:
    """Every record on `names` but the primers, oldest first per partition, up to the end each
    partition had when reading began (at most `timeout_s`)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id=client_id)
    out: list[Any] = []
    await reader.start()
    try:
        owned = [
            TopicPartition(name, p)
            for name in sorted(set(names))
            for p in sorted(reader.partitions_for_topic(name) or {0})
        ]
        reader.assign(owned)
        await reader.seek_to_beginning(*owned)
        ends = await reader.end_offsets(owned)
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline:
            batches = await reader.getmany(timeout_ms=300)
            out += [r for rs in batches.values() for r in rs if not is_primer(r.headers)]
            quiet = 0 if batches else quiet + 1
            # The end as the fetches report it (the listed end offsets may trail on some brokers).
            positions = {tp: await reader.position(tp) for tp in owned}
            done = all(positions[tp] >= max(ends[tp], reader.highwater(tp) or 0) for tp in owned)
            if done and quiet >= 2:
                break
    finally:
        await reader.stop()
    return out
