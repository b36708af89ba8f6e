"""After the embedded broker lost its log, the outboxes publish again what it had acknowledged,
and nothing a fault dropped (real broker, real PostgreSQL)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg

from contracts import topics
from contracts.clock import VN_TZ
from contracts.envelope import new_event
from lienthong.chaos import replay_outboxes
from runtime import db, outbox
from runtime.kafka import AIOKafkaPublisher, ensure_topics
from runtime.settings import Settings
from tests.integration.conftest import Infra


async def test_the_replay_after_a_broker_crash_leaves_dropped_messages_dropped(infra: Infra, tmp_path: Path) -> None:
    name = f"it_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(infra.admin_url, name)
    url = infra.admin_url.rsplit("/", 1)[0] + f"/{name}"
    prefix = f"it{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap=infra.bootstrap, database_url=url, home=tmp_path, topic_prefix=prefix)
    work = topics.work("motcua", prefix)
    await ensure_topics(infra.bootstrap, [work, topics.dossier_events(prefix)], 1)
    pool = await db.create_pool(url, max_size=2)
    publisher = AIOKafkaPublisher(infra.bootstrap, client_id="it-portal")
    await publisher.start()
    try:
        await db.apply_schema(pool, "portal")
        at = datetime(2024, 3, 31, 19, 15, tzinfo=VN_TZ)
        payload = {"to": "motcua", "to_step": "intake", "dossier": {}}
        sent, dropped = (
            new_event("handoff.sent", "portal", at, dossier_id=d, chain="lltp", payload=payload)
            for d in ("D-SENT", "D-DROPPED")
        )
        async with pool.acquire() as conn, conn.transaction():
            # The second handoff's work message is dropped by a fault: released never.
            await outbox.add(conn, "portal", [(work, sent), (work, dropped)], {1: ()})
        relay = outbox.OutboxRelay(pool, "portal", publisher)
        assert await relay.publish_once() == 1

        assert await replay_outboxes(settings, since=time.time() - 10) == 1

        conn = await asyncpg.connect(url)
        try:
            queued = await conn.fetch(
                "SELECT o.dossier_id FROM portal.outbox_pending p JOIN portal.outbox o USING (id) ORDER BY p.seq"
            )
        finally:
            await conn.close()
        assert [r["dossier_id"] for r in queued] == ["D-SENT"]
        assert await relay.publish_once() == 1  # published again; the dropped one still never
    finally:
        await publisher.stop()
        await pool.close()
