"""A new simulation's topics (`deploy.stack.reset_state`), on both brokers: what an earlier run
left is gone before anything writes again, and on the embedded broker every partition starts with
its primer, so that the first writers of a partition (the services and an external system, all at
once) lose nothing. An external stand-in's first heartbeats went missing after a fresh start once
(its check saw `seq` 7 first), which is what these guard."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import StaleMetadata

from contracts import topics
from deploy.stack import reset_state
from runtime.db import ensure_database
from runtime.kafka import is_primer
from runtime.settings import Settings
from tests.integration.conftest import BROKERS, Infra

pytestmark = pytest.mark.integration


async def _logs(bootstrap: str, names: list[str], partitions: int) -> dict[TopicPartition, list[bool]]:
    """Each partition's messages from offset 0, each as "is it a primer"."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        owned = [TopicPartition(n, p) for n in names for p in range(partitions)]
        reader.assign(owned)
        ends = await _ends(reader, owned)
        logs: dict[TopicPartition, list[bool]] = {tp: [] for tp in owned}
        for tp in owned:
            reader.seek(tp, 0)
        while any(len(logs[tp]) < ends[tp] for tp in owned):
            batch = await reader.getmany(timeout_ms=2000)
            assert batch, f"the partitions end at {ends} but nothing more comes"
            for tp, records in batch.items():
                logs[tp] += [is_primer(r.headers) for r in records]
        return logs
    finally:
        await reader.stop()


async def _ends(reader: AIOKafkaConsumer, owned: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The partitions' end offsets, once every new partition has a leader (Apache Kafka elects
    them a moment after it created the topics, and answers StaleMetadata until then)."""
    for _ in range(150):
        with contextlib.suppress(StaleMetadata):
            return await reader.end_offsets(owned)
        await asyncio.sleep(0.2)
    return await reader.end_offsets(owned)


@pytest.mark.parametrize("infra", BROKERS, indirect=True)
async def test_a_fresh_start_leaves_nothing_old_and_primes_each_partition_of_the_embedded_broker(
    infra: Infra, tmp_path: Path
) -> None:
    db = f"it_{uuid.uuid4().hex[:10]}"
    await ensure_database(infra.admin_url, db)
    settings = Settings(
        kafka_bootstrap=infra.bootstrap,
        database_url=infra.admin_url.rsplit("/", 1)[0] + f"/{db}",
        home=tmp_path,
        topic_prefix=f"fr{uuid.uuid4().hex[:6]}",
        partitions=2,
    )
    names = topics.all_topics(settings.topic_prefix)
    embedded = infra.broker == "tansu"
    await reset_state(settings, embedded=embedded)
    events = topics.dossier_events(settings.topic_prefix)
    writer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap)
    await writer.start()
    try:
        for p in range(settings.partitions):
            await writer.send_and_wait(events, b"left by an earlier run", partition=p)
    finally:
        await writer.stop()

    await reset_state(settings, embedded=embedded)  # the next simulation
    logs = await _logs(infra.bootstrap, names, settings.partitions)

    expected = [True] if embedded else []
    wrong = {f"{tp.topic}[{tp.partition}]": log for tp, log in logs.items() if log != expected}
    assert not wrong, f"each partition should hold {expected} (primer or not, by offset), found {wrong}"
