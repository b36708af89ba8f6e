"""How long an office takes over a step, in sim time: pure, so it is tested without a clock.

A step with `work_hours` is taken up when the office next works on it (the after-15:00 rule),
or when an officer of its desk is free (runtime/staffing.py),
passes through its intermediate states, and completes after a triangular draw of office hours.
The intermediate states (awaiting signature, awaiting issuance) take the last tenths of the work,
one tenth each (the step's `state_share`), so a healthy office never leaves a dossier in one of
them for more than a working day; a postal item is in transit for most of its step. The
deadline is the step's SLA in working days, counted from receipt.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import Step

STARTED = "started"
COMPLETED = "completed"


@dataclass(frozen=True)
class Milestone:
    kind: str
    """STARTED, COMPLETED, or a DossierState value (a step.state event)."""
    at: datetime


Waits = Callable[[str, datetime, WorkingCalendar], datetime | None]
"""Given a state, when the dossier entered it and the office's calendar: when something outside the
office lets the dossier leave that state, or None if nothing keeps it there. The platform asks
(the simulation port answers); it never decides on its own that a dossier waits."""


@dataclass(frozen=True)
class WorkPlan:
    milestones: tuple[Milestone, ...]
    deadline: datetime
    held: tuple[str, datetime, datetime] | None = None
    """(state, entered at, released at) when a wait applied."""

    @property
    def done_at(self) -> datetime:
        return self.milestones[-1].at


def plan_work(  # noqa: PLR0913 (the step, its receipt and what may change its plan, keyword-only)
    step: Step,
    received_at: datetime,
    calendar: WorkingCalendar,
    rng: random.Random,
    *,
    needs_verification: bool = False,
    extra_hours: float = 0.0,
    waits: Waits | None = None,
    taken_up: datetime | None = None,
    hours: float | None = None,
) -> WorkPlan:
    """When the office starts, passes each state, and completes `step` received at `received_at`;
    `taken_up`: when an officer of its desk took it up (runtime/officers.py; None: the office
    takes it up itself, at once or on the next working morning); `hours`: the office time when
    the officer's service is the whole of it (None: the step's `work_hours` drawn)."""
    if step.work_hours is None:
        raise ValueError(f"step {step.name} has no work_hours: it runs at once")
    if hours is None:
        lo, mode, hi = step.work_hours
        hours = rng.triangular(lo, hi, mode)
    hours += extra_hours
    start = taken_up if taken_up is not None else calendar.begin_work(received_at)
    n = len(step.states)
    # Each milestone as (kind, office hours after the start); a wait restarts the count.
    shares = [(state, hours * (1 - step.state_share * (n - i))) for i, state in enumerate(step.states)]
    shares.append((COMPLETED, hours))
    milestones = [Milestone(STARTED, start)]
    base, offset = start, 0.0
    held = None
    for kind, at_hours in shares:
        at = calendar.add_working_hours(base, at_hours - offset)
        milestones.append(Milestone(kind, at))
        if waits is not None and held is None:
            release = waits(kind, at, calendar)
            if release is not None and release > at:
                held = (kind, at, release)
                base, offset = release, at_hours
    return WorkPlan(tuple(milestones), calendar.deadline(received_at, step.sla(needs_verification)), held)
