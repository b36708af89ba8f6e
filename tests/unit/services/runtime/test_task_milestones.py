"""Which planned milestones of a task a pass emits (pure, no store), and when the work loop passes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from contracts.clock import VN_TZ, SimClock
from runtime.tasks import TaskRunner, milestones_due
from runtime.taskstore import MemoryTaskStore, Task

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)
PLAN = (("started", T0), ("thu_ly", T0 + timedelta(hours=2)), ("completed", T0 + timedelta(hours=5)))


def _task(next_idx: int) -> Task:
    return Task("e", "D", b"{}", T0, T0 + timedelta(days=1), PLAN, next_idx=next_idx, id=1)


def test_a_tick_emits_every_milestone_due_in_plan_order_from_the_next_one() -> None:
    assert milestones_due(_task(0), T0 + timedelta(hours=3)) == (list(PLAN[:2]), 2)
    assert milestones_due(_task(2), T0 + timedelta(hours=3)) == ([], 2)
    assert milestones_due(_task(1), T0 + timedelta(hours=5)) == (list(PLAN[1:]), 3)  # done: len(plan)


class _Pool:
    """Connections are not used by the memory store."""

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[None]:
        yield None

    def acquire(self) -> Any:
        return self._conn()


class _Runner(TaskRunner):
    """Takes what the store has due, as the real pass does, without the handlers."""

    takes: bool = True

    async def advance_due(self, now: datetime) -> int:
        store = self.store
        assert isinstance(store, MemoryTaskStore)
        due = [i for i, t in store.tasks.items() if t.next_at <= now] if self.takes else []
        for i in due:
            del store.tasks[i]
        return len(due)


def _runner(store: MemoryTaskStore, now: datetime) -> _Runner:
    clock = SimClock(epoch=now, anchor=time.time(), speed=1e-9)  # stands at `now`
    fake: Any = None
    return _Runner("hotich", _Pool(), fake, clock, fake, "t", 100, fake, store, fake)  # type: ignore[arg-type]


def test_the_loop_knows_when_the_next_task_falls_due_instead_of_waiting_out_its_tick() -> None:
    """A governed run waits for every due task before sim time moves on; a fixed tick of a quarter
    second made every window wait for it. After each pass the loop knows the earliest task still
    to come, and a task this process adds lowers it at once."""
    store = MemoryTaskStore()
    runner = _runner(store, T0)

    async def scenario() -> None:
        await store.add(None, [_task_at("a", T0 - timedelta(hours=1)), _task_at("b", T0 + timedelta(hours=2))])
        await runner._pass()
        assert [t.event_id for t in store.tasks.values()] == ["b"]  # the due one was taken
        assert runner._next_at == T0 + timedelta(hours=2)
        runner.expect(T0 + timedelta(minutes=30))
        assert runner._next_at == T0 + timedelta(minutes=30)
        runner.expect(T0 + timedelta(hours=5))
        assert runner._next_at == T0 + timedelta(minutes=30)

    asyncio.run(scenario())


def test_a_due_task_the_pass_cannot_take_leaves_the_loop_to_its_tick_not_a_busy_loop() -> None:
    store = MemoryTaskStore()
    runner = _runner(store, T0)
    runner.takes = False  # another pass holds it

    async def scenario() -> None:
        await store.add(None, [_task_at("a", T0 - timedelta(hours=1))])
        await runner._pass()
        assert runner._next_at is None

    asyncio.run(scenario())


def _task_at(event_id: str, at: datetime) -> Task:
    return Task(event_id, "D-" + event_id, b"{}", at, at + timedelta(days=1), (("started", at),))
