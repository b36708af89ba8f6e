"""Stamps within the bound keep their model time; past it they are clamped, counted and warned about."""

from __future__ import annotations

from datetime import datetime, timedelta

from structlog.testing import capture_logs

from contracts.clock import VN_TZ, SimClock
from runtime.stamping import Stamper

SPEED = 3600.0


def clock_at(real: list[float]) -> SimClock:
    epoch = datetime(2024, 3, 4, 8, tzinfo=VN_TZ)
    return SimClock(epoch=epoch, anchor=1000.0, speed=SPEED, max_lag_s=2.0, real_time=lambda: real[0])


def test_a_lag_within_the_bound_keeps_the_model_time_and_is_measured() -> None:
    real = [1010.0]
    stamp = Stamper(clock_at(real), "hotich")
    model = stamp.clock.now() - timedelta(seconds=1.5 * SPEED)
    with capture_logs() as logs:
        assert stamp(model) == model
    assert (stamp.worst_s, stamp.clamped, logs) == (1.5, 0, [])


def test_a_lag_past_the_bound_is_clamped_counted_and_warned_once_per_interval() -> None:
    real = [1010.0]
    stamp = Stamper(clock_at(real), "portal")
    now = stamp.clock.now()
    with capture_logs() as logs:
        for _ in range(3):
            got = stamp(now - timedelta(seconds=7 * SPEED))
    assert got == now - timedelta(seconds=2 * SPEED)
    assert (stamp.worst_s, stamp.clamped) == (7.0, 3)
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [(w["lag_s"], w["bound_s"]) for w in warnings] == [(7.0, 2.0)]
    status = stamp.status()
    assert (status["stamp_lag_max_s"], status["stamps_clamped"]) == (7.0, 3)


def test_a_model_time_ahead_of_the_clock_is_not_a_lag() -> None:
    real = [1010.0]
    stamp = Stamper(clock_at(real), "lltp")
    now = stamp.clock.now()
    assert stamp(now + timedelta(hours=3)) == now
    assert (stamp.worst_s, stamp.clamped) == (0.0, 0)


def test_the_recent_lag_is_the_worst_of_the_last_seconds_and_fades() -> None:
    """What a governed run's governor reads: the worst lag lately, not since the start."""
    from runtime.stamping import RECENT_S

    real = [1010.0]
    stamp = Stamper(clock_at(real), "cutru")
    t0 = 100 * RECENT_S
    stamp._note(4.0, t0)
    stamp._note(1.0, t0 + RECENT_S)  # the next window: the worse one still counts
    assert stamp.recent_s(t0 + RECENT_S) == 4.0
    assert stamp.recent_s(t0 + 2 * RECENT_S) == 1.0
    assert stamp.recent_s(t0 + 3 * RECENT_S) == 0.0  # caught up: nothing stamped late since
