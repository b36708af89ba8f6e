"""Planning the office work of the steps an agency received (runtime/schedule.py), with the
officers of their desks when the staffing has any (runtime/officers.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import Step
from contracts.envelope import parse_event
from runtime.conn import Conn
from runtime.officers import Entry, OfficerStore, Pending, assign
from runtime.schedule import plan_work
from runtime.simulation import Evidence, Simulation
from runtime.staffing import Staffing, Taken
from runtime.taskstore import Task, TaskStore
from runtime.work import StepContext, WorkItem

Received = tuple[bytes, WorkItem, Step, datetime]
"""A handoff as read, decoded, the step it starts and when it was received."""


@dataclass
class Planner:
    agency: str
    ctx: StepContext
    calendar: WorkingCalendar
    sim: Simulation
    staffing: Staffing
    """The desks whose officers take up this agency's steps (runtime/staffing.py)."""
    officers: OfficerStore
    tasks: TaskStore
    """Where the planned work is kept: a dossier a late-read one goes ahead of is planned again."""

    async def plan(self, conn: Conn, work: list[Received]) -> tuple[list[Task], list[Evidence]]:
        """The office work of the steps received: taken up by an officer of the step's desk when
        the staffing has one (in the order received), else by the office at once; then planned.
        Dossiers a late-read one went ahead of at its desk are planned again here."""
        pending = []
        for _, item, step, received in work:
            wait = self._pending(item, step, received)
            if wait is not None:
                pending.append(wait)
        again: dict[str, tuple[Task, WorkItem, Step]] = {}

        async def requeue(lines: list[Entry]) -> list[Pending]:
            out = []
            for task in await self.tasks.unstarted(conn, [e.event_id for e in lines]):
                item = WorkItem.from_event(parse_event(task.message))
                step = self._step(item)
                wait = self._pending(item, step, task.received_at) if step is not None else None
                if step is not None and wait is not None:
                    again[task.event_id] = (task, item, step)
                    out.append(wait)
            return out

        taken = await assign(self.officers, conn, pending, self.calendar, requeue, self.ctx.clock.now())
        tasks: list[Task] = []
        hits: list[Evidence] = []
        for raw, item, step, received in work:
            task, evidence = self._planned(raw, item, step, received, taken.get(item.event.event_id), fresh=True)
            tasks.append(task)
            hits += evidence
        moved = []
        for task, item, step in again.values():
            planned, evidence = self._planned(
                task.message, item, step, task.received_at, taken[task.event_id], fresh=False
            )
            moved.append((task.id, planned.plan))
            hits += evidence
        await self.tasks.reschedule(conn, moved)
        return tasks, hits

    def _pending(self, item: WorkItem, step: Step, received: datetime) -> Pending | None:
        desk = self.staffing.desk(item.event.chain or "", step.name)
        if desk is None:
            return None
        rng = self.ctx.rng_for(item.dossier_id, item.to_step, "service")
        unit = desk.unit_of(step.area(item.dossier))
        return Pending(item.event.event_id, item.dossier_id, desk, unit, received, rng)

    def _step(self, item: WorkItem) -> Step | None:
        chain = self.ctx.chains.get(item.event.chain or "")
        try:
            return chain.step(item.to_step) if chain is not None else None
        except KeyError:
            return None

    def _planned(
        self, raw: bytes, item: WorkItem, step: Step, received: datetime, by: Taken | None, *, fresh: bool
    ) -> tuple[Task, list[Evidence]]:
        """The step's plan as a task, and its evidence. Planned again (`fresh` false), a fault's
        change is the same, and its evidence was recorded the first time; the queue's is new."""
        change = self.sim.step(self.agency, step, item.event, received)
        desk = self.staffing.desk(item.event.chain or "", step.name)
        plan = plan_work(
            step,
            received,
            self.calendar,
            self.ctx.rng_for(item.dossier_id, item.to_step, "plan"),
            needs_verification=bool(item.dossier.get("needs_verification")),
            extra_hours=change.extra_hours if change else 0.0,
            waits=change.waits if change else None,
            taken_up=by.at if by else None,
            hours=by.service_hours if by is not None and desk is not None and desk.service_is_the_work else None,
        )
        hits: list[Evidence] = []
        if change and fresh:
            hits += change.evidence(plan)
        if by is not None:
            hits += self.sim.queued(self.agency, step, item.event, received, plan)
        task = Task(
            event_id=item.event.event_id,
            dossier_id=item.dossier_id,
            message=raw,
            received_at=received,
            deadline=plan.deadline,
            plan=tuple((m.kind, m.at) for m in plan.milestones),
        )
        return task, hits
