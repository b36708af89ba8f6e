"""An agency's consumer refreshes its view of the partition leaders at least every 10 s
(runtime/kafka.py: METADATA_MAX_AGE_MS). Regression: after a Kafka node was frozen and another
killed, btxh's consumer reset a position by asking a node that no longer led the partition, 2,670
times over 285 s, because its metadata was as old as Kafka's 5-minute default allows."""

from __future__ import annotations

from runtime.kafka import METADATA_MAX_AGE_MS, consumer


async def test_a_stale_leader_is_asked_for_seconds_not_minutes() -> None:
    c = consumer("127.0.0.1:9", ["lt.work.btxh"], "lt.btxh", "btxh")
    try:
        # aiokafka keeps the setting on its client; the consumer is never started here.
        assert c._client._metadata_max_age_ms == METADATA_MAX_AGE_MS <= 10_000
    finally:
        await c.stop()
