"""Transactional outbox: messages written with the business change, published by a relay
(runtime/relay.py).

A message stays pending until the broker acknowledged it (acks="all"); a crash before that
leaves it pending and the relay of the restarted process sends it again. Published messages are
kept: redrive and the crash replay queue them again to publish them once more. A row may carry
its send times (`Release`): the outbox sends it at each, and keeps a row with none for redrive.
Only the simulation port sets them (runtime/simulation.py, `handoff`); in production every row
goes once, at once.

`OutboxStore` is the port: `PgOutbox` keeps the tables of the agency's own schema
(runtime/db.py), `MemoryOutbox` the same contract in memory for unit tests.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from contracts.envelope import Event
from contracts.payloads import handoff_sent
from contracts.topics import dossier_events, work
from runtime.conn import Conn
from runtime.metrics import count_events

GOES_NOW = datetime.min.replace(tzinfo=UTC)
"""`next_release` of a message that goes out as soon as the relay runs."""

EVENTS_TOPIC_SUFFIX = dossier_events("")


Release = tuple[datetime | None, ...]
"""When a row is published: once at once `(None,)`, at set sim times (once per time), or never
`()` (it stays in the outbox for redrive)."""
AT_ONCE: Release = (None,)


Record = tuple[uuid.UUID, str | None, str, bytes | None, bytes]
"""An outbox row as stored: (event id, dossier id, topic, key, value)."""


class OutboxRow(NamedTuple):
    """An event to queue: where, what, and when to publish it."""

    topic: str
    event: Event
    release: Release = AT_ONCE


def handoff_at_once(handoff: Event, prefix: str) -> list[OutboxRow]:
    """The rows of a handoff delivered as usual: its lifecycle copy on the dossier-events topic
    and its work message on the receiver's work topic, both at once."""
    return [
        OutboxRow(dossier_events(prefix), handoff.for_lifecycle()),
        OutboxRow(work(handoff_sent(handoff)["to"], prefix), handoff),
    ]


def split(rows: list[OutboxRow]) -> tuple[list[tuple[str, Event]], dict[int, Release]]:
    """(topic, event) rows for `add`, and the release times of those not sent at once."""
    return [(t, e) for t, e, _ in rows], {i: r for i, (_, _, r) in enumerate(rows) if r != AT_ONCE}


def records(rows: Iterable[tuple[str, Event]]) -> list[Record]:
    return [(uuid.UUID(e.event_id), e.dossier_id, topic, e.key, e.to_json()) for topic, e in rows]


def columns(records: list[Record]) -> list[list[Any]]:
    """The rows as five arrays, for `unnest` (one statement whatever their number)."""
    return [list(c) for c in zip(*records, strict=True)] if records else [[], [], [], [], []]


def counted(owner: str, rows: Iterable[tuple[str, Event]]) -> None:
    """Count the lifecycle events among rows queued by `owner` (the service's metrics)."""
    count_events(owner, [e for topic, e in rows if topic.endswith(EVENTS_TOPIC_SUFFIX)])


def partition(queued: list[Record], releases: dict[int, Release]) -> tuple[list[Record], list[tuple[Record, Release]]]:
    """The rows that go out at once, and the others with their release times."""
    return [r for i, r in enumerate(queued) if i not in releases], [(queued[i], t) for i, t in releases.items()]


@dataclass(frozen=True)
class Pending:
    """A message claimed for publication: its place in the queue and what to send."""

    seq: int
    topic: str
    key: bytes | None
    value: bytes


class OutboxStore(Protocol):
    """Where an agency keeps what it produced and what is still to publish.

    The contract, tested once against both adapters (`tests/integration/test_stores.py`):
    - a message is kept once per (event id, topic), however often it is queued;
    - `claim` returns the pending messages released by `now`, in the order they were queued, at
      most `limit`; `mark_sent` takes them off the queue and records when;
    - a message released at sim times is pending once per time, and one released `()` is kept
      but never pending;
    - the `requeue_*` methods queue kept messages again, skip those already pending, and return
      how many they queued; `holds` says which event ids are kept.
    Every method runs in the caller's transaction (`conn`), which the memory store ignores.
    """

    @property
    def owner(self) -> str:
        """The agency whose schema this is (its metrics count what it queues)."""
        ...

    async def queue(self, conn: Conn, records: list[Record]) -> None:
        """Keep the messages and queue them for publication at once."""
        ...

    async def queue_released(self, conn: Conn, special: list[tuple[Record, Release]]) -> None:
        """Keep messages that go out later, more than once or never (see `Release`)."""
        ...

    async def claim(self, conn: Conn, now: datetime, limit: int) -> list[Pending]: ...

    async def mark_sent(self, conn: Conn, seqs: list[int]) -> None: ...

    async def requeue_messages(self, conn: Conn, wanted: list[tuple[uuid.UUID, str | None]]) -> int:
        """Queue again the kept messages with these event ids (on this topic, or any when None)."""
        ...

    async def requeue_dossier(self, conn: Conn, dossier_id: str, topics: list[str]) -> int: ...

    async def requeue_sent_since(self, conn: Conn, topics: list[str], since: float) -> int:
        """Queue again what was published on `topics` at or after `since` (Unix seconds)."""
        ...

    async def holds(self, conn: Conn, event_ids: list[uuid.UUID]) -> set[uuid.UUID]: ...

    async def backlog(self, conn: Conn) -> int: ...

    async def next_release(self, conn: Conn) -> datetime | None:
        """When the earliest message still waiting goes out (`GOES_NOW` for one that goes now)."""
        ...


