"""Office work in sim time: a step with `work_hours` becomes a task whose milestones (started, each
intermediate state, completed) fall due on the sim clock; a loop emits each at its planned sim
time and, at completion, finishes the step (its handler runs, the dossier is routed on) in one
transaction with the events it queues."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg
import structlog

from contracts import topics
from contracts.clock import SimClock
from contracts.envelope import parse_event
from contracts.event_types import STEP_STARTED, STEP_STATE
from runtime import outbox
from runtime.db import DB_LOST, DB_RETRY_S
from runtime.emitter import Emitter, bound
from runtime.outbox import OutboxRelay, Row, split
from runtime.refusals import Refusal, dead_letter
from runtime.schedule import COMPLETED, STARTED
from runtime.simulation import PRODUCTION, Evidence, Simulation
from runtime.stamping import Stamper
from runtime.work import WorkItem

log = structlog.get_logger()


class Finish(Protocol):
    """Run a work item's handler at the emitter's sim time and route the dossier on."""

    def __call__(self, conn: Any, item: WorkItem, emit: Emitter, *, with_start: bool) -> Awaitable[None]: ...


@dataclass
class TaskRunner:
    """The work loop of one agency process (the receive loop writes the tasks)."""

    agency: str
    pool: asyncpg.Pool
    relay: OutboxRelay
    clock: SimClock
    stamp: Stamper
    prefix: str
    batch_size: int
    finish: Finish
    sim: Simulation = PRODUCTION
    dead_lettered: int = 0

    @property
    def schema(self) -> str:
        return self.agency

    async def run(self) -> None:
        """Advance due tasks once per tick. Stamps come from the plan, not from when the tick
        ran, so a coarse tick costs latency only; it saves the database from busy polling."""
        tick = min(1.0, max(0.1, 3600.0 / self.clock.speed))
        while True:
            started = time.monotonic()
            try:
                while await self.advance_due(self.clock.now()) >= self.batch_size:
                    pass
            except DB_LOST as exc:
                log.warning("database connection lost; due tasks are taken again", error=str(exc))
                await asyncio.sleep(DB_RETRY_S)
            await asyncio.sleep(max(0.0, tick - (time.monotonic() - started)))

    async def advance_due(self, now: datetime) -> int:
        """Emit every milestone due by `now`; completing a task runs its handler. Returns the tasks taken."""
        async with self.pool.acquire() as conn:
            if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {self.schema}.tasks WHERE next_at <= $1)", now):
                return 0
            try:
                async with conn.transaction():
                    rows = await self._due(conn, now)
                    await self.advance_many(conn, rows, now)
            except DB_LOST:
                raise
            except Exception:
                log.warning("batch of tasks failed, advancing them one by one")
                async with conn.transaction():
                    rows = await self._due(conn, now)
                    refused: list[Refusal] = []
                    for row in rows:
                        try:
                            async with conn.transaction():
                                await self.advance_many(conn, [row], now)
                        except DB_LOST:
                            raise
                        except Exception as exc:
                            log.exception("step failed, dead-lettering", dossier_id=row["dossier_id"])
                            await conn.execute(f"DELETE FROM {self.schema}.tasks WHERE id = $1", row["id"])
                            reason = f"step failed: {type(exc).__name__}: {exc}"
                            topic = topics.work(self.agency, self.prefix)
                            key = row["dossier_id"].encode()
                            refused.append(Refusal(topic, None, None, key, row["message"], reason))
                    if refused:
                        await dead_letter(conn, self.schema, self.agency, self.prefix, refused)
                        self.dead_lettered += len(refused)
        if rows:
            self.relay.wake()
        return len(rows)

    async def _due(self, conn: Any, now: datetime) -> list[Any]:
        rows: list[Any] = await conn.fetch(
            f"SELECT id, dossier_id, message, deadline, plan, next_idx FROM {self.schema}.tasks WHERE next_at <= $1 "
            "ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            self.batch_size,
        )
        return rows

    async def advance_many(self, conn: Any, tasks: list[Any], now: datetime) -> None:
        """Emit the milestones of these tasks due by `now`; a task whose plan is done is deleted."""
        events: list[Row] = []
        hits: list[Evidence] = []
        done: list[int] = []
        moved: list[tuple[int, int, datetime]] = []
        for row in tasks:
            item = WorkItem.from_event(parse_event(row["message"]))
            plan = [(kind, datetime.fromisoformat(at)) for kind, at in json.loads(row["plan"])]
            idx = row["next_idx"]
            while idx < len(plan) and plan[idx][1] <= now:
                kind, at = plan[idx]
                emit = Emitter(item, self.agency, self.stamp(at), self.sim, self.prefix)
                if kind == STARTED:
                    emit(STEP_STARTED, {"deadline": row["deadline"].isoformat()})
                elif kind == COMPLETED:
                    with bound(item):
                        await self.finish(conn, item, emit, with_start=False)
                else:
                    emit(STEP_STATE, {"state": kind})
                events += emit.rows
                hits += emit.hits
                idx += 1
            if idx >= len(plan):
                done.append(row["id"])
            else:
                moved.append((row["id"], idx, plan[idx][1]))
        await outbox.add(conn, self.schema, *split(events))
        await self.sim.record(conn, hits)
        if done:
            await conn.execute(f"DELETE FROM {self.schema}.tasks WHERE id = ANY($1::bigint[])", done)
        if moved:
            await conn.executemany(f"UPDATE {self.schema}.tasks SET next_idx = $2, next_at = $3 WHERE id = $1", moved)
