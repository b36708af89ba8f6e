"""Planning the office work of the steps an agency received (runtime/schedule.py), with the
officers of their desks when the staffing has any (runtime/officers.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import Step
from runtime.conn import Conn
from runtime.officers import OfficerStore, Pending, assign
from runtime.schedule import plan_work
from runtime.simulation import Evidence, Simulation
from runtime.staffing import Staffing
from runtime.taskstore import Task
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

    async def plan(self, conn: Conn, work: list[Received]) -> tuple[list[Task], list[Evidence]]:
        """The office work of the steps received: taken up by an officer of the step's desk when
        the staffing has one (in the order received), else by the office at once; then planned."""
        pending = []
        whole: set[str] = set()  # handoffs whose desk's service is the step's whole office time
        for _, item, step, received in work:
            desk = self.staffing.desk(item.event.chain or "", step.name)
            if desk is not None:
                rng = self.ctx.rng_for(item.dossier_id, item.to_step, "service")
                unit = desk.unit_of(step.area(item.dossier))
                pending.append(Pending(item.event.event_id, item.dossier_id, desk, unit, received, rng))
                if desk.service_is_the_work:
                    whole.add(item.event.event_id)
        taken = await assign(self.officers, conn, pending, self.calendar)
        tasks: list[Task] = []
        hits: list[Evidence] = []
        for raw, item, step, received in work:
            change = self.sim.step(self.agency, step, item.event, received)
            by = taken.get(item.event.event_id)
            plan = plan_work(
                step,
                received,
                self.calendar,
                self.ctx.rng_for(item.dossier_id, item.to_step, "plan"),
                needs_verification=bool(item.dossier.get("needs_verification")),
                extra_hours=change.extra_hours if change else 0.0,
                waits=change.waits if change else None,
                taken_up=by.at if by else None,
                hours=by.service_hours if by is not None and item.event.event_id in whole else None,
            )
            if change:
                hits += change.evidence(plan)
            if by is not None:
                hits += self.sim.queued(self.agency, step, item.event, received, plan)
            tasks.append(
                Task(
                    event_id=item.event.event_id,
                    dossier_id=item.dossier_id,
                    message=raw,
                    received_at=received,
                    deadline=plan.deadline,
                    plan=tuple((m.kind, m.at) for m in plan.milestones),
                )
            )
        return tasks, hits
