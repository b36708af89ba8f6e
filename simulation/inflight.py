"""Which messages a process fault caught in flight, by id: what the harness writes into the
ground truth when it kills a process, so the scorer explains an alert by the message it is
about, not by a span of time around the fault.

In flight, for a set of receivers at one moment:
- a work message the broker acknowledged (the sender's `outbox_sent`) that its receiver has not
  stored in its inbox;
- a message its own sender had not published yet (`outbox_pending`, no fault's release time),
  when the sender is the process that was hit;
- for the broker, a lifecycle event the broker acknowledged that the monitor has not stored.

Read-only: the agencies' tables are read, never written. After the embedded broker lost its log,
`replay_commands` asks each sender to publish its messages in flight again (chaos.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from contracts import topics
from contracts.commands import Republish, Selected, chunks
from contracts.topics import AGENCIES
from runtime.conn import Conn
from runtime.settings import Settings
from streams import queries


@dataclass(frozen=True, slots=True)
class Flight:
    sender: str
    outbox_id: int
    dossier_id: str | None
    event_id: str
    subject: str
    """`link:hotich->cutru` for a work message, `log:hotich` for a lifecycle event."""
    published: bool
    topic: str


async def in_flight(
    conn: Conn,
    prefix: str,
    receivers: Iterable[str] = (),
    unpublished_of: Iterable[str] = (),
    monitor: bool = False,
) -> list[Flight]:
    """The messages in flight now to `receivers`, not yet published by `unpublished_of`, and
    (with `monitor`) published but not stored by the monitor."""
    receivers, unpublished_of = set(receivers), set(unpublished_of)
    events = topics.dossier_events(prefix)
    monitor = monitor and await queries.installed(conn)
    out: list[Flight] = []
    for sender in AGENCIES:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{sender}.outbox_sent"):
            continue
        for receiver in sorted(receivers):
            # A receiver that never ran has no inbox yet: everything sent to it is in flight.
            stored = (
                f"AND NOT EXISTS (SELECT 1 FROM {receiver}.inbox i WHERE i.event_id = o.event_id) "
                if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{receiver}.inbox")
                else ""
            )
            rows = await conn.fetch(
                f"SELECT o.id, o.dossier_id, o.event_id FROM {sender}.outbox o WHERE o.topic = $1 "
                f"AND o.id IN (SELECT id FROM {sender}.outbox_sent) {stored}ORDER BY o.id",
                topics.work(receiver, prefix),
            )
            work = topics.work(receiver, prefix)
            out += [_flight(sender, r, f"link:{sender}->{receiver}", True, work) for r in rows]
        if monitor:
            rows = await conn.fetch(
                f"SELECT o.id, o.dossier_id, o.event_id FROM {sender}.outbox o WHERE o.topic = $1 "
                f"AND o.id IN (SELECT id FROM {sender}.outbox_sent) ORDER BY o.id",
                events,
            )
            # The monitor's tables are its own: it says which of these it has not stored.
            unread = await queries.unrecorded(conn, [r["event_id"] for r in rows])
            out += [_flight(sender, r, f"log:{sender}", True, events) for r in rows if r["event_id"] in unread]
        if sender in unpublished_of:
            rows = await conn.fetch(
                f"SELECT o.id, o.dossier_id, o.event_id, o.topic FROM {sender}.outbox_pending p "
                f"JOIN {sender}.outbox o ON o.id = p.id WHERE p.release_at IS NULL ORDER BY o.id"
            )
            out += [_flight(sender, r, _subject(sender, r["topic"], prefix), False, r["topic"]) for r in rows]
    return out


async def caught(
    settings: Settings, receivers: list[str], unpublished_of: tuple[str, ...] = (), monitor: bool = False
) -> list[Flight]:
    """`in_flight` now, on a connection of its own to the stack's PostgreSQL."""
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        known = [a for a in receivers if a in AGENCIES]
        own = [a for a in unpublished_of if a in AGENCIES]
        return await in_flight(conn, settings.topic_prefix, known, own, monitor)
    finally:
        await conn.close()


def _subject(sender: str, topic: str, prefix: str) -> str:
    for receiver in AGENCIES:
        if topic == topics.work(receiver, prefix):
            return f"link:{sender}->{receiver}"
    return f"log:{sender}"


def _flight(sender: str, r: Any, subject: str, published: bool, topic: str) -> Flight:
    return Flight(sender, int(r["id"]), r["dossier_id"], str(r["event_id"]), subject, published, topic)


def replay_commands(prefix: str, agencies: Iterable[str], flights: list[Flight], since: float) -> list[Republish]:
    """What to ask of each agency after the broker lost its log: publish again every message it
    held unconsumed (`flights`, by event id and topic: only what had been published, so a
    message a fault dropped stays dropped; a half-year run once delivered a "portal → one-stop
    not forwarded" handoff otherwise, and the fault it should show was undone), and its dead
    letters acknowledged since `since` (nobody records consuming those, so their loss cannot be
    told by id). Lost answers to admin commands are not replayed: their asker sends an
    unanswered command again (runtime/ask.py). Pure."""
    others = (topics.dead_letter(prefix),)
    commands: list[Republish] = []
    for agency in agencies:
        selected = [Selected(event_id=f.event_id, topic=f.topic) for f in flights if f.sender == agency and f.published]
        commands += chunks(agency, selected)
        commands.append(Republish(agency=agency, sent_since=since, topics=others))
    return commands
