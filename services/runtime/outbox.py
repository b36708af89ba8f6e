"""Transactional outbox: rows written with the business change, published by a relay.

A row stays until the broker acknowledged it (acks="all"); a crash before that leaves it unsent
and the relay of the restarted process sends it again. Sent rows are kept: redrive clears
`sent_at` to publish them once more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any, Protocol

import asyncpg
import structlog

from contracts.envelope import Event

log = structlog.get_logger()


class Publisher(Protocol):
    async def publish_many(self, messages: list[tuple[str, bytes | None, bytes]]) -> None: ...


async def add(conn: Any, schema: str, rows: Iterable[tuple[str, Event]]) -> None:
    """Queue events for publication inside the caller's transaction."""
    records = [(e.event_id, e.dossier_id, topic, e.key, e.to_json()) for topic, e in rows]
    if records:
        await conn.executemany(
            f"INSERT INTO {schema}.outbox (event_id, dossier_id, topic, key, value) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, topic) DO NOTHING",
            records,
        )


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, schema: str, publisher: Publisher, batch: int = 500) -> None:
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
                f"SELECT id, topic, key, value FROM {self._schema}.outbox WHERE sent_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch,
            )
            if not rows:
                return 0
            await self._publisher.publish_many([(r["topic"], r["key"], r["value"]) for r in rows])
            await conn.execute(
                f"UPDATE {self._schema}.outbox SET sent_at = now(), publish_count = publish_count + 1 "
                "WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
        self.published += len(rows)
        return len(rows)

    async def backlog(self) -> int:
        async with self._pool.acquire() as conn:
            n: int = await conn.fetchval(f"SELECT count(*) FROM {self._schema}.outbox WHERE sent_at IS NULL")
            return n
