"""`lienthong redrive`: put lost dossiers back on their way, by asking the sender to publish
again from its own outbox (contracts/commands.py; docs/operations.md, "Producers and durability").

A lost alert names the link (`link:motcua->hotich`) and the handoff's event id; redrive asks
the sender to queue that outbox row for its relay once more. `--dossier ID` asks every agency
to queue every work message it ever sent for the dossier. Redrive writes into no agency's
tables. Both are idempotent: each receiver's inbox drops an event it already applied, and every
effect that matters (an ID number, a card, a payment) is unique per dossier in its owner's
schema, so a dossier that was not lost after all is unharmed.

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
from typing import Any, TypedDict

import asyncpg

from contracts import topics
from contracts.clock import SimClock
from contracts.commands import Done, Republish, Selected, chunks
from contracts.topics import AGENCIES
from runtime.ask import ANSWER_S, ask
from runtime.conn import Conn
from runtime.secrets import operator_token
from runtime.settings import PlatformSettings
from services.portal import queries as portal
from streams import queries
from streams.queries import LostAlert

DDL = """
CREATE SCHEMA IF NOT EXISTS redrive;
CREATE TABLE IF NOT EXISTS redrive.attempts (
    alert_id  bigint PRIMARY KEY,
    attempts  integer NOT NULL,
    last_at   timestamptz NOT NULL
);
"""


class OutcomeView(TypedDict):
    alerts: int
    queued: int
    not_found: list[str]
    still_alerted: int


@dataclass
class Outcome:
    queued: int = 0
    """Work messages the senders queued for publication again."""
    alerts: int = 0
    not_found: list[str] = field(default_factory=list)
    """What no sender holds here, or no sender answered for (an external system that does not
    take commands, or one down for longer than the wait): its owner must resend."""
    still_alerted: int = 0
    """Redriven dossiers, all finished, of which the monitor still had an open alert when the wait
    ended (it had not read their closings yet)."""

    def as_dict(self) -> OutcomeView:
        return {
            "alerts": self.alerts,
            "queued": self.queued,
            "not_found": self.not_found,
            "still_alerted": self.still_alerted,
        }


def parse_lost(alert: LostAlert) -> tuple[str, str, str]:
    """(sender, receiver, handoff event id) of a lost alert."""
    sender, receiver = alert.subject.removeprefix("link:").split("->")
    event_id = alert.key.rsplit("handoff:", 1)[1]
    uuid.UUID(event_id)
    return sender, receiver, event_id


@dataclass(frozen=True)
class Asker:
    """Where the commands go, and how long to wait for the answers."""

    bootstrap: str
    prefix: str
    partitions: int
    timeout_s: float = ANSWER_S
    token: str | None = None
    """The operator token the commands are signed with."""

    @classmethod
    def of(cls, settings: PlatformSettings, timeout_s: float = ANSWER_S) -> Asker:
        bootstrap, _ = settings.require_infra()
        return cls(bootstrap, settings.topic_prefix, settings.partitions, timeout_s, operator_token(settings))

    async def __call__(self, commands: list[Republish]) -> dict[str, Done]:
        return await ask(self.bootstrap, self.prefix, commands, self.partitions, self.timeout_s, token=self.token)


async def lost_alerts(conn: Conn, ids: list[int] | None = None) -> list[LostAlert]:
    return await queries.open_lost_alerts(conn, ids)


async def redrive_alerts(asker: Asker, alerts: list[LostAlert]) -> Outcome:
    """Ask the sender of each lost handoff to publish its work message again."""
    out = Outcome(alerts=len(alerts))
    by_sender: dict[str, list[tuple[LostAlert, Selected]]] = {}
    for a in alerts:
        sender, receiver, event_id = parse_lost(a)
        selected = Selected(event_id=event_id, topic=topics.work(receiver, asker.prefix))
        by_sender.setdefault(sender, []).append((a, selected))
    commands = [c for sender, items in by_sender.items() for c in chunks(sender, [s for _, s in items])]
    answers = await asker(commands)
    for c in commands:
        done = answers.get(c.command_id)
        asked = {m.event_id for m in c.messages or ()}
        for a, selected in by_sender[c.agency]:
            if selected.event_id not in asked:
                continue
            if done is None:
                out.not_found.append(f"{a.dossier_id} ({a.subject}: no answer from {c.agency})")
            elif selected.event_id in done.missing:
                out.not_found.append(f"{a.dossier_id} ({a.subject})")
        out.queued += done.queued if done else 0
    return out


async def redrive_dossier(asker: Asker, dossier_id: str) -> Outcome:
    """Ask every agency to publish again every work message it sent for the dossier."""
    out = Outcome()
    commands = [Republish(agency=a, dossier_id=dossier_id) for a in AGENCIES]
    answers = await asker(commands)
    out.queued = sum(d.queued for d in answers.values())
    silent = [c.agency for c in commands if c.command_id not in answers]
    if out.queued == 0:
        out.not_found.append(dossier_id + (f" (no answer from {', '.join(silent)})" if silent else ""))
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


async def auto_once(conn: Conn, asker: Asker, policy: Policy, now: datetime) -> Outcome:
    """One round of the automatic policy."""
    await conn.execute(DDL)
    alerts = await lost_alerts(conn)
    tried = {
        r["alert_id"]: (r["attempts"], r["last_at"])
        for r in await conn.fetch(
            "SELECT alert_id, attempts, last_at FROM redrive.attempts WHERE alert_id = ANY($1::bigint[])",
            [a.id for a in alerts],
        )
    }
    due = [a for a in alerts if policy.due(*tried.get(a.id, (0, None)), a.opened_at, now)]
    out = await redrive_alerts(asker, due)
    await conn.executemany(
        "INSERT INTO redrive.attempts (alert_id, attempts, last_at) VALUES ($1, 1, $2) "
        "ON CONFLICT (alert_id) DO UPDATE SET attempts = redrive.attempts.attempts + 1, last_at = $2",
        [(a.id, now) for a in due],
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
        monitored = await queries.installed(conn)
        while True:
            waiting = await portal.in_progress(conn)
            n = len(waiting)
            settled = monitored and time.monotonic() - started > SETTLE_S
            blocked = settled and n > 0 and n == len(await queries.alerted_among(conn, waiting, kind="lost"))
            if n == 0 or blocked or time.monotonic() > ends:
                return n
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


ROUNDS = 5
"""Redrive rounds of `--all-lost --wait` at most: a dossier hit on two links is lost again at the
second after the first redrive, and an operator asking for "all lost" means those too."""


async def redrive_all_until_finished(asker: Asker, url: str, seconds: float, on_round: Any) -> tuple[Outcome, int]:
    """Redrive every open lost alert, wait for the dossiers to finish; while some are blocked by
    lost alerts opened since (never by one already redriven here), redrive those and wait again,
    at most ROUNDS times and `seconds` in all. Returns the total outcome and how many accepted
    dossiers are still in progress."""
    total = Outcome()
    done: set[int] = set()
    redriven: set[str] = set()
    ends = time.monotonic() + seconds
    still = 0
    for _ in range(ROUNDS):
        conn = await asyncpg.connect(url)
        try:
            fresh = [a for a in await lost_alerts(conn) if a.id not in done]
        finally:
            await conn.close()
        if total.alerts and not fresh:
            break
        out = await redrive_alerts(asker, fresh)
        done.update(a.id for a in fresh)
        redriven.update(a.dossier_id for a in fresh if a.dossier_id)
        total.alerts += out.alerts
        total.queued += out.queued
        total.not_found += out.not_found
        on_round(out)
        still = await wait_finished(url, max(0.0, ends - time.monotonic()))
        if still == 0 or time.monotonic() >= ends:
            break
    if still == 0 and redriven:
        total.still_alerted = await wait_alerts_closed(url, redriven, max(0.0, ends - time.monotonic()))
    return total, still


async def wait_alerts_closed(url: str, dossier_ids: set[str], seconds: float) -> int:
    """Wait until the monitor has no open alert on `dossier_ids` (finished dossiers: it closes
    their alerts as it reads their closings, in real time, after the clock stopped), at most
    `seconds`; how many still have one."""
    conn = await asyncpg.connect(url)
    try:
        ends = time.monotonic() + seconds
        while True:
            left = await queries.alerted_among(conn, dossier_ids)
            if not left or time.monotonic() >= ends:
                return len(left)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def auto(asker: Asker, url: str, clock: SimClock, policy: Policy, seconds: float | None, on_round: Any) -> int:
    """Run the policy every second, for `seconds` (or until interrupted); returns messages queued."""
    conn = await asyncpg.connect(url)
    total = 0
    ends = time.monotonic() + seconds if seconds is not None else None
    try:
        while ends is None or time.monotonic() < ends:
            out = await auto_once(conn, asker, policy, clock.now())
            total += out.queued
            if out.alerts:
                on_round(out)
            await asyncio.sleep(1.0)
    finally:
        await conn.close()
    return total
