"""Office work in sim time: a step with `work_hours` becomes a task whose milestones (started, each
intermediate state, completed) fall due on the sim clock; a loop emits each at its planned sim
time and, at completion, finishes the step (its handler runs, the dossier is routed on) in one
transaction with the events it queues."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import asyncpg
import structlog

from contracts import topics
from contracts.clock import SimClock
from contracts.envelope import parse_event
from contracts.event_types import STEP_STARTED, STEP_STATE
from runtime import outbox
from runtime.conn import Conn
from runtime.db import DB_LOST, DB_RETRY_S
from runtime.deadletters import DeadLetterStore, Refusal
from runtime.emitter import Emitter, bound
from runtime.outbox import OutboxRow, split
from runtime.refusals import dead_letter
from runtime.relay import OutboxRelay
from runtime.schedule import COMPLETED, STARTED
from runtime.simulation import PRODUCTION, Evidence, Simulation
from runtime.stamping import Stamper
from runtime.taskstore import Milestone, Task, TaskStore
from runtime.work import Deferred, WorkItem

log = structlog.get_logger()

POLL_S = 0.02
"""Real seconds between two looks at the clock for the earliest task due (a look reads memory)."""


class Finish(Protocol):
    """Run a work item's handler at the emitter's sim time and route the dossier on; a handler
    that must wait says until when (`Deferred`)."""

    def __call__(
        self, conn: Conn, item: WorkItem, emit: Emitter, *, with_start: bool
    ) -> Awaitable[Deferred | None]: ...


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
    store: TaskStore
    kept: DeadLetterStore
    sim: Simulation = PRODUCTION
    dead_lettered: int = 0
    advanced: int = 0
    """Batches of due tasks handled since the process started (runtime/progress.py)."""
    behind: int = 0
    """Tasks taken in the current pass while batches come back full: more are due than one batch
    (0 once a pass ends)."""
    _next_at: datetime | None = field(default=None, repr=False)
    """The earliest task known to fall due (None: look at the next tick)."""
    _hint: datetime | None = field(default=None, repr=False)
    """The earliest task added since the last pass asked the store."""

    @property
    def schema(self) -> str:
        return self.agency

    async def run(self) -> None:
        """Advance due tasks as soon as the clock reaches the earliest one (known from the store
        after each pass, and from the tasks this process adds: `expect`), looking at the clock every
        POLL_S, and at least once per tick. Stamps come from the plan, not from when the pass ran,
        so a late pass costs latency only; but a governed run waits for every due task before sim
        time moves on, and a fixed tick of a quarter second made each window wait for it."""
        tick = min(1.0, max(0.1, 3600.0 / self.clock.speed))
        last_pass = -math.inf
        while True:
            started = time.monotonic()
            next_at = self._next_at
            if started - last_pass >= tick or (next_at is not None and self.clock.now() >= next_at):
                last_pass = started
                try:
                    await self._pass()
                except DB_LOST as exc:
                    log.warning("database connection lost; due tasks are taken again", error=str(exc))
                    self._next_at = None
                    await asyncio.sleep(DB_RETRY_S)
                    continue
            await asyncio.sleep(POLL_S)

    async def _pass(self) -> None:
        """Every task due now, then the earliest one still to come."""
        total = 0
        while (taken := await self.advance_due(self.clock.now())) >= self.batch_size:
            self.behind += taken
            total += taken
        total += taken
        self.behind = 0
        self._hint = None
        async with self.pool.acquire() as conn:
            stored = await self.store.next_due(conn)
        known = [t for t in (stored, self._hint) if t is not None]
        self._next_at = min(known) if known else None
        if total == 0 and self._next_at is not None and self._next_at <= self.clock.now():
            # Due but not taken (another pass holds them): no busy loop, the tick comes back.
            self._next_at = self._hint

    def expect(self, at: datetime) -> None:
        """A task this process added falls due at `at`."""
        self._hint = at if self._hint is None else min(self._hint, at)
        self._next_at = at if self._next_at is None else min(self._next_at, at)

    async def advance_due(self, now: datetime) -> int:
        """Emit every milestone due by `now`; completing a task runs its handler. Returns the tasks taken."""
        async with self.pool.acquire() as conn:
            if not await self.store.any_due(conn, now):
                return 0
            try:
                async with conn.transaction():
                    tasks = await self.store.due(conn, now, self.batch_size)
                    await self.advance_many(conn, tasks, now)
            except DB_LOST:
                raise
            except Exception:
                log.warning("batch of tasks failed, advancing them one by one")
                async with conn.transaction():
                    tasks = await self.store.due(conn, now, self.batch_size)
                    refused: list[Refusal] = []
                    for task in tasks:
                        try:
                            async with conn.transaction():
                                await self.advance_many(conn, [task], now)
                        except DB_LOST:
                            raise
                        except Exception as exc:
                            log.exception("step failed, dead-lettering", dossier_id=task.dossier_id)
                            await self.store.drop(conn, task.id)
                            reason = f"step failed: {type(exc).__name__}: {exc}"
                            topic = topics.work(self.agency, self.prefix)
                            key = task.dossier_id.encode()
                            refused.append(Refusal(topic, None, None, key, task.message, reason, task))
                    if refused:
                        await dead_letter(conn, self.relay.store, self.kept, self.agency, self.prefix, refused)
                        self.dead_lettered += len(refused)
        if tasks:
            self.advanced += 1
            self.relay.wake()
        return len(tasks)

    async def advance_many(self, conn: Conn, tasks: list[Task], now: datetime) -> None:
        """Emit the milestones of these tasks due by `now`; a task whose plan is done is removed."""
        events: list[OutboxRow] = []
        hits: list[Evidence] = []
        done: list[int] = []
        moved: list[tuple[int, int]] = []
        replanned: list[tuple[int, tuple[Milestone, ...]]] = []
        for task in tasks:
            item = WorkItem.from_event(parse_event(task.message))
            due, idx = milestones_due(task, now)
            waits = False
            for kind, at in due:
                emit = Emitter(item, self.agency, self.stamp(at), self.sim, self.prefix)
                if kind == STARTED:
                    emit(STEP_STARTED, {"deadline": task.deadline.isoformat()})
                elif kind == COMPLETED:
                    with bound(item):
                        wait = await self.finish(conn, item, emit, with_start=False)
                    if wait is not None:
                        waits = True
                        # The step finishes later: its completion moves, the milestones before stay.
                        replanned.append((task.id, (*task.plan[: idx - 1], (COMPLETED, wait.until))))
                        hits += self.sim.deferred(self.agency, item.to_step, item.event, emit.now, wait, task.deadline)
                        self.expect(wait.until)
                else:
                    emit(STEP_STATE, {"state": kind})
                events += emit.rows
                hits += emit.hits
            if waits:
                continue
            if idx >= len(task.plan):
                done.append(task.id)
            else:
                moved.append((task.id, idx))
        await outbox.add(self.relay.store, conn, *split(events))
        await self.sim.record(conn, hits)
        await self.store.advance(conn, moved, done)
        await self.store.replan(conn, replanned)


def milestones_due(task: Task, now: datetime) -> tuple[list[Milestone], int]:
    """The task's milestones due by `now` from its next one, in plan order, and the index of the
    first not due (len(plan) when the work is done)."""
    idx = task.next_idx
    due: list[Milestone] = []
    while idx < len(task.plan) and task.plan[idx][1] <= now:
        due.append(task.plan[idx])
        idx += 1
    return due, idx
