"""Reading whole topics from their beginning with no consumer group: reading changes nothing on
the broker (`lienthong dlq`, the crash replay's check of what the new broker holds)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from runtime import kafkaaccess
from runtime.kafka import is_primer


async def read_to_end(bootstrap: str, names: Iterable[str], client_id: str, timeout_s: float = 30.0) -> list[Any]:
    """Every record on `names` but the primers, oldest first per partition, up to the end each
    partition had when reading began (at most `timeout_s`)."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id=client_id, **kafkaaccess.options()
    )
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
        # The end as the first fetch of each partition reports it too (the listed end offsets may
        # trail on some brokers); fixed once known, so a topic written meanwhile still ends.
        until: dict[TopicPartition, int] = {}
        while time.monotonic() < deadline:
            batches = await reader.getmany(timeout_ms=300)
            out += [r for rs in batches.values() for r in rs if not is_primer(r.headers)]
            for tp in owned:
                if tp not in until and reader.highwater(tp) is not None:
                    until[tp] = max(ends[tp], reader.highwater(tp) or 0)
            positions = {tp: await reader.position(tp) for tp in owned}
            if all(positions[tp] >= until.get(tp, ends[tp]) for tp in owned):
                break
    finally:
        await reader.stop()
    return out
