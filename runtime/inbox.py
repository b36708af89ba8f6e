"""Where an agency remembers the messages it has taken in: the port, its PostgreSQL adapter and an
in-memory one for unit tests.

Delivery is at least once, so the same handoff can arrive again (a rebalance before the offsets
were committed, a republish, a fault that sends twice). The inbox makes that harmless: `admit`
records the messages of a batch and returns the ids it had not seen, and only those are
applied. One contract, tested once against both adapters (`tests/integration/test_stores.py`):
an id admitted once is never fresh again, the same id twice in one batch is fresh once, and
`holds` tells which ids are in. Every method runs in the caller's transaction (`conn`), which
the memory inbox ignores."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from runtime.conn import Conn


@dataclass(frozen=True)
class Entry:
    event_id: str
    dossier_id: str | None
    type: str


class Inbox(Protocol):
    async def admit(self, conn: Conn, entries: list[Entry]) -> set[str]:
        """Record the entries; the ids among them that were not in the inbox before."""
        ...

    async def holds(self, conn: Conn, event_ids: Iterable[str]) -> set[str]: ...


@dataclass(frozen=True)
class PgInbox:
    schema: str

    async def admit(self, conn: Conn, entries: list[Entry]) -> set[str]:
        if not entries:
            return set()
        rows = await conn.fetch(
            f"INSERT INTO {self.schema}.inbox (event_id, dossier_id, type) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) ON CONFLICT (event_id) DO NOTHING "
            "RETURNING event_id",
            [uuid.UUID(e.event_id) for e in entries],
            [e.dossier_id for e in entries],
            [e.type for e in entries],
        )
        return {str(r["event_id"]) for r in rows}

    async def holds(self, conn: Conn, event_ids: Iterable[str]) -> set[str]:
        rows = await conn.fetch(
            f"SELECT event_id FROM {self.schema}.inbox WHERE event_id = ANY($1::uuid[])",
            [uuid.UUID(i) for i in event_ids],
        )
        return {str(r["event_id"]) for r in rows}


@dataclass
class MemoryInbox:
    """The same contract in a dict, for unit tests of the receive path."""

    entries: dict[str, Entry] = field(default_factory=dict)

    async def admit(self, conn: Conn, entries: list[Entry]) -> set[str]:
        fresh: set[str] = set()
        for e in entries:
            key = str(uuid.UUID(e.event_id))  # the same canonical form PostgreSQL gives back
            if key not in self.entries:
                self.entries[key] = e
                fresh.add(key)
        return fresh

    async def holds(self, conn: Conn, event_ids: Iterable[str]) -> set[str]:
        return {k for k in (str(uuid.UUID(i)) for i in event_ids) if k in self.entries}
