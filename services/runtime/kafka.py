"""Kafka adapters (aiokafka). The embedded broker rejects the idempotent producer, so every
producer uses acks="all" without idempotence; durability comes from the PostgreSQL outbox."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = structlog.get_logger()


class AIOKafkaPublisher:
    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            enable_idempotence=False,
            linger_ms=5,
            max_batch_size=256 * 1024,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        await self._producer.send_and_wait(topic, value, key=key)

    async def publish_to(self, topic: str, partition: int, value: bytes) -> None:
        await self._producer.send_and_wait(topic, value, partition=partition)

    async def publish_many(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        """Send a batch and wait until the broker acknowledged every message."""
        futures = [await self._producer.send(t, v, key=k) for t, k, v in messages]
        for f in futures:
            await f


def consumer(bootstrap: str, topics: Iterable[str], group: str, client_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
        # Under load, wait a moment for fuller fetches: fewer, larger transactions downstream.
        fetch_min_bytes=64 * 1024,
        fetch_max_wait_ms=100,
    )


async def ensure_topics(bootstrap: str, names: Iterable[str], partitions: int) -> list[str]:
    """Create the topics that are missing, with the configured partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="lienthong-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(n, partitions, 1) for n in missing])
        return missing
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete the topics that exist (a new simulation starts with empty topics and no offsets)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="lienthong-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
