"""Which planned milestones of a task a tick emits: pure, no store."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from runtime.tasks import milestones_due
from runtime.taskstore import Task

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)
PLAN = (("started", T0), ("thu_ly", T0 + timedelta(hours=2)), ("completed", T0 + timedelta(hours=5)))


def _task(next_idx: int) -> Task:
    return Task("e", "D", b"{}", T0, T0 + timedelta(days=1), PLAN, next_idx=next_idx, id=1)


def test_a_tick_emits_every_milestone_due_in_plan_order_from_the_next_one() -> None:
    assert milestones_due(_task(0), T0 + timedelta(hours=3)) == (list(PLAN[:2]), 2)
    assert milestones_due(_task(2), T0 + timedelta(hours=3)) == ([], 2)
    assert milestones_due(_task(1), T0 + timedelta(hours=5)) == (list(PLAN[1:]), 3)  # done: len(plan)
