"""Kafka adapters (aiokafka): the publisher, consumers, and the topic administration that makes a
cluster match the topics file (contracts/topics.yaml).

Every producer uses acks="all". Apache Kafka also gets the idempotent producer, so a retried send
never writes a second copy; the embedded broker (Tansu) refuses it (InitProducerId fails), so
support is probed on the broker itself, never assumed from configuration. Durability beyond the
broker comes from the PostgreSQL outbox."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.partitioner import DefaultPartitioner

from contracts.topic_layout import TopicLayout, TopicSpec, load, logical_name
from contracts.topics import PRIMER_HEADER
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
    )
    c.subscribe(list(topics), listener=listener or Assignments())
    return c


@contextlib.asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="lienthong-admin")
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def cluster_size(bootstrap: str) -> int:
    """How many brokers the cluster has registered."""
    async with _admin(bootstrap) as admin:
        return len((await admin.describe_cluster())["brokers"])


@dataclass(frozen=True)
class TopicChange:
    """One difference between the cluster and the topics file, and what `apply` does about it."""

    topic: str
    what: str
    have: str
    want: str
    applied: bool
    note: str = ""


TOPIC_ERRORS_OK = {0, 36}  # none; TOPIC_ALREADY_EXISTS (another process created it first)
CREATE_RETRY_S = 15.0


async def _create(admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec]) -> None:
    """Create the topics, failing loudly on any refusal but "already exists". A topic deleted a
    moment ago may still be on its way out: that is retried for a while."""
    deadline = time.monotonic() + CREATE_RETRY_S
    pending = list(specs)
    while pending:
        response = await admin.create_topics(
            [NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs) for s in pending]
        )
        errors = {t: (code, msg) for t, code, msg in response.topic_errors if code not in TOPIC_ERRORS_OK}
        existing = set(await admin.list_topics())
        pending = [s for s in pending if s.name not in existing]
        if errors and not pending:
            return
        if errors and (time.monotonic() > deadline or any(code != 36 for code, _ in errors.values())):
            name, (code, message) = next(iter(errors.items()))
            raise RuntimeError(f"the broker refused to create topic {name} (error {code}): {message}")
        if pending:
            await asyncio.sleep(0.2)


async def ensure_topics(
    bootstrap: str, names: Iterable[str], partitions: int, layout: TopicLayout | None = None
) -> list[str]:
    """Create the topics that are missing, laid out as the topics file says for this cluster's
    size, with `partitions` each."""
    layout = layout or load()
    async with _admin(bootstrap) as admin:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            brokers = len((await admin.describe_cluster())["brokers"])
            await _create(
                admin, [layout.spec(n, logical_name(n, n.split(".", 1)[0]), brokers, partitions) for n in missing]
            )
        return missing


async def ensure_topics_ready(
    bootstrap: str, names: Iterable[str], partitions: int, layout: TopicLayout | None = None, timeout_s: float = 90.0
) -> None:
    """`ensure_topics`, then again until every partition has a leader. Apache Kafka elects leaders
    a while after it made a topic, and a name deleted just before may still be going away when it
    is made again: the broker answers "already exists", then the deletion ends and the topic is
    gone (on the 3-node cluster, 3 of 8 fresh starts of tests/integration/test_fresh_topics.py
    before this loop)."""
    wanted = list(names)
    ends = time.monotonic() + timeout_s
    while True:
        await ensure_topics(bootstrap, wanted, partitions, layout)
        async with _admin(bootstrap) as admin:
            described = await admin.describe_topics(wanted)
        leaderless = [
            f"{t['topic']}[{p['partition']}]" if t["error_code"] == 0 else f"{t['topic']} (error {t['error_code']})"
            for t in described
            for p in (t.get("partitions") or [{"partition": "?", "leader": -1}])
            if t["error_code"] != 0 or p["leader"] < 0
        ]
        if not leaderless:
            return
        if time.monotonic() > ends:
            raise RuntimeError(f"topics not ready after {timeout_s:g} s: {', '.join(leaderless[:5])}")
        await asyncio.sleep(0.5)


REPARTITION_REFUSED = (
    "keyed by dossier: more partitions send a dossier's later messages to another partition than its "
    "earlier ones; rerun with --allow-repartition to accept that (docs/operations.md)"
)
REPARTITIONED = (
    "repartitioned: the monitor's workers rebalance and rebuild the dossiers of the partitions each "
    "now owns from their stored events (docs/operations.md)"
)


async def apply_topics(
    bootstrap: str,
    layout: TopicLayout,
    prefix: str,
    partitions: int | None = None,
    dry_run: bool = False,
    allow_repartition: bool = False,
) -> tuple[int, list[TopicChange]]:
    """Make the cluster's topics match the layout: create the missing ones, add partitions,
    set `min.insync.replicas`, retention and cleanup policy. Partitions are never removed and
    replicas never reassigned here (both need an operator's decision); they are reported. A keyed
    topic gets more partitions only with `allow_repartition` (a key's messages would change
    partition). Returns the cluster's size and every difference found (applied unless `dry_run`)."""
    async with _admin(bootstrap) as admin:
        brokers = len((await admin.describe_cluster())["brokers"])
        specs = layout.specs(prefix, brokers, partitions)  # refuses a cluster too small
        existing = {t["topic"]: t for t in await admin.describe_topics([s.name for s in specs]) if t["error_code"] == 0}
        changes: list[TopicChange] = []
        create = [s for s in specs if s.name not in existing]
        for s in create:
            want = f"{s.partitions} partitions × {s.replication_factor} replicas, " + _configs_text(s.configs)
            changes.append(TopicChange(s.name, "create", "—", want, applied=not dry_run))
        present = [s for s in specs if s.name in existing]
        configs = await _topic_configs(admin, [s.name for s in present]) if present else {}
        grow: dict[str, NewPartitions] = {}
        alter: list[ConfigResource] = []
        for s in present:
            parts = existing[s.name]["partitions"]
            changes += _layout_changes(s, parts, dry_run, allow_repartition, grow)
            have = configs.get(s.name, {})
            differs = {k: v for k, v in s.configs.items() if have.get(k) != v}
            for key, value in differs.items():
                changes.append(TopicChange(s.name, key, have.get(key, "—"), value, not dry_run))
            if differs:
                alter.append(ConfigResource(ConfigResourceType.TOPIC, s.name, configs=s.configs))
        if not dry_run:
            if create:
                await _create(admin, create)
            if grow:
                await admin.create_partitions(grow)
            if alter:
                for response in await admin.alter_configs(alter):
                    for code, message, _, name in response.resources:
                        if code:
                            raise RuntimeError(
                                f"the broker refused the settings of topic {name} (error {code}): {message}"
                            )
        return brokers, changes


def _layout_changes(
    s: TopicSpec, parts: list[Any], dry_run: bool, allow_repartition: bool, grow: dict[str, NewPartitions]
) -> list[TopicChange]:
    """A present topic's partition count and replication factor against the file; partitions to
    add go into `grow` (a keyed topic's only when allowed)."""
    out: list[TopicChange] = []
    have, want = len(parts), s.partitions
    if have < want:
        allowed = allow_repartition or not s.keyed
        if allowed:
            grow[s.name] = NewPartitions(want)
        note = "" if not s.keyed else REPARTITIONED if allowed else REPARTITION_REFUSED
        out.append(TopicChange(s.name, "partitions", str(have), str(want), allowed and not dry_run, note))
    elif have > want:
        note = "Kafka cannot remove partitions: recreate the topic, or raise the file's count"
        out.append(TopicChange(s.name, "partitions", str(have), str(want), False, note))
    rf = min((len(p["replicas"]) for p in parts), default=0)
    if rf != s.replication_factor:
        note = "needs a partition reassignment (kafka-reassign-partitions); not done here"
        out.append(TopicChange(s.name, "replication_factor", str(rf), str(s.replication_factor), False, note))
    return out


def _configs_text(configs: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in configs.items())


async def _topic_configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """The topics' current values of the settings the topics file manages."""
    keys = {"min.insync.replicas": None, "retention.ms": None, "cleanup.policy": None}
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n, configs=keys) for n in names])
    out: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.resources:
            _, _, _, name, entries = resource[:5]
            out[name] = {e[0]: e[1] for e in entries}
    return out


async def delete_topics(bootstrap: str, names: Iterable[str], timeout_s: float = 30.0) -> None:
    """Delete the topics that exist (a new simulation starts with empty topics and no offsets),
    and return once the broker no longer lists them: a broker may finish a deletion after it
    answered, and a topic made again in between would vanish under its first writers."""
    async with _admin(bootstrap) as admin:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
        ends = time.monotonic() + timeout_s
        while left := set(doomed) & set(await admin.list_topics()):
            if time.monotonic() > ends:
                raise RuntimeError(f"the broker still lists {len(left)} deleted topics after {timeout_s:g} s")
            await asyncio.sleep(0.2)


def is_primer(headers: Sequence[tuple[str, bytes]] | None) -> bool:
    return any(key == PRIMER_HEADER for key, _ in headers or ())
