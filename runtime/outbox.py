"""Transactional outbox: rows written with the business change, published by a relay.

A message's id stays in `outbox_pending` until the broker acknowledged it (acks="all"); a crash
before that leaves it pending and the relay of the restarted process sends it again. Sent
messages stay in `outbox`: redrive queues their ids again to publish them once more. A pending
entry may carry a release time (sim time): injected faults delay or repeat deliveries that way.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import asyncpg
import structlog

from contracts.clock import VN_TZ, SimClock
from contracts.envelope import Event
from contracts.payloads import handoff_sent
from contracts.topics import dossier_events, work
from runtime.metrics import count_events

log = structlog.get_logger()
EVENTS_TOPIC_SUFFIX = dossier_events("")


class Publisher(Protocol):
    async def publish_many(self, messages: list[tuple[str, bytes | None, bytes]]) -> None: ...


Release = tuple[datetime | None, ...]
"""When a row is published: once at once `(None,)`, at sim times, twice, or never `()` (a fault
drops it; it stays in the outbox for redrive)."""
AT_ONCE: Release = (None,)


Record = tuple[uuid.UUID, str | None, str, bytes | None, bytes]
"""An outbox row as stored: (event id, dossier id, topic, key, value)."""

Row = tuple[str, Event, Release]
"""An event to queue: (topic, event, when to publish it)."""


def handoff_at_once(handoff: Event, prefix: str) -> list[Row]:
    """The rows of a handoff delivered as usual: its lifecycle copy on the dossier-events topic
    and its work message on the receiver's work topic, both at once."""
    return [
        (dossier_events(prefix), handoff.for_lifecycle(), AT_ONCE),
        (work(handoff_sent(handoff)["to"], prefix), handoff, AT_ONCE),
    ]


def split(rows: list[Row]) -> tuple[list[tuple[str, Event]], dict[int, Release]]:
    """(topic, event) rows for `add`, and the release times of those not sent at once."""
    return [(t, e) for t, e, _ in rows], {i: r for i, (_, _, r) in enumerate(rows) if r != AT_ONCE}


def records(rows: Iterable[tuple[str, Event]]) -> list[Record]:
    return [(uuid.UUID(e.event_id), e.dossier_id, topic, e.key, e.to_json()) for topic, e in rows]


def columns(records: list[Record]) -> list[list[Any]]:
    """The rows as five arrays, for `unnest` (one statement whatever their number)."""
    return [list(c) for c in zip(*records, strict=True)] if records else [[], [], [], [], []]


def counted(schema: str, rows: Iterable[tuple[str, Event]]) -> None:
    """Count the lifecycle events among rows queued by `schema` (the service's metrics)."""
    count_events(schema, [e for topic, e in rows if topic.endswith(EVENTS_TOPIC_SUFFIX)])


async def add(
    conn: Any, schema: str, rows: Iterable[tuple[str, Event]], releases: dict[int, Release] | None = None
) -> None:
    """Queue events for publication inside the caller's transaction; `releases` maps a row's
    index to its release times when faults delay, repeat or drop it."""
    rows = list(rows)
    counted(schema, rows)
    at_once, later = partition(records(rows), releases or {})
    await add_raw(conn, schema, at_once)
    await add_released(conn, schema, later)


def partition(queued: list[Record], releases: dict[int, Release]) -> tuple[list[Record], list[tuple[Record, Release]]]:
    """The rows that go out at once, and the others with their release times."""
    return [r for i, r in enumerate(queued) if i not in releases], [(queued[i], t) for i, t in releases.items()]


async def add_released(conn: Any, schema: str, special: list[tuple[Record, Release]]) -> None:
    """Queue rows that go out later, more than once or never (see `Release`)."""
    if not special:
        return
    ids = await conn.fetch(
        f"INSERT INTO {schema}.outbox (event_id, dossier_id, topic, key, value) "
        "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::bytea[]) "
        "ON CONFLICT (event_id, topic) DO NOTHING RETURNING id, event_id, topic",
        *columns([r for r, _ in special]),
    )
    by_key = {(r["event_id"], r["topic"]): r["id"] for r in ids}
    pending = [(by_key[(rec[0], rec[2])], at) for rec, times in special if (rec[0], rec[2]) in by_key for at in times]
    if pending:
        await conn.executemany(f"INSERT INTO {schema}.outbox_pending (id, release_at) VALUES ($1, $2)", pending)


async def add_raw(conn: Any, schema: str, records: list[Record]) -> None:
    """Queue (event id, dossier id, topic, key, value) messages, in one statement."""
    if not records:
        return
    await conn.execute(
        f"WITH queued AS (INSERT INTO {schema}.outbox (event_id, dossier_id, topic, key, value) "
        "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::bytea[]) "
        "ON CONFLICT (event_id, topic) DO NOTHING RETURNING id) "
        f"INSERT INTO {schema}.outbox_pending (id) SELECT id FROM queued",
        *columns(records),
    )


class OutboxRelay:
    def __init__(
        self, pool: asyncpg.Pool, schema: str, publisher: Publisher, batch: int = 500, clock: SimClock | None = None
    ) -> None:
        self._clock = clock
        self._pool = pool
        self._schema = schema
        self._publisher = publisher
        self._batch = batch
        self._wake = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle_s: float = 0.25, coalesce_s: float = 0.03) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle_s)
            # Let the wakes of several batches land first: one publish for all of them.
            await asyncio.sleep(coalesce_s)
            self._wake.clear()
            try:
                while await self.publish_once() == self._batch:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker may be restarting: keep rows, retry later
                log.warning("outbox relay failed, will retry", schema=self._schema, error=str(exc))
                await asyncio.sleep(1.0)

    async def publish_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT p.seq, o.topic, o.key, o.value FROM {self._schema}.outbox_pending p "
                f"JOIN {self._schema}.outbox o USING (id) WHERE p.release_at IS NULL OR p.release_at <= $2 "
                "ORDER BY p.seq LIMIT $1 FOR UPDATE OF p SKIP LOCKED",
                self._batch,
                self._clock.now() if self._clock else datetime.max.replace(tzinfo=VN_TZ),
            )
            if not rows:
                return 0
            await self._publisher.publish_many([(r["topic"], r["key"], r["value"]) for r in rows])
            await conn.execute(
                f"WITH gone AS (DELETE FROM {self._schema}.outbox_pending WHERE seq = ANY($1::bigint[]) RETURNING id) "
                f"INSERT INTO {self._schema}.outbox_sent (id) SELECT id FROM gone",
                [r["seq"] for r in rows],
            )
        self.published += len(rows)
        return len(rows)

    async def backlog(self) -> int:
        async with self._pool.acquire() as conn:
            n: int = await conn.fetchval(f"SELECT count(*) FROM {self._schema}.outbox_pending")
            return n
