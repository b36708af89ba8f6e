"""Messages the dead embedded broker acknowledged that the first crash replay could not see.

A relay frozen between the broker's acknowledgement and the commit of its "sent" mark commits
that mark only once it runs again, after the harness listed what was in flight while everything
was frozen: such a message is marked sent, was lost with the broker's memory, and was asked of
nobody (seen once, 4 December 2026: 18 births of one portal batch never read by anyone). So once
the agencies have rejoined, every message marked sent, still unread and not asked for already is
looked for on the new broker, and what the broker does not hold is asked of its sender again.
The broker is read after the sender's tables: a message marked sent by then and acknowledged by
the new broker is on it, so its receiver reads it and it is never delivered twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import asyncpg
import structlog

from contracts.commands import Republish, Selected, chunks
from contracts.topics import AGENCIES
from runtime.ask import Asking
from runtime.reading import read_to_end
from runtime.secrets import operator_token
from runtime.settings import Settings
from simulation.inflight import Flight, in_flight

log = structlog.get_logger()


def held(records: Iterable[Any]) -> set[tuple[str, str]]:
    """(event id, topic) of each record, as the broker holds them; an unreadable value holds none."""
    out: set[tuple[str, str]] = set()
    for r in records:
        try:
            event_id = json.loads(r.value or b"").get("event_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(event_id, str):
            out.add((event_id, r.topic))
    return out


def stranded(unread: Iterable[Flight], asked: Iterable[Flight], on_broker: set[tuple[str, str]]) -> list[Flight]:
    """The published, unread messages neither asked for already nor held by the broker. Pure."""
    known = {(f.event_id, f.topic) for f in asked}
    return [
        f
        for f in unread
        if f.published and (f.event_id, f.topic) not in known and (f.event_id, f.topic) not in on_broker
    ]


def commands(flights: list[Flight]) -> list[Republish]:
    """One republish by id per sender (in chunks) for the stranded messages."""
    out: list[Republish] = []
    for sender in sorted({f.sender for f in flights}):
        out += chunks(sender, [Selected(event_id=f.event_id, topic=f.topic) for f in flights if f.sender == sender])
    return out


async def replay_stranded(settings: Settings, bootstrap: str, asked: list[Flight], answer_s: float) -> list[Flight]:
    """Find the stranded messages and ask their senders for them again (at most `answer_s` real
    seconds for the answers); returns them, as in flight at the crash, for the ground truth."""
    _, url = settings.require_infra()
    conn = await asyncpg.connect(url)
    try:
        unread = await in_flight(conn, settings.topic_prefix, AGENCIES, monitor=True)
    finally:
        await conn.close()
    known = {(f.event_id, f.topic) for f in asked}
    candidates = [f for f in unread if f.published and (f.event_id, f.topic) not in known]
    if not candidates:
        return []
    records = await read_to_end(bootstrap, {f.topic for f in candidates}, "lienthong-chaos")
    lost = stranded(candidates, asked, held(records))
    if lost:
        log.warning("stranded by the broker crash, asked again", messages=len(lost))
        wanted = commands(lost)
        async with Asking(bootstrap, settings.topic_prefix, settings.partitions, operator_token(settings)) as asking:
            await asking.send(wanted)
            await asking.answers(wanted, answer_s)
    return lost
