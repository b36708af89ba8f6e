"""`lienthong redrive`: put lost dossiers back on their way, by publishing again from the
sender's outbox (docs/operations.md, "Producers and durability").

A lost alert names the link (`link:motcua->hotich`) and the handoff's event id; redrive queues
that outbox row of the sender for its relay once more. `--dossier ID` queues every work message
any agency ever sent for the dossier. Both are idempotent: each receiver's inbox drops an event
it already applied, and every effect that matters (an ID number, a card, a payment) is unique per
dossier in its owner's schema, so a dossier that was not lost after all is unharmed.

`--all-lost --wait S` goes round again for lost alerts opened while it waits (a dossier dropped
on two links), at most ROUNDS times. `--auto` is the opt-in policy: every few seconds it
redrives the open lost alerts, each again only after a backoff that doubles (in sim time), at
most `--cap` times; attempts are kept in `redrive.attempts`, so the policy survives a restart.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from contracts import topics
from contracts.clock import SimClock
from contracts.topics import AGENCIES

DDL = """
CREATE SCHEMA IF NOT EXISTS redrive;
CREATE TABLE IF NOT EXISTS redrive.attempts (
    alert_id  bigint PRIMARY KEY,
    attempts  integer NOT NULL,
    last_at   timestamptz NOT NULL
);
"""


@dataclass
class Outcome:
    queued: int = 0
    """Work messages queued for publication again."""
    alerts: int = 0
    not_found: list[str] = field(default_factory=list)
    """Handoffs whose sender keeps no outbox here (an external system): its owner must resend."""

    def as_dict(self) -> dict[str, Any]:
        return {"alerts": self.alerts, "queued": self.queued, "not_found": self.not_found}


def parse_lost(alert: dict[str, Any]) -> tuple[str, str, str]:
    """(sender, receiver, handoff event id) of a lost alert."""
    sender, receiver = alert["subject"].removeprefix("link:").split("->")
    event_id = alert["key"].rsplit("handoff:", 1)[1]
    uuid.UUID(event_id)
    return sender, receiver, event_id


async def _schemas(conn: Any) -> set[str]:
    rows = await conn.fetch(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox_pending' "
        "AND table_schema = ANY($1::text[])",
        list(AGENCIES),
    )
    return {r["table_schema"] for r in rows}


async def requeue_handoff(conn: Any, sender: str, receiver: str, event_id: str, prefix: str) -> int:
    n: int = await conn.fetchval(
        f"WITH q AS (INSERT INTO {sender}.outbox_pending (id) SELECT id FROM {sender}.outbox "
        "WHERE event_id = $1 AND topic = $2 RETURNING 1) SELECT count(*) FROM q",
        uuid.UUID(event_id),
        topics.work(receiver, prefix),
    )
    return n


async def lost_alerts(conn: Any, ids: list[int] | None = None) -> list[dict[str, Any]]:
    if not await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL"):
        return []
    rows = await conn.fetch(
        "SELECT id, subject, key, dossier_id, opened_at FROM monitor.alerts WHERE kind = 'lost' "
        "AND resolved_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) ORDER BY id",
        ids,
    )
    return [dict(r) for r in rows]


async def redrive_alerts(conn: Any, alerts: list[dict[str, Any]], prefix: str) -> Outcome:
    out = Outcome(alerts=len(alerts))
    schemas = await _schemas(conn)
    async with conn.transaction():
        for a in alerts:
            sender, receiver, event_id = parse_lost(a)
            n = await requeue_handoff(conn, sender, receiver, event_id, prefix) if sender in schemas else 0
            out.queued += n
            if n == 0:
                out.not_found.append(f"{a['dossier_id']} ({a['subject']})")
    return out


async def redrive_dossier(conn: Any, dossier_id: str, prefix: str) -> Outcome:
    out = Outcome()
    work_topics = [topics.work(a, prefix) for a in AGENCIES]
    async with conn.transaction():
        for schema in sorted(await _schemas(conn)):
            out.queued += await conn.fetchval(
                f"WITH q AS (INSERT INTO {schema}.outbox_pending (id) SELECT id FROM {schema}.outbox "
                "WHERE dossier_id = $1 AND topic = ANY($2::text[]) ORDER BY id RETURNING 1) SELECT count(*) FROM q",
                dossier_id,
                work_topics,
            )
    if out.queued == 0:
        out.not_found.append(dossier_id)
    return out


@dataclass(frozen=True)
class Policy:
    backoff: timedelta = timedelta(hours=1)
    """Sim time before the first retry of an alert; doubles after each."""
    cap: int = 3

    def due(self, attempts: int, last_at: datetime | None, opened_at: datetime, now: datetime) -> bool:
        """Whether an alert redriven `attempts` times (last at `last_at`) is due again at `now`."""
        if attempts >= self.cap:
            return False
        since = last_at or opened_at
        wait = self.backoff * (2 ** max(0, attempts - 1)) if attempts else timedelta(0)
        return now - since >= wait


async def auto_once(conn: Any, policy: Policy, now: datetime, prefix: str) -> Outcome:
    """One round of the automatic policy."""
    await conn.execute(DDL)
    alerts = await lost_alerts(conn)
    tried = {
        r["alert_id"]: (r["attempts"], r["last_at"])
        for r in await conn.fetch(
            "SELECT alert_id, attempts, last_at FROM redrive.attempts WHERE alert_id = ANY($1::bigint[])",
            [a["id"] for a in alerts],
        )
    }
    due = [a for a in alerts if policy.due(*tried.get(a["id"], (0, None)), a["opened_at"], now)]
    out = await redrive_alerts(conn, due, prefix)
    await conn.executemany(
        "INSERT INTO redrive.attempts (alert_id, attempts, last_at) VALUES ($1, 1, $2) "
        "ON CONFLICT (alert_id) DO UPDATE SET attempts = redrive.attempts.attempts + 1, last_at = $2",
        [(a["id"], now) for a in due],
    )
    return out


SETTLE_S = 10.0
"""Real seconds a just-redriven handoff may take before its lost alert closes (receiver's ack,
then the monitor reading it): only after that does an open lost alert mean 'blocked'."""


async def wait_finished(url: str, seconds: float) -> int:
    """Wait until every accepted dossier has finished or cannot finish without another redrive
    (it has an open lost alert), at most `seconds`; returns how many are still in progress.

    Progress is not judged by the count changing: at high speed one certificate's ten working
    days are many real seconds in which nothing visible happens."""
    conn = await asyncpg.connect(url)
    try:
        started = time.monotonic()
        ends = started + seconds
        monitored = await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL")
        blocked_sql = (
            "SELECT count(*) FROM portal.dossiers d WHERE d.status = 'in_progress' AND EXISTS "
            "(SELECT 1 FROM monitor.alerts a WHERE a.dossier_id = d.dossier_id "
            "AND a.kind = 'lost' AND a.resolved_at IS NULL)"
        )
        while True:
            n: int = await conn.fetchval("SELECT count(*) FROM portal.dossiers WHERE status = 'in_progress'")
            settled = monitored and time.monotonic() - started > SETTLE_S
            if n == 0 or (settled and n == await conn.fetchval(blocked_sql)) or time.monotonic() > ends:
                return n
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


ROUNDS = 5
"""Redrive rounds of `--all-lost --wait` at most: a dossier hit on two links is lost again at the
second after the first redrive, and an operator asking for "all lost" means those too."""


async def redrive_all_until_finished(url: str, prefix: str, seconds: float, on_round: Any) -> tuple[Outcome, int]:
    """Redrive every open lost alert, wait for the dossiers to finish; while some are blocked by
    lost alerts opened since (never by one already redriven here), redrive those and wait again,
    at most ROUNDS times and `seconds` in all. Returns the total outcome and how many accepted
    dossiers are still in progress."""
    total = Outcome()
    done: set[int] = set()
    ends = time.monotonic() + seconds
    still = 0
    for _ in range(ROUNDS):
        conn = await asyncpg.connect(url)
        try:
            fresh = [a for a in await lost_alerts(conn) if a["id"] not in done]
            if total.alerts and not fresh:
                break
            out = await redrive_alerts(conn, fresh, prefix)
        finally:
            await conn.close()
        done.update(a["id"] for a in fresh)
        total.alerts += out.alerts
        total.queued += out.queued
        total.not_found += out.not_found
        on_round(out)
        still = await wait_finished(url, max(0.0, ends - time.monotonic()))
        if still == 0 or time.monotonic() >= ends:
            break
    return total, still


async def auto(url: str, prefix: str, clock: SimClock, policy: Policy, seconds: float | None, on_round: Any) -> int:
    """Run the policy every second, for `seconds` (or until interrupted); returns messages queued."""
    conn = await asyncpg.connect(url)
    total = 0
    ends = time.monotonic() + seconds if seconds is not None else None
    try:
        while ends is None or time.monotonic() < ends:
            out = await auto_once(conn, policy, clock.now(), prefix)
            total += out.queued
            if out.alerts:
                on_round(out)
            await asyncio.sleep(1.0)
    finally:
        await conn.close()
    return total
