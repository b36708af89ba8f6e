"""Where an agency keeps its planned office work (runtime/tasks.py): the port, its PostgreSQL
adapter and an in-memory one for unit tests.

One contract, tested once against both (`tests/integration/test_stores.py`): a task added once stays
one task (a redelivered handoff adds nothing), `due` returns the tasks whose next milestone has
come, oldest first, at most `limit`; `advance` moves a task to its next milestone or removes a
finished one; `drop` removes a failed one. Every method runs in the caller's transaction (`conn`),
which the memory store ignores."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from runtime.conn import Conn

Milestone = tuple[str, datetime]
"""A planned milestone: its kind (started, a state, completed) and its sim time."""


@dataclass(frozen=True)
class Task:
    event_id: str
    """The handoff that started the work: one task per handoff."""
    dossier_id: str
    message: bytes
    """The handoff as received, for the handler at completion."""
    received_at: datetime
    deadline: datetime
    plan: tuple[Milestone, ...]
    next_idx: int = 0
    id: int = 0
    """Given by the store."""

    @property
    def next_at(self) -> datetime:
        return self.plan[self.next_idx][1]


class TaskStore(Protocol):
    async def add(self, conn: Conn, tasks: list[Task]) -> None: ...

    async def any_due(self, conn: Conn, now: datetime) -> bool: ...

    async def next_due(self, conn: Conn) -> datetime | None:
        """The sim time of the earliest milestone still to come, if any."""
        ...

    async def due(self, conn: Conn, now: datetime, limit: int) -> list[Task]: ...

    async def advance(self, conn: Conn, moved: list[tuple[int, int]], done: list[int]) -> None:
        """`moved`: (task id, index of its next milestone); `done`: finished task ids."""
        ...

    async def replan(self, conn: Conn, replanned: list[tuple[int, tuple[Milestone, ...]]]) -> None:
        """(task id, its new plan): the task's next milestone becomes the plan's last (a step that
        waits for another system finishes later)."""
        ...

    async def unstarted(self, conn: Conn, event_ids: list[str]) -> list[Task]:
        """Of these handoffs' tasks, those not started yet (no milestone emitted), held for this
        transaction; one the work loop holds now is left out (it may be starting)."""
        ...

    async def reschedule(self, conn: Conn, plans: list[tuple[int, tuple[Milestone, ...]]]) -> None:
        """(task id, its new plan) for tasks not started yet: the whole plan is to come."""
        ...

    async def drop(self, conn: Conn, task_id: int) -> None: ...


@dataclass
class PgTaskStore:
    schema: str

    async def add(self, conn: Conn, tasks: list[Task]) -> None:
        if tasks:
            await conn.executemany(
                f"INSERT INTO {self.schema}.tasks (event_id, dossier_id, message, received_at, deadline, plan, "
                "next_idx, next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
                [
                    (
                        uuid.UUID(t.event_id),
                        t.dossier_id,
                        t.message,
                        t.received_at,
                        t.deadline,
                        _plan_json(t.plan),
                        t.next_idx,
                        t.next_at,
                    )
                    for t in tasks
                ],
            )

    async def any_due(self, conn: Conn, now: datetime) -> bool:
        found: bool = await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {self.schema}.tasks WHERE next_at <= $1)", now)
        return found

    async def next_due(self, conn: Conn) -> datetime | None:
        at: datetime | None = await conn.fetchval(f"SELECT min(next_at) FROM {self.schema}.tasks")
        return at

    async def due(self, conn: Conn, now: datetime, limit: int) -> list[Task]:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM {self.schema}.tasks "
            "WHERE next_at <= $1 ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [_task(r) for r in rows]

    async def unstarted(self, conn: Conn, event_ids: list[str]) -> list[Task]:
        if not event_ids:
            return []
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM {self.schema}.tasks WHERE event_id = ANY($1::uuid[]) AND next_idx = 0 "
            "ORDER BY id FOR UPDATE SKIP LOCKED",
            [uuid.UUID(e) for e in event_ids],
        )
        return [_task(r) for r in rows]

    async def reschedule(self, conn: Conn, plans: list[tuple[int, tuple[Milestone, ...]]]) -> None:
        if plans:
            await conn.executemany(
                f"UPDATE {self.schema}.tasks SET plan = $2, next_idx = 0, next_at = $3 WHERE id = $1",
                [(task_id, _plan_json(plan), plan[0][1]) for task_id, plan in plans],
            )

    async def advance(self, conn: Conn, moved: list[tuple[int, int]], done: list[int]) -> None:
        if done:
            await conn.execute(f"DELETE FROM {self.schema}.tasks WHERE id = ANY($1::bigint[])", done)
        if moved:
            await conn.executemany(
                f"UPDATE {self.schema}.tasks SET next_idx = $2, "
                "next_at = (plan -> $2::int ->> 1)::timestamptz WHERE id = $1",
                moved,
            )

    async def replan(self, conn: Conn, replanned: list[tuple[int, tuple[Milestone, ...]]]) -> None:
        if replanned:
            await conn.executemany(
                f"UPDATE {self.schema}.tasks SET plan = $2, next_idx = $3, next_at = $4 WHERE id = $1",
                [(task_id, _plan_json(plan), len(plan) - 1, plan[-1][1]) for task_id, plan in replanned],
            )

    async def drop(self, conn: Conn, task_id: int) -> None:
        await conn.execute(f"DELETE FROM {self.schema}.tasks WHERE id = $1", task_id)


COLUMNS = "id, event_id, dossier_id, message, received_at, deadline, plan, next_idx"


def _task(r: Any) -> Task:
    return Task(
        event_id=str(r["event_id"]),
        dossier_id=r["dossier_id"],
        message=bytes(r["message"]),
        received_at=r["received_at"],
        deadline=r["deadline"],
        plan=tuple((k, datetime.fromisoformat(at)) for k, at in json.loads(r["plan"])),
        next_idx=r["next_idx"],
        id=r["id"],
    )


def _plan_json(plan: tuple[Milestone, ...]) -> str:
    return json.dumps([[k, at.isoformat()] for k, at in plan])


@dataclass
class MemoryTaskStore:
    """The same contract in a dict, for unit tests of the work loop."""

    tasks: dict[int, Task] = field(default_factory=dict)
    _next_id: int = 1

    async def add(self, conn: Conn, tasks: list[Task]) -> None:
        held = {t.event_id for t in self.tasks.values()}
        for t in tasks:
            if t.event_id not in held:
                self.tasks[self._next_id] = replace(t, id=self._next_id)
                held.add(t.event_id)
                self._next_id += 1

    async def any_due(self, conn: Conn, now: datetime) -> bool:
        return any(t.next_at <= now for t in self.tasks.values())

    async def next_due(self, conn: Conn) -> datetime | None:
        return min((t.next_at for t in self.tasks.values()), default=None)

    async def due(self, conn: Conn, now: datetime, limit: int) -> list[Task]:
        found = sorted((t for t in self.tasks.values() if t.next_at <= now), key=lambda t: (t.next_at, t.id))
        return found[:limit]

    async def advance(self, conn: Conn, moved: list[tuple[int, int]], done: list[int]) -> None:
        for task_id in done:
            self.tasks.pop(task_id, None)
        for task_id, idx in moved:
            self.tasks[task_id] = replace(self.tasks[task_id], next_idx=idx)

    async def replan(self, conn: Conn, replanned: list[tuple[int, tuple[Milestone, ...]]]) -> None:
        for task_id, plan in replanned:
            self.tasks[task_id] = replace(self.tasks[task_id], plan=plan, next_idx=len(plan) - 1)

    async def unstarted(self, conn: Conn, event_ids: list[str]) -> list[Task]:
        wanted = set(event_ids)
        return [t for _, t in sorted(self.tasks.items()) if t.event_id in wanted and t.next_idx == 0]

    async def reschedule(self, conn: Conn, plans: list[tuple[int, tuple[Milestone, ...]]]) -> None:
        for task_id, plan in plans:
            self.tasks[task_id] = replace(self.tasks[task_id], plan=plan, next_idx=0)

    async def drop(self, conn: Conn, task_id: int) -> None:
        self.tasks.pop(task_id, None)
