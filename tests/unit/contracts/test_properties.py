"""Properties of the contract and the working-day calendar, over generated inputs (hypothesis):
any valid event survives the wire unchanged and any byte soup is refused with a reason, never a
crash; deadlines fall on working days at office close, count from the right day around 15:00,
never before the dossier came, and move with the SLA."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.calendar import CUTOFF, OFFICE_CLOSE, WorkingCalendar
from contracts.clock import VN_TZ
from contracts.envelope import new_event, parse_event
from contracts.errors import ContractError
from contracts.event_types import HANDOFF_SENT, STEP_REJECTED, STEP_STATE
from contracts.states import DossierState
from contracts.topics import AGENCIES

CAL = WorkingCalendar()
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
moments = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(VN_TZ)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
agencies = st.sampled_from(list(AGENCIES))


@st.composite
def events(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from([HANDOFF_SENT, STEP_STATE, STEP_REJECTED]))
    payload: dict[str, object]
    if kind == HANDOFF_SENT:
        payload = {
            "to": draw(agencies),
            "to_step": draw(text),
            "dossier": {"child": {"full_name": draw(text)}, "procedures": draw(st.lists(text, max_size=3))},
            "results": {draw(text): {"n": draw(st.integers(-(2**53), 2**53))}},
            "next": [],
        }
    elif kind == STEP_STATE:
        payload = {"state": draw(st.sampled_from([s.value for s in DossierState]))}
    else:
        payload = {"reason": draw(text)}
    return new_event(
        kind,
        draw(agencies),
        draw(moments),
        dossier_id=draw(text),
        chain=draw(st.sampled_from(["birth", "death", "lltp"])),
        step=draw(text),
        payload=payload,
        attempt=draw(st.integers(1, 50)),
    )


@given(events())
def test_any_valid_event_survives_the_wire_unchanged(event: object) -> None:
    assert parse_event(event.to_json()) == event  # type: ignore[attr-defined]


@given(st.binary(max_size=300))
def test_any_bytes_are_either_an_event_or_refused_with_a_reason(raw: bytes) -> None:
    problems = None
    try:
        parse_event(raw)
    except ContractError as exc:
        problems = exc.problems
    if problems is not None:  # anything else raised fails the test
        assert problems
        assert all(p.reason for p in problems)


@settings(max_examples=300)
@given(moments, st.integers(1, 15))
def test_a_deadline_is_office_close_of_a_working_day_never_before_arrival(received: datetime, days: int) -> None:
    due = CAL.deadline(received, days)
    assert due.timetz() == OFFICE_CLOSE.replace(tzinfo=VN_TZ)
    assert CAL.is_working_day(due.date())
    assert due > received
    start = CAL.counting_start(received)
    # The N-th working day counting the start day as the first: N working days in [start, due].
    assert CAL.working_days_between(start, due.date() + timedelta(days=1)) == days


@settings(max_examples=300)
@given(moments)
def test_after_three_pm_or_on_a_day_off_the_count_starts_the_next_working_day(received: datetime) -> None:
    start = CAL.counting_start(received)
    assert CAL.is_working_day(start)
    on_time = CAL.is_working_day(received.date()) and received.timetz() < CUTOFF.replace(tzinfo=VN_TZ)
    assert start == (received.date() if on_time else CAL.next_working_day(received.date()))
    # No working day is skipped in between.
    assert CAL.working_days_between(received.date() + timedelta(days=1), start) == 0


@settings(max_examples=200)
@given(moments, st.integers(1, 14))
def test_one_more_working_day_of_sla_moves_the_deadline_to_the_next_working_day(received: datetime, days: int) -> None:
    assert CAL.deadline(received, days + 1).date() == CAL.next_working_day(CAL.deadline(received, days).date())


@given(st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31)))
def test_the_week_bends_only_for_holidays_and_swapped_saturdays(day: date) -> None:
    if CAL.is_holiday(day):
        assert not CAL.is_working_day(day)
    if day.weekday() < 5 and not CAL.is_working_day(day):
        assert CAL.is_holiday(day)  # a weekday off is a holiday or a day swapped out, which is listed too
    if day.weekday() >= 5 and CAL.is_working_day(day):
        assert day.weekday() == 5  # only Saturdays are swapped in


@given(moments, st.floats(0, 200, allow_nan=False))
def test_working_hours_added_are_counted_back_the_same(start: datetime, hours: float) -> None:
    end = CAL.add_working_hours(start, hours)
    assert end >= start
    begin = CAL.add_working_hours(start, 0)
    assert abs(CAL.working_hours_between(begin, end) - hours) < 1e-6


def test_tet_2024_and_its_swapped_days_hold() -> None:
    """Known fixed points the properties above range over: Tết 2024 (8–14 February) is off, and
    the first working day after it counts a dossier received on the eve after 15:00."""
    assert not any(CAL.is_working_day(date(2024, 2, d)) for d in range(8, 15))
    eve = datetime.combine(date(2024, 2, 7), time(16, 0), VN_TZ)
    assert CAL.counting_start(eve) == date(2024, 2, 15)
