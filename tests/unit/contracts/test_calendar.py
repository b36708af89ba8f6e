"""Working days: weekends, Tết, swapped days, the after-15:00 rule, deadlines."""

from __future__ import annotations

from datetime import date, datetime

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ, SimClock

cal = WorkingCalendar()


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


def test_tet_2025_and_weekends_are_not_working_days() -> None:
    assert not cal.is_working_day(date(2025, 1, 29))  # Lunar New Year
    assert not cal.is_working_day(date(2025, 1, 27))
    assert not cal.is_working_day(date(2024, 3, 9))  # Saturday
    assert cal.is_working_day(date(2024, 3, 8))


def test_swapped_saturday_is_a_working_day_and_its_pair_is_off() -> None:
    assert cal.is_working_day(date(2025, 4, 26))  # Saturday worked to bridge 30/4–1/5
    assert not cal.is_working_day(date(2025, 5, 2))


def test_after_three_pm_counts_from_the_next_working_day() -> None:
    assert cal.counting_start(at(2024, 3, 4, 14, 59)) == date(2024, 3, 4)
    assert cal.counting_start(at(2024, 3, 4, 15, 1)) == date(2024, 3, 5)
    assert cal.counting_start(at(2024, 3, 8, 16)) == date(2024, 3, 11)  # Friday afternoon → Monday


def test_deadline_skips_tet() -> None:
    # Received Friday 24 Jan 2025 morning; 3 working days: 24 Jan, then Tết until 2 Feb, 3 Feb, 4 Feb.
    assert cal.deadline(at(2025, 1, 24), 3) == datetime(2025, 2, 4, 17, 0, tzinfo=VN_TZ)


def test_same_day_sla_ends_at_office_close() -> None:
    assert cal.deadline(at(2024, 3, 4, 10), 0.5) == datetime(2024, 3, 4, 17, 0, tzinfo=VN_TZ)


def test_sim_clock_compresses_time() -> None:
    t = [1000.0]
    clock = SimClock(epoch=at(2024, 3, 4, 8), anchor=1000.0, speed=3600.0, real_time=lambda: t[0])
    t[0] += 2.0
    assert clock.now() == at(2024, 3, 4, 10)
    assert clock.real_seconds(3600) == 1.0
    assert clock.real_at(at(2024, 3, 4, 10)) == 1002.0


def test_office_takes_up_work_the_same_day_before_three_and_the_next_working_day_after() -> None:
    assert cal.begin_work(at(2024, 3, 4, 6, 10)) == at(2024, 3, 4, 7, 30)  # before opening: at opening
    assert cal.begin_work(at(2024, 3, 4, 14, 59)) == at(2024, 3, 4, 14, 59)
    assert cal.begin_work(at(2024, 3, 4, 15, 1)) == at(2024, 3, 5, 7, 30)
    assert cal.begin_work(at(2024, 3, 9, 10)) == at(2024, 3, 11, 7, 30)  # Saturday → Monday


def test_working_hours_skip_nights_weekends_and_tet() -> None:
    assert cal.add_working_hours(at(2024, 3, 4, 9), 2) == at(2024, 3, 4, 11)
    assert cal.add_working_hours(at(2024, 3, 4, 16), 2) == at(2024, 3, 5, 8, 30)  # one hour left on Monday
    assert cal.add_working_hours(at(2024, 3, 8, 16), 1.5) == at(2024, 3, 11, 8)  # Friday → Monday
    assert cal.add_working_hours(at(2024, 3, 4, 20), 1) == at(2024, 3, 5, 8, 30)  # after hours: next opening
    # Friday 24 Jan 2025 16:00 + 3 h: Tết runs to Sunday 2 Feb, so work resumes Monday 3 Feb.
    assert cal.add_working_hours(at(2025, 1, 24, 16), 3) == at(2025, 2, 3, 9, 30)


def test_stamps_are_never_in_the_future_nor_older_than_the_lag_tolerance() -> None:
    t = [1000.0]
    clock = SimClock(epoch=at(2024, 3, 4, 8), anchor=1000.0, speed=3600.0, max_lag_s=2.0, real_time=lambda: t[0])
    t[0] += 10.0  # sim now: 18:00; the tolerance is 2 real s = 2 sim hours
    assert clock.stamp(at(2024, 3, 4, 17)) == at(2024, 3, 4, 17)
    assert clock.stamp(at(2024, 3, 4, 12)) == at(2024, 3, 4, 16)
    assert clock.stamp(at(2024, 3, 5, 9)) == at(2024, 3, 4, 18)


def test_working_hours_between_leave_out_nights_weekends_and_tet() -> None:
    cal = WorkingCalendar()
    assert cal.working_hours_between(at(2024, 3, 4, 9), at(2024, 3, 4, 11)) == 2
    assert cal.working_hours_between(at(2024, 3, 4, 16), at(2024, 3, 5, 8, 30)) == 2  # overnight
    assert cal.working_hours_between(at(2024, 3, 8, 16), at(2024, 3, 11, 8)) == 1.5  # Friday → Monday
    assert cal.working_hours_between(at(2024, 2, 7, 16), at(2024, 2, 15, 8, 30)) == 2  # across Tết 2024
