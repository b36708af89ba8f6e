"""The production engine: a 3-node Apache Kafka cluster (KRaft, replication factor 3,
min.insync.replicas 2, idempotent producers). One node killed with `kill -9` in the middle of a
run loses nothing: every lifecycle event the agencies' outboxes published reaches the monitor's
log, every dossier finishes, no effect is applied twice, and no alert is raised. Nothing is
replayed: each outbox row was published once. Also: `topics apply` reports and fixes a
drifted topic."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts import topics
from contracts.topic_layout import load
from deploy import kafka_cluster
from runtime.kafka import supports_idempotence
from runtime.topicadmin import apply_topics
from simulation.scoring.verify import verify
from tests.integration.conftest import Infra, kill_and_restart_node, monitor_process, running
from tests.integration.test_birth_chain import submit_births, wait_closed
from tests.integration.test_monitor import alerts

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("infra", ["kafka"], indirect=True)]
BIRTH = ["portal", "motcua", "hotich", "cutru", "bhxh"]
AGENCIES = ["portal", "motcua", "hotich", "cutru", "bhxh"]


async def published_events(url: str, events_topic: str) -> set[str]:
    """Ids of the lifecycle events the agencies' relays had acknowledged by the broker."""
    conn = await asyncpg.connect(url)
    try:
        ids: set[str] = set()
        for a in AGENCIES:
            rows = await conn.fetch(
                f"SELECT o.event_id::text AS id FROM {a}.outbox o JOIN {a}.outbox_sent s USING (id) WHERE o.topic = $1",
                events_topic,
            )
            ids.update(r["id"] for r in rows)
        return ids
    finally:
        await conn.close()


async def sent_more_than_once(url: str) -> int:
    """Outbox rows the relays published more than once (a replay, or a redrive)."""
    conn = await asyncpg.connect(url)
    try:
        total = 0
        for a in AGENCIES:
            total += await conn.fetchval(
                f"SELECT count(*) FROM (SELECT id FROM {a}.outbox_sent GROUP BY id HAVING count(*) > 1) t"
            )
        return int(total)
    finally:
        await conn.close()


async def monitor_events(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('monitor.events') IS NOT NULL"):
            return set()
        return {r["id"] for r in await conn.fetch("SELECT event_id::text AS id FROM monitor.events")}
    finally:
        await conn.close()


async def test_the_cluster_grants_the_idempotent_producer(infra: Infra) -> None:
    """Probed on the broker itself: Apache Kafka grants a producer id."""
    assert await supports_idempotence(infra.bootstrap) is True


async def test_a_node_killed_mid_run_loses_no_event_and_raises_no_alert(infra: Infra, tmp_path: Path) -> None:
    # The stamping bound covers the seconds a failover takes (the node fenced after 3 s, the
    # groups whose coordinator it was rejoining): events stamped inside it judge as on time.
    async with running(infra, BIRTH, tmp_path, sim_speed=5_000.0, sim_max_lag_s=15.0) as stack:
        s = stack.settings
        url = s.database_url or ""
        events_topic = topics.dossier_events(s.topic_prefix)
        with monitor_process(s, tmp_path) as monitor:
            async with aiohttp.ClientSession() as http:
                ids = await submit_births(http, stack, 20, seed=161)
                leader = await kafka_cluster.leader_of(infra.bootstrap, events_topic, 0)
                assert leader is not None
                # Dossiers keep coming while the node is away: two replicas still take writes.
                restart = asyncio.create_task(kill_and_restart_node(infra, leader))
                ids += await submit_births(http, stack, 20, seed=162)
                await restart
                ids += await submit_births(http, stack, 20, seed=163)
                await wait_closed(http, stack.portal, ids, timeout=180)
            sent = await published_events(url, events_topic)
            stored: set[str] = set()
            for _ in range(120):
                stored = await monitor_events(url)
                if sent <= stored:
                    break
                assert monitor.poll() is None, (tmp_path / "monitor.log").read_text()[-3000:]
                await asyncio.sleep(0.5)
            found = await alerts(url)
        report = await verify(url)
        replayed = await sent_more_than_once(url)
    assert len(sent) > 60 * 5, f"too few events published: {len(sent)}"
    assert sent - stored == set(), f"{len(sent - stored)} published events never reached the monitor"
    assert report["violations"] == 0, report
    assert report["dossiers"] == {"completed": 60}, report
    assert replayed == 0
    assert found == [], [(a["kind"], a["subject"], a["detail"]) for a in found]


async def test_topics_apply_reports_and_fixes_a_drifted_topic(infra: Infra) -> None:
    layout = load()
    prefix = "apply" + os.urandom(3).hex()
    brokers, first = await apply_topics(infra.bootstrap, layout, prefix)
    assert brokers == 3
    assert {c.what for c in first} == {"create"}
    assert len(first) == len(topics.all_topics(prefix))
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
    await admin.start()
    alerts_topic = topics.alerts(prefix)
    try:
        described = await admin.describe_topics([alerts_topic])
        assert {len(p["replicas"]) for p in described[0]["partitions"]} == {3}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, alerts_topic, {"retention.ms": "1000"})])
    finally:
        await admin.close()
    # A topic's settings reach every broker through the metadata log a moment later; the
    # comparison asks any broker, so it is asked until several answers agree.
    drift: list[Any] = []
    for _ in range(50):
        answers = [await apply_topics(infra.bootstrap, layout, prefix, dry_run=True) for _ in range(6)]
        drift = [[(c.topic, c.what, c.have, c.applied) for c in changes] for _, changes in answers]
        if all(d == drift[0] for d in drift) and drift[0]:
            break
        await asyncio.sleep(0.2)
    assert drift[0] == [(alerts_topic, "retention.ms", "1000", False)]
    _, fixed = await apply_topics(infra.bootstrap, layout, prefix)
    assert [(c.topic, c.what, c.applied) for c in fixed] == [(alerts_topic, "retention.ms", True)]
    _, after = await apply_topics(infra.bootstrap, layout, prefix)
    assert after == []


async def test_topics_apply_refuses_to_repartition_a_keyed_topic_unless_allowed(infra: Infra) -> None:
    """More partitions on a topic keyed by dossier move a dossier's later messages to another
    partition than its earlier ones: `topics apply` says so and changes nothing, unless allowed;
    then it adds them and says how the monitor rebuilds its state."""
    from runtime.topicadmin import REPARTITION_REFUSED, REPARTITIONED

    layout = load()
    prefix = "repart" + os.urandom(3).hex()
    await apply_topics(infra.bootstrap, layout, prefix, partitions=2)  # an older, smaller layout
    events = topics.dossier_events(prefix)

    async def counts() -> dict[str, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.bootstrap)
        await admin.start()
        try:
            return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(topics.all_topics(prefix))}
        finally:
            await admin.close()

    _, refused = await apply_topics(infra.bootstrap, layout, prefix)
    grown = [c for c in refused if c.what == "partitions"]
    assert len(grown) == len(topics.all_topics(prefix))
    assert all((c.have, c.want, c.applied, c.note) == ("2", "4", False, REPARTITION_REFUSED) for c in grown)
    assert (await counts())[events] == 2
    _, allowed = await apply_topics(infra.bootstrap, layout, prefix, allow_repartition=True)
    assert {(c.what, c.applied, c.note) for c in allowed} == {("partitions", True, REPARTITIONED)}
    # `apply` returns once one broker shows them; the others' metadata follows a moment later.
    for _ in range(50):
        if set((await counts()).values()) == {4}:
            break
        await asyncio.sleep(0.2)
    seen = await counts()
    assert set(seen.values()) == {4}, seen
