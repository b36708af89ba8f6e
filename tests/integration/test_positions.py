"""The monitor's positional evidence read from a real broker (streams/broker.py on
runtime/groups.py): the ends of the held handoffs' work topics and their readers' commits."""

from __future__ import annotations

import uuid

from contracts import topics
from runtime.kafka import AIOKafkaPublisher
from runtime.topicadmin import ensure_topics
from streams.broker import Positions
from tests.integration.conftest import Infra


async def test_a_work_topic_read_for_its_primer_leaves_every_other_work_topic_known(infra: Infra) -> None:
    """Regression: reading a partition no group had committed on (for its primer) narrowed the
    reader's metadata to that one topic, and from then on no other agency's positions were read:
    every later late handoff to them stayed held, unjudged (18 lost dossiers never reported in a
    month)."""
    prefix = f"pos{uuid.uuid4().hex[:8]}"
    work = {a: topics.work(a, prefix) for a in ("portal", "hotich", "cutru")}
    await ensure_topics(infra.bootstrap, list(work.values()), 2)
    publisher = AIOKafkaPublisher(infra.bootstrap, client_id="test-positions")
    await publisher.start()
    positions = Positions(infra.bootstrap, prefix)
    try:
        for topic in work.values():
            for i in range(4):
                await publisher.publish(topic, f"D-{i}".encode(), b"{}")
        # Nobody reads the portal's topic: its positions are read with its primers looked for.
        first = await positions.snapshot(["portal"])
        assert first is not None
        assert sum(p.end for p in first.positions["portal"].values()) == 4
        assert all(p.committed is None for p in first.positions["portal"].values())
        later = await positions.snapshot(["hotich", "cutru"])
        assert later is not None
        for agency in ("hotich", "cutru"):
            assert sum(p.end for p in later.positions[agency].values()) == 4, later.positions
    finally:
        await positions.stop()
        await publisher.stop()
