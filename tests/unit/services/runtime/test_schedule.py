"""Simulated office work: milestones in order, inside office hours, and inside the SLA."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.calendar import WorkingCalendar
from contracts.chains import Step, load_chains
from contracts.clock import VN_TZ
from runtime.schedule import COMPLETED, STARTED, plan_work
from simulation.faults.inject import Hold

cal = WorkingCalendar()
STEPS = [s for c in load_chains().values() for s in c.steps if s.work_hours]


class Longest(random.Random):
    """An office that always takes the longest the data allows."""

    def triangular(self, low: float = 0.0, high: float = 1.0, mode: float | None = None) -> float:
        return high


@settings(max_examples=300, deadline=None)
@given(
    step=st.sampled_from(STEPS),
    minutes=st.integers(min_value=0, max_value=366 * 24 * 60),
    verification=st.booleans(),
)
def test_a_well_run_office_finishes_every_step_within_its_sla(step: Step, minutes: int, verification: bool) -> None:
    received = datetime(2024, 1, 1, tzinfo=VN_TZ) + timedelta(minutes=minutes)
    plan = plan_work(step, received, cal, Longest(), needs_verification=verification)
    kinds = [m.kind for m in plan.milestones]
    assert kinds == [STARTED, *step.states, COMPLETED]
    times = [m.at for m in plan.milestones]
    assert times == sorted(times)
    assert times[0] >= received
    for t in times:
        assert cal.in_office_hours(t) or t.timetz().replace(tzinfo=None) == datetime(1, 1, 1, 17).time()
    assert plan.done_at <= plan.deadline


def test_a_step_without_office_work_cannot_be_planned() -> None:
    with pytest.raises(ValueError, match="runs at once"):
        plan_work(Step("result", "portal", "", 1), datetime(2024, 3, 4, 9, tzinfo=VN_TZ), cal, random.Random(1))


def test_lltp_passes_through_signature_and_issuance() -> None:
    step = load_chains()["lltp"].step("issue_certificate")
    plan = plan_work(step, datetime(2024, 3, 4, 9, tzinfo=VN_TZ), cal, random.Random(2), needs_verification=True)
    assert [m.kind for m in plan.milestones] == [STARTED, "awaiting_signature", "awaiting_issuance", COMPLETED]
    assert plan.deadline == datetime(2024, 3, 22, 17, tzinfo=VN_TZ)  # 15 working days from Monday 4 March


def test_a_window_hold_keeps_the_dossier_in_its_state_until_the_window_ends() -> None:
    chains = load_chains()
    step = chains["birth"].step("register_birth")
    received = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    normal = plan_work(step, received, cal, random.Random(3))
    entered = next(m.at for m in normal.milestones if m.kind == "awaiting_signature")
    until = entered + timedelta(days=3)
    held = plan_work(step, received, cal, random.Random(3), waits=Hold("awaiting_signature", entered, until))
    assert held.held == ("awaiting_signature", entered, until)
    assert held.done_at > until
    missed = plan_work(step, received, cal, random.Random(3), waits=Hold("awaiting_signature", until, until))
    assert missed.held is None
    assert missed.done_at == normal.done_at


def test_an_extra_hold_adds_office_time_in_the_state() -> None:
    step = load_chains()["lltp"].step("issue_certificate")
    received = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    normal = plan_work(step, received, cal, random.Random(5))
    held = plan_work(step, received, cal, random.Random(5), waits=Hold("awaiting_issuance", extra_hours=30))
    assert held.held is not None
    state, entered, released = held.held
    assert state == "awaiting_issuance"
    assert released == cal.add_working_hours(entered, 30)
    assert held.done_at > normal.done_at


def test_the_platform_asks_state_by_state_until_one_wait_applies() -> None:
    step = load_chains()["lltp"].step("issue_certificate")
    received = datetime(2024, 3, 4, 9, tzinfo=VN_TZ)
    asked: list[str] = []

    def waits(state: str, entered: datetime, calendar: WorkingCalendar) -> datetime | None:
        asked.append(state)
        return calendar.add_working_hours(entered, 8) if state == "awaiting_issuance" else None

    plan = plan_work(step, received, cal, random.Random(3), waits=waits)
    assert asked == ["awaiting_signature", "awaiting_issuance"]
    assert plan.held is not None
    assert plan.held[0] == "awaiting_issuance"
    assert plan.done_at > plan_work(step, received, cal, random.Random(3)).done_at


def test_a_postal_item_is_in_transit_for_most_of_its_step() -> None:
    postal = load_chains()["lltp"].step("return_by_post")
    plan = plan_work(postal, datetime(2024, 3, 4, 9, tzinfo=VN_TZ), cal, Longest())
    started, in_transit, done = (m.at for m in plan.milestones)
    assert [m.kind for m in plan.milestones] == [STARTED, "in_transit", COMPLETED]
    # The longest draw, 20 office hours: handed over in the first fifth, in transit for the rest.
    assert cal.working_hours_between(started, in_transit) == pytest.approx(4.0)
    assert cal.working_hours_between(in_transit, done) == pytest.approx(16.0)
