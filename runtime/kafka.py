"""Kafka adapters (aiokafka): the publisher and the consumers (the topic administration is
runtime/topicadmin.py).

Every producer uses acks="all". Apache Kafka also gets the idempotent producer, so a retried send
never writes a second copy; the embedded broker (Tansu) refuses it (InitProducerId fails), so
support is probed on the broker itself, never assumed from configuration. Durability beyond the
broker comes from the PostgreSQL outbox."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.partitioner import DefaultPartitioner

from contracts.topics import PRIMER_HEADER
from runtime import kafkaaccess
from runtime.logging import quiet_aiokafka

SESSION_TIMEOUT_S = 6.0
"""How long a consumer group waits for a silent member before it rebalances without it: six
missed heartbeats (one a second). The smallest Apache Kafka accepts by default
(`group.min.session.timeout.ms`): a killed process's partitions move to the survivors that much
sooner, and the embedded broker answers a forming group's first join after about half of it
(measured: the join answered 5.0 s after it was sent at aiokafka's default of 10 s; a lone
consumer ready 3.9 s after its start at 6 s, 5.8 s at 10 s)."""

log = structlog.get_logger()


IDEMPOTENCE_PROBE_S = 10.0
_idempotence: dict[str, bool] = {}
"""What each bootstrap's broker answered the probe, once per process."""


def plain_producer(bootstrap: str, client_id: str, idempotent: bool) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=idempotent,
        # The contract's partitioner (contracts/partitioning.py), named rather than left to the
        # client's default: one dossier's events must share a partition with everyone else's.
        partitioner=DefaultPartitioner(),
        linger_ms=5,
        max_batch_size=256 * 1024,
        request_timeout_ms=15000,
        **kafkaaccess.options(),
    )


async def supports_idempotence(bootstrap: str) -> bool:
    """Whether the broker grants a producer id (InitProducerId), asked of the broker itself:
    Apache Kafka does, Tansu answers UnknownError. A broker that does not answer within the
    probe's time is taken as not supporting it, with a warning (the send path still works)."""
    known = _idempotence.get(bootstrap)
    if known is not None:
        return known
    probe = plain_producer(bootstrap, "lienthong-idempotence-probe", idempotent=True)
    try:
        with quiet_aiokafka():  # a refusal is an answer here, logged below as one line
            await asyncio.wait_for(probe.start(), IDEMPOTENCE_PROBE_S)
        answer = True
    except KafkaError as exc:
        log.info("the broker refuses the idempotent producer; acks=all without it", error=type(exc).__name__)
        answer = False
    except TimeoutError:
        log.warning("no answer to the idempotent-producer probe; acks=all without it", bootstrap=bootstrap)
        answer = False
    finally:
        with contextlib.suppress(Exception):
            await probe.stop()
    _idempotence[bootstrap] = answer
    return answer


class AIOKafkaPublisher:
    """acks=all, idempotent wherever the broker supports it (`supports_idempotence`)."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._started: AIOKafkaProducer | None = None
        self.idempotent = False

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._started is None:
            raise RuntimeError("the publisher is not started")
        return self._started

    async def start(self) -> None:
        # Made here, not in __init__: which kind depends on the broker's answer, and an
        # aiokafka producer never started still warns when it is collected.
        self.idempotent = await supports_idempotence(self._bootstrap)
        producer = plain_producer(self._bootstrap, self._client_id, idempotent=self.idempotent)
        await producer.start()
        self._started = producer

    async def stop(self) -> None:
        if self._started is not None:
            await self._started.stop()
            self._started = None

    async def partitions_for(self, topic: str) -> set[int]:
        """The topic's partitions, asked of the cluster."""
        return set(await self._producer.partitions_for(topic))

    async def publish(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        await self._producer.send_and_wait(topic, value, key=key, headers=headers)

    async def enqueue(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future[Any]:
        """Hand a message to the producer and return at once with its delivery's future: the
        producer goes on retrying it (a cluster electing new leaders after a node died) while
        the caller keeps its own schedule."""
        future: asyncio.Future[Any] = await self._producer.send(topic, value, key=key)
        return future

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
        self.partitions: list[int] = []
        """The partitions this member owns now (a replica owns its share; none is a valid share)."""

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.partitions = []

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.at = time.time()
        self.partitions = sorted(tp.partition for tp in assigned)


async def commit(c: AIOKafkaConsumer) -> None:
    """Commit the read positions; a group that rebalanced meanwhile (after a broker restart the
    member is unknown) refuses the commit, and the partition's next owner reads the batch again,
    which every reader here tolerates (inboxes and tables drop what they already hold). That is
    a warning, not a reason to end the process (it once took the portal down after a crash)."""
    try:
        await c.commit()
    except CommitFailedError as exc:
        log.warning("read positions not committed: the group rebalanced; the batch will be read again", error=str(exc))


METADATA_MAX_AGE_MS = 10_000
"""How old an agency consumer's view of the partition leaders may grow (Kafka's default: 5
minutes). When a partition's position must be reset, aiokafka asks the leader its metadata names
and, answered "not leader", retries the same node without refreshing that view: after one Kafka
node was frozen and another killed, an agency asked a node that no longer led its partition for
285 s, reading nothing from it. A refresh at least every 10 s bounds that."""


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
        session_timeout_ms=int(SESSION_TIMEOUT_S * 1000),
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        **kafkaaccess.options(),
    )
    c.subscribe(list(topics), listener=listener or Assignments())
    return c


def is_primer(headers: Sequence[tuple[str, bytes]] | None) -> bool:
    return any(key == PRIMER_HEADER for key, _ in headers or ())
