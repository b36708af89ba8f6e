"""Kafka adapters (aiokafka). The embedded broker rejects the idempotent producer, so every
producer uses acks="all" without idempotence; durability comes from the PostgreSQL outbox."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, TopicAlreadyExistsError

log = structlog.get_logger()

PRIMER_HEADER = "lienthong-primer"
"""Marks the message `prime` writes at offset 0 of each partition; consumers skip it."""


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


class Assignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """When the consumer last got its partitions (real time): after a broker crash, proof that
    it has rejoined its group and receives again."""

    def __init__(self) -> None:
        self.at: float | None = None

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.at = time.time()


async def commit(c: AIOKafkaConsumer) -> None:
    """Commit the read positions; a group that rebalanced meanwhile (after a broker restart the
    member is unknown) refuses the commit, and the partition's next owner reads the batch again,
    which every reader here tolerates (inboxes and tables drop what they already hold). That is
    a warning, not a reason to end the process (it once took the portal down after a crash)."""
    try:
        await c.commit()
    except CommitFailedError as exc:
        log.warning("read positions not committed: the group rebalanced; the batch will be read again", error=str(exc))


def consumer(
    bootstrap: str, topics: Iterable[str], group: str, client_id: str, listener: Assignments | None = None
) -> AIOKafkaConsumer:
    c = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
        # Under load, wait a moment for fuller fetches: fewer, larger transactions downstream.
        fetch_min_bytes=64 * 1024,
        fetch_max_wait_ms=100,
        # Heartbeat often: after a broker restart the group is gone, and the next heartbeat is
        # what tells the consumer to rejoin (3 s by default, sim days at high speed).
        heartbeat_interval_ms=1000,
    )
    c.subscribe(list(topics), listener=listener or Assignments())
    return c


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


async def prime(
    bootstrap: str, names: Iterable[str], partitions: int, value: Callable[[str, int], bytes] = lambda t, p: b"{}"
) -> int:
    """Write one message to every partition of the topics, one at a time, each marked with
    PRIMER_HEADER (its value from `value(topic, partition)`).

    Why: Tansu's memory storage fails the first batch of an empty partition when several
    producers write it at once (`AlreadyExists` on offset 0), and the partition stays unusable.
    After a broker restart every service produces at once, so the partitions get their first
    message here, from a single producer, before the services resume."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="lienthong-primer", acks="all")
    await producer.start()
    written = 0
    try:
        for name in names:
            for partition in range(partitions):
                await producer.send_and_wait(
                    name, value(name, partition), partition=partition, headers=[(PRIMER_HEADER, b"1")]
                )
                written += 1
    finally:
        await producer.stop()
    return written


def is_primer(headers: Sequence[tuple[str, bytes]] | None) -> bool:
    return any(key == PRIMER_HEADER for key, _ in headers or ())
