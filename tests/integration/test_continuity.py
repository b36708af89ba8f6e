"""The monitor's proof that a batch continues the log it read before (streams/positions.py,
`Continuity`), asked of a real embedded broker that crashes and comes back on the same port with
an empty log, which then grows past the old position before anyone looks."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from deploy.embedded import start_broker, stop_pid
from runtime.topicadmin import ensure_topics_ready
from streams.broker import RecordPeek
from streams.positions import digest

pytestmark = pytest.mark.integration

TOPIC = "lt-continuity.dossier-events"


async def _produce(bootstrap: str, tag: str, n: int) -> list[bytes]:
    await ensure_topics_ready(bootstrap, [TOPIC], 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        values = [f"{tag}-{i}".encode() for i in range(n)]
        for v in values:
            await producer.send_and_wait(TOPIC, v, partition=0)
        return values
    finally:
        await producer.stop()


async def test_a_log_the_broker_replaced_and_grew_past_the_old_position_reads_back_different(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    broker = start_broker(tmp_path)
    peek = RecordPeek(broker["bootstrap"])
    try:
        old = await _produce(broker["bootstrap"], "old", 5)
        assert await peek.digest_at(TOPIC, 0, 4) == digest(old[4])
        stop_pid(broker["pid"], signal.SIGKILL)
        broker["_process"].wait()
        broker = start_broker(tmp_path, broker["port"])
        await _produce(broker["bootstrap"], "new", 10)  # past offset 4 before the worker looks
        found = await peek.digest_at(TOPIC, 0, 4)
        assert found == digest(b"new-4")
        assert found != digest(old[4])
        assert await peek.digest_at(TOPIC, 0, 25) is None  # beyond the log's end
    finally:
        await peek.stop()
        stop_pid(broker["pid"])
        broker["_process"].wait()
