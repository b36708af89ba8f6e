"""Đến hạn hôm nay / ngày mai counts the page's day and the next working day on the Vietnamese
calendar: from a Friday the next is Monday, and from the eve of Tết the day after it."""

from __future__ import annotations

from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from dashboard.due import window


def test_from_a_friday_the_next_working_day_is_monday() -> None:
    start, end, tomorrow = window(WorkingCalendar(), datetime(2024, 3, 8, 15, 30, tzinfo=VN_TZ))
    assert start == datetime(2024, 3, 8, tzinfo=VN_TZ)
    assert tomorrow == datetime(2024, 3, 11, tzinfo=VN_TZ)
    assert end == datetime(2024, 3, 12, tzinfo=VN_TZ)


def test_before_tet_the_next_working_day_is_after_the_holiday() -> None:
    _, end, tomorrow = window(WorkingCalendar(), datetime(2024, 2, 7, 9, tzinfo=VN_TZ))
    assert tomorrow == datetime(2024, 2, 15, tzinfo=VN_TZ)  # Tết 2024: 8–14 February off
    assert end == datetime(2024, 2, 16, tzinfo=VN_TZ)
