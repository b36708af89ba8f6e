"""The outbox relay: publishes what an agency's outbox holds pending, and wakes when a
transaction queued something."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, Protocol

import structlog

from contracts.clock import VN_TZ, SimClock
from runtime.outbox import OutboxStore

log = structlog.get_logger()


class Publisher(Protocol):
    async def publish_many(self, messages: list[tuple[str, bytes | None, bytes]]) -> None: ...


class OutboxRelay:
    """Publishes what is pending in one agency's outbox, oldest first; a batch leaves the queue
    only once the broker acknowledged it, in the transaction that claimed it."""

    def __init__(
        self, pool: Any, store: OutboxStore, publisher: Publisher, batch: int = 500, clock: SimClock | None = None
    ) -> None:
        self._clock = clock
        self._pool = pool
        self.store = store
        self._publisher = publisher
        self._batch = batch
        self._wake = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, idle_s: float = 0.25, coalesce_s: float = 0.03) -> None:
        while True:
            # Not `asyncio.wait_for`: on Python 3.11 it drops a cancellation that arrives in the turn
            # the wake fires, and the relay ran on after its agency was told to stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(idle_s):
                    await self._wake.wait()
            # Let the wakes of several batches land first: one publish for all of them.
            await asyncio.sleep(coalesce_s)
            self._wake.clear()
            try:
                while await self.publish_once() == self._batch:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker may be restarting: keep rows, retry later
                log.warning("outbox relay failed, will retry", owner=self.store.owner, error=str(exc))
                await asyncio.sleep(1.0)

    async def publish_once(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            now = self._clock.now() if self._clock else datetime.max.replace(tzinfo=VN_TZ)
            claimed = await self.store.claim(conn, now, self._batch)
            if not claimed:
                return 0
            await self._publisher.publish_many([(p.topic, p.key, p.value) for p in claimed])
            await self.store.mark_sent(conn, [p.seq for p in claimed])
        self.published += len(claimed)
        return len(claimed)

    async def backlog(self) -> int:
        async with self._pool.acquire() as conn:
            return await self.store.backlog(conn)
