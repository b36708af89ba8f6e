"""Topic administration (aiokafka's admin client): make a cluster's topics match the topics file
(contracts/topics.yaml), wait until they serve, and delete a run's topics."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import InvalidPartitionsError
from aiokafka.protocol.metadata import MetadataRequest

from contracts.topic_layout import TopicLayout, TopicSpec, load, logical_name
from runtime import kafkaaccess

log = structlog.get_logger()


@contextlib.asynccontextmanager
async def _admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="lienthong-admin", **kafkaaccess.options())
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


GROW_ASK_AGAIN_S = 10.0
GROW_TIMEOUT_S = 60.0


async def _grow(admin: AIOKafkaAdminClient, grow: dict[str, NewPartitions]) -> None:
    """Add the partitions, then wait until every broker of the cluster shows them with a leader
    each. The controller's "done" once left a 3-node cluster (one node restarted a moment before)
    showing the old count on every broker for 30 s, so a topic still short after a while is asked
    again; "already has that many" then means the first request did land. Every broker, not one:
    a client asking another broker a moment after `topics apply` returned saw the old count for
    over 10 s (a fresh-clone CI run, 5 December 2026)."""
    ends = time.monotonic() + GROW_TIMEOUT_S
    pending = dict(grow)
    asked = 0.0
    while pending:
        if time.monotonic() - asked > GROW_ASK_AGAIN_S:
            asked = time.monotonic()
            # aiokafka raises for the first refused topic alone: the describe below decides.
            with contextlib.suppress(InvalidPartitionsError):
                await admin.create_partitions(pending)
        views = await _every_broker(admin, list(pending))
        pending = {
            name: want
            for name, want in pending.items()
            if any(lacks_partitions(view.get(name), want.total_count) for view in views)
        }
        if pending and time.monotonic() > ends:
            short = ", ".join(f"{n} (wants {w.total_count})" for n, w in pending.items())
            raise RuntimeError(f"partitions not added after {GROW_TIMEOUT_S:g} s: {short}")
        if pending:
            await asyncio.sleep(0.2)


def lacks_partitions(described: dict[str, Any] | None, want: int) -> bool:
    """Whether a broker's view of a topic lacks partitions, or a leader for one."""
    if described is None or described.get("error_code", -1) != 0:
        return True
    return len(described["partitions"]) < want or any(p["leader"] < 0 for p in described["partitions"])


async def _every_broker(admin: AIOKafkaAdminClient, names: list[str]) -> list[dict[str, dict[str, Any]]]:
    """Each broker's own view of these topics, by name (the admin client asks one broker at
    random; its metadata may lead the others')."""
    nodes = [b["node_id"] for b in (await admin.describe_cluster())["brokers"]]
    views = []
    for node in nodes:
        # aiokafka's admin client has no public call to ask one node: its own request path.
        response = await admin._send_request(MetadataRequest(names), node)
        views.append({t["topic"]: t for t in response.to_object()["topics"]})
    return views


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
                await _grow(admin, grow)
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
