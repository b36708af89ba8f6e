"""Who may do what on a secured cluster: the ACLs `lienthong up --broker kafka` gives each
principal, enforced by KRaft's StandardAuthorizer (anything not allowed is denied).

The rights follow the chains (contracts/chains.yaml), not a list kept by hand: an agency writes
its own work topic (its scheduled office work), the work topics of the agencies its steps hand a
dossier to, the portal's (a result or a rejection returns there), the shared event topic, the
dead-letter topic and the admin replies; it reads only its own work topic, in consumer groups
named after it. The portal also reads the event topic (the citizen's timeline of a dossier). The
monitor reads every topic and the agencies' groups' positions, and writes only its alerts, its
dead letters and its clock marks on the event topic (what moves its judged time). The console
reads the dead letters, the admin replies and the alerts, and writes commands (a redrive, a
replay) to the agencies' work topics. The harness (contract tests and load tests, standing in
for the agencies around a system under test) reads and writes every topic. Every principal may
describe the topics and the cluster (names and partitions, not data). The operator is a super
user: creating, deleting and configuring topics and ACLs needs it. `plan` is pure; `apply`
sends the plan as the operator."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from contracts import topics
from contracts.chains import Chain
from contracts.topics import AGENCIES

MONITOR, CONSOLE, HARNESS = "monitor", "console", "harness"
TIMELINE_READERS = ("portal",)
"""Agencies that read the event topic: the portal keeps each dossier's timeline for its citizen."""
PRINCIPALS: tuple[str, ...] = (*AGENCIES, MONITOR, CONSOLE, HARNESS)
"""Every principal the ACLs name (the operator and the brokers are super users)."""


class Resource(IntEnum):
    """Kafka's resource types (the CreateAcls protocol's codes)."""

    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class Pattern(IntEnum):
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    READ = 3
    WRITE = 4
    DESCRIBE = 8


ALLOW = 3


@dataclass(frozen=True, order=True)
class Acl:
    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation

    def __str__(self) -> str:
        how = "prefixed" if self.pattern == Pattern.PREFIXED else "literal"
        return f"User:{self.principal} {self.operation.name} {self.resource.name} {self.name} ({how})"


def handoffs(chains: Mapping[str, Chain]) -> dict[str, set[str]]:
    """Each agency → the agencies whose work topics it writes a dossier to (its own excluded). An
    agency that runs no step of any chain (the population database, which answers questions)
    hands nothing to anyone."""
    stepping = {s.agency for c in chains.values() for s in c.steps} | {"portal"}
    to: dict[str, set[str]] = {a: {"portal"} if a in stepping else set() for a in AGENCIES}
    for chain in chains.values():
        to["portal"].add(chain.first.agency)
        by_name = {s.name: s for s in chain.steps}
        for step in chain.steps:
            if step.after is not None:
                to[by_name[step.after].agency].add(step.agency)
    return {a: receivers - {a} for a, receivers in to.items()}


def plan(prefix: str, chains: Mapping[str, Chain]) -> list[Acl]:
    """Every ACL of a cluster whose topics are named `<prefix>.…` (see the module docstring)."""
    acls: list[Acl] = []

    def allow(who: str, resource: Resource, name: str, *ops: Operation, pattern: Pattern = Pattern.LITERAL) -> None:
        acls.extend(Acl(who, resource, name, pattern, op) for op in ops)

    events, dead, replies, alerts = (
        topics.dossier_events(prefix),
        topics.dead_letter(prefix),
        topics.admin_replies(prefix),
        topics.alerts(prefix),
    )
    for who in PRINCIPALS:
        allow(who, Resource.TOPIC, f"{prefix}.", Operation.DESCRIBE, pattern=Pattern.PREFIXED)
        allow(who, Resource.CLUSTER, "kafka-cluster", Operation.DESCRIBE)
    for agency, receivers in handoffs(chains).items():
        own = topics.work(agency, prefix)
        allow(agency, Resource.TOPIC, own, Operation.READ, Operation.WRITE)
        if agency in TIMELINE_READERS:
            allow(agency, Resource.TOPIC, events, Operation.READ)
        for name in (events, dead, replies, *(topics.work(r, prefix) for r in sorted(receivers))):
            allow(agency, Resource.TOPIC, name, Operation.WRITE)
        # Its groups: its own, and any an integrator's system names after it (`lt.cutru-standin`).
        allow(agency, Resource.GROUP, f"{prefix}.{agency}", Operation.READ, pattern=Pattern.PREFIXED)
    allow(MONITOR, Resource.TOPIC, f"{prefix}.", Operation.READ, pattern=Pattern.PREFIXED)
    allow(MONITOR, Resource.TOPIC, alerts, Operation.WRITE)
    allow(MONITOR, Resource.TOPIC, dead, Operation.WRITE)
    allow(MONITOR, Resource.TOPIC, events, Operation.WRITE)  # its clock marks
    allow(MONITOR, Resource.GROUP, f"{prefix}.monitor", Operation.READ, pattern=Pattern.PREFIXED)
    allow(MONITOR, Resource.GROUP, f"{prefix}.", Operation.DESCRIBE, pattern=Pattern.PREFIXED)
    for name in (dead, replies, alerts):
        allow(CONSOLE, Resource.TOPIC, name, Operation.READ)
    allow(CONSOLE, Resource.TOPIC, f"{prefix}.work.", Operation.WRITE, pattern=Pattern.PREFIXED)
    allow(CONSOLE, Resource.GROUP, f"{prefix}.", Operation.DESCRIBE, pattern=Pattern.PREFIXED)
    allow(HARNESS, Resource.TOPIC, f"{prefix}.", Operation.READ, Operation.WRITE, pattern=Pattern.PREFIXED)
    allow(HARNESS, Resource.GROUP, f"{prefix}.", Operation.READ, pattern=Pattern.PREFIXED)
    return sorted(set(acls))


async def apply(bootstrap: str, acls: Iterable[Acl]) -> int:
    """Create `acls` as the operator (an ACL that exists already is left as it is); how many
    were sent. A refusal raises, naming the ACL."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.protocol.admin import CreateAclsRequest

    from runtime import kafkaaccess

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="lienthong-acls", **kafkaaccess.options(kafkaaccess.OPERATOR)
    )
    await admin.start()
    sent = 0
    try:
        for acl in acls:
            request = CreateAclsRequest(
                acl.resource, acl.name, acl.pattern, f"User:{acl.principal}", "*", acl.operation, ALLOW
            )
            response = await admin._send_request(request)  # aiokafka has no public CreateAcls call
            for code, message in response.creation_responses:
                if code != 0:
                    raise RuntimeError(f"the cluster refused the ACL {acl}: error {code} {message or ''}".strip())
            sent += 1
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    return sent