async def add(
    store: OutboxStore, conn: Conn, rows: Iterable[tuple[str, Event]], releases: dict[int, Release] | None = None
) -> None:
    """Queue events for publication inside the caller's transaction; `releases` maps a row's
    index to its send times when they are not "once, at once" (see `Release`)."""
    rows = list(rows)
    counted(store.owner, rows)
    at_once, later = partition(records(rows), releases or {})
    await store.queue(conn, at_once)
    await store.queue_released(conn, later)


def _requeue(schema: str, where: str) -> str:
    """Queue again the outbox rows matching `where` (alias `o`), unless already waiting."""
    return (
        f"WITH q AS (INSERT INTO {schema}.outbox_pending (id) SELECT o.id FROM {schema}.outbox o "
        f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM {schema}.outbox_pending p WHERE p.id = o.id) "
        "ORDER BY o.id RETURNING id) SELECT count(*) FROM q"
    )


@dataclass(frozen=True)
class PgOutbox:
    """The outbox in the agency's own schema (tables in runtime/db.py)."""

    owner: str

    async def queue(self, conn: Conn, records: list[Record]) -> None:
        if not records:
            return
        s = self.owner
        await conn.execute(
            f"WITH queued AS (INSERT INTO {s}.outbox (event_id, dossier_id, topic, key, value) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::bytea[]) "
            "ON CONFLICT (event_id, topic) DO NOTHING RETURNING id) "
            f"INSERT INTO {s}.outbox_pending (id) SELECT id FROM queued",
            *columns(records),
        )

    async def queue_released(self, conn: Conn, special: list[tuple[Record, Release]]) -> None:
        if not special:
            return
        ids = await conn.fetch(
            f"INSERT INTO {self.owner}.outbox (event_id, dossier_id, topic, key, value) "
            "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::bytea[]) "
            "ON CONFLICT (event_id, topic) DO NOTHING RETURNING id, event_id, topic",
            *columns([r for r, _ in special]),
        )
        by_key = {(r["event_id"], r["topic"]): r["id"] for r in ids}
        pending = [
            (by_key[(rec[0], rec[2])], at) for rec, times in special if (rec[0], rec[2]) in by_key for at in times
        ]
        if pending:
            await conn.executemany(f"INSERT INTO {self.owner}.outbox_pending (id, release_at) VALUES ($1, $2)", pending)

    async def claim(self, conn: Conn, now: datetime, limit: int) -> list[Pending]:
        rows = await conn.fetch(
            f"SELECT p.seq, o.topic, o.key, o.value FROM {self.owner}.outbox_pending p "
            f"JOIN {self.owner}.outbox o USING (id) WHERE p.release_at IS NULL OR p.release_at <= $2 "
            "ORDER BY p.seq LIMIT $1 FOR UPDATE OF p SKIP LOCKED",
            limit,
            now,
        )
        return [Pending(r["seq"], r["topic"], r["key"], r["value"]) for r in rows]

    async def mark_sent(self, conn: Conn, seqs: list[int]) -> None:
        await conn.execute(
            f"WITH gone AS (DELETE FROM {self.owner}.outbox_pending WHERE seq = ANY($1::bigint[]) RETURNING id) "
            f"INSERT INTO {self.owner}.outbox_sent (id) SELECT id FROM gone",
            seqs,
        )

    async def requeue_messages(self, conn: Conn, wanted: list[tuple[uuid.UUID, str | None]]) -> int:
        n: int = await conn.fetchval(
            _requeue(
                self.owner,
                "EXISTS (SELECT 1 FROM unnest($1::uuid[], $2::text[]) AS w(event_id, topic) "
                "WHERE w.event_id = o.event_id AND (w.topic IS NULL OR w.topic = o.topic))",
            ),
            [w for w, _ in wanted],
            [t for _, t in wanted],
        )
        return n

    async def requeue_dossier(self, conn: Conn, dossier_id: str, topics: list[str]) -> int:
        n: int = await conn.fetchval(
            _requeue(self.owner, "o.dossier_id = $1 AND o.topic = ANY($2::text[])"), dossier_id, topics
        )
        return n

    async def requeue_sent_since(self, conn: Conn, topics: list[str], since: float) -> int:
        n: int = await conn.fetchval(
            _requeue(
                self.owner,
                "o.topic = ANY($1::text[]) AND EXISTS (SELECT 1 FROM "
                f"{self.owner}.outbox_sent s WHERE s.id = o.id AND s.at >= to_timestamp($2))",
            ),
            topics,
            since,
        )
        return n

    async def holds(self, conn: Conn, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        rows = await conn.fetch(f"SELECT event_id FROM {self.owner}.outbox WHERE event_id = ANY($1::uuid[])", event_ids)
        return {r["event_id"] for r in rows}

    async def backlog(self, conn: Conn) -> int:
        n: int = await conn.fetchval(f"SELECT count(*) FROM {self.owner}.outbox_pending")
        return n

    async def next_release(self, conn: Conn) -> datetime | None:
        row = await conn.fetchrow(
            f"SELECT bool_or(release_at IS NULL) AS now, min(release_at) AS at FROM {self.owner}.outbox_pending"
        )
        assert row is not None  # an aggregate answers one row, even of an empty queue
        at: datetime | None = GOES_NOW if row["now"] else row["at"]
        return at


@dataclass
class MemoryOutbox:
    """The same contract in lists, for unit tests of the receive and work paths and the relay."""

    owner: str = "memory"
    kept: list[Record] = field(default_factory=list)
    """Every message kept; a message's id is its index."""
    pending: dict[int, tuple[int, datetime | None]] = field(default_factory=dict)
    """seq -> (message id, release time)."""
    sent: list[tuple[int, float]] = field(default_factory=list)
    """(message id, when it was published)."""
    _seq: int = 0

    def _keep(self, record: Record) -> int | None:
        if any((k[0], k[2]) == (record[0], record[2]) for k in self.kept):
            return None
        self.kept.append(record)
        return len(self.kept) - 1

    def _enqueue(self, message_id: int, release_at: datetime | None = None) -> None:
        self._seq += 1
        self.pending[self._seq] = (message_id, release_at)

    async def queue(self, conn: Conn, records: list[Record]) -> None:
        for r in records:
            if (i := self._keep(r)) is not None:
                self._enqueue(i)

    async def queue_released(self, conn: Conn, special: list[tuple[Record, Release]]) -> None:
        for r, times in special:
            if (i := self._keep(r)) is not None:
                for at in times:
                    self._enqueue(i, at)

    async def claim(self, conn: Conn, now: datetime, limit: int) -> list[Pending]:
        due = [(seq, i) for seq, (i, at) in sorted(self.pending.items()) if at is None or at <= now][:limit]
        return [Pending(seq, self.kept[i][2], self.kept[i][3], self.kept[i][4]) for seq, i in due]

    async def mark_sent(self, conn: Conn, seqs: list[int]) -> None:
        for seq in seqs:
            if (gone := self.pending.pop(seq, None)) is not None:
                self.sent.append((gone[0], time.time()))

    def _requeue(self, chosen: Iterable[int]) -> int:
        waiting = {i for i, _ in self.pending.values()}
        fresh = sorted(set(chosen) - waiting)
        for i in fresh:
            self._enqueue(i)
        return len(fresh)

    async def requeue_messages(self, conn: Conn, wanted: list[tuple[uuid.UUID, str | None]]) -> int:
        return self._requeue(
            i for i, k in enumerate(self.kept) for w, t in wanted if k[0] == w and (t is None or t == k[2])
        )

    async def requeue_dossier(self, conn: Conn, dossier_id: str, topics: list[str]) -> int:
        return self._requeue(i for i, k in enumerate(self.kept) if k[1] == dossier_id and k[2] in topics)

    async def requeue_sent_since(self, conn: Conn, topics: list[str], since: float) -> int:
        return self._requeue(i for i, at in self.sent if at >= since and self.kept[i][2] in topics)

    async def holds(self, conn: Conn, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return {k[0] for k in self.kept} & set(event_ids)

    async def backlog(self, conn: Conn) -> int:
        return len(self.pending)

    async def next_release(self, conn: Conn) -> datetime | None:
        times = [GOES_NOW if at is None else at for _, at in self.pending.values()]
        return min(times, default=None)
