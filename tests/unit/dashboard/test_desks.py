"""Chờ cán bộ tiếp nhận as an officer reads it: the oldest's wait in minutes, hours and days, and
a step named by its Vietnamese label, never its code."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.chains import load_chains
from contracts.clock import VN_TZ
from dashboard.desks import step_vi, waited_vi

NOW = datetime(2024, 5, 14, 9, 0, tzinfo=VN_TZ)


def test_the_oldest_wait_reads_in_minutes_hours_and_days() -> None:
    assert waited_vi(NOW - timedelta(minutes=42), NOW) == "42 phút"
    assert waited_vi(NOW - timedelta(hours=3), NOW) == "3 giờ"
    assert waited_vi(NOW - timedelta(hours=17, minutes=5), NOW) == "17 giờ 5 phút"
    assert waited_vi(NOW - timedelta(days=2, hours=1), NOW) == "2 ngày 1 giờ"
    assert waited_vi(NOW + timedelta(minutes=1), NOW) == "0 phút"  # a stamp a moment ahead of the page


def test_a_step_reads_as_its_label() -> None:
    chains = load_chains()
    assert step_vi(chains, "lltp", "intake") == "Tiếp nhận hồ sơ một cửa"
    assert step_vi(chains, None, "somewhere") == "somewhere"
