"""What a step does with the population database's answer: go on, refuse the dossier, or wait.

An officer whose identity check gets no answer tries again a little later, inside office hours;
one who does not find a newborn the civil-status office registered tries again the next working
day (the record has not reached the database yet). A slow answer holds the step until it comes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.calendar import WorkingCalendar
from contracts.identity import IdentityProblem
from runtime.population import Answer, Asked, Known, Person, Unknown, Unreachable
from runtime.work import Deferred, Rejected, StepContext, WorkItem

DANCU = "dancu"
RETRY_HOURS = 1 / 3
"""Office hours between two tries of an unanswered check (20 minutes, as officials retry a
failed transfer)."""
NEXT_DAY_HOURS = 9.5
"""Office hours to the same time the next working day (07:30–17:00)."""
CALENDAR = WorkingCalendar()


def asked(ctx: StepContext, item: WorkItem) -> Asked:
    return Asked(ctx.agency, item.dossier_id, item.to_step, ctx.now)


def settle(answer: Answer, now: datetime, *, registered_here: bool = False) -> Rejected | Deferred | None:
    """None when the step may go on at `now`; a refusal naming whom the database does not know;
    or a deferral. With `registered_here`, the person is a newborn this chain registered: not
    found means not synchronised yet, so the step waits for the next working day."""
    if isinstance(answer, Unreachable):
        until = CALENDAR.add_working_hours(now, RETRY_HOURS)
        return Deferred(until, answer.reason, "unreachable", DANCU)
    if isinstance(answer, Unknown):
        if registered_here and answer.code == IdentityProblem.MISMATCH:
            until = CALENDAR.add_working_hours(now, NEXT_DAY_HOURS)
            return Deferred(until, f"{answer.role} not found in the population database yet", "not_synced", DANCU)
        return Rejected(
            f"{answer.role}'s identity does not match the population database: {answer.reason}", answer.code
        )
    if answer.answered_at - now > timedelta(0):
        return Deferred(answer.answered_at, "the population database answered late", "slow", DANCU)
    assert isinstance(answer, Known)
    return None


async def verify(
    ctx: StepContext, item: WorkItem, people: list[Person], *, registered_here: bool = False
) -> Rejected | Deferred | None:
    """Ask the database about `people` at the step's sim time, and settle its answer."""
    answer = await ctx.population.verify(people, asked(ctx, item))
    return settle(answer, ctx.now, registered_here=registered_here)
