"""A governed clock: sim time follows the governor's segments, never steps back, pauses."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from contracts.clock import VN_TZ, Segment, SimClock

EPOCH = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)


def governed(segments: list[Segment], real: list[float]) -> SimClock:
    return SimClock(EPOCH, 1000.0, speed=100.0, real_time=lambda: real[0], segments=lambda: segments)


def test_the_clock_follows_each_segment_from_its_anchor_on() -> None:
    real = [1010.0]
    segs = [Segment(1000.0, EPOCH, 100.0), Segment(1010.0, EPOCH + timedelta(seconds=1000), 0.0)]
    clock = governed(segs, real)
    assert clock.now() == EPOCH + timedelta(seconds=1000)
    real[0] = 1050.0  # paused: sim time stands
    assert clock.now() == EPOCH + timedelta(seconds=1000)
    segs.append(Segment(1060.0, EPOCH + timedelta(seconds=1000), 50.0))
    real[0] = 1070.0
    assert clock.now() == EPOCH + timedelta(seconds=1500)
    assert clock.at(1005.0) == EPOCH + timedelta(seconds=500)  # the past, by its own segment


def test_real_at_answers_by_the_rate_known_now_and_infinity_while_paused() -> None:
    segs = [Segment(1000.0, EPOCH, 100.0), Segment(1010.0, EPOCH + timedelta(seconds=1000), 0.0)]
    clock = governed(segs, [1020.0])
    assert clock.real_at(EPOCH + timedelta(seconds=500)) == 1005.0
    assert math.isinf(clock.real_at(EPOCH + timedelta(seconds=2000)))
    segs.append(Segment(1060.0, EPOCH + timedelta(seconds=1000), 50.0))
    assert clock.real_at(EPOCH + timedelta(seconds=2000)) == 1080.0


def test_a_steady_clock_ignores_segments_it_has_none_of() -> None:
    clock = SimClock(EPOCH, 1000.0, speed=100.0, real_time=lambda: 1010.0, segments=lambda: ())
    assert clock.now() == EPOCH + timedelta(seconds=1000)
    assert clock.real_at(EPOCH + timedelta(seconds=1000)) == 1010.0


def test_stamping_keeps_the_ceilings_bound_while_paused() -> None:
    """Paused, sim time stands; a model time a moment behind must not be clamped to `now`."""
    segs = [Segment(1000.0, EPOCH, 0.0)]
    clock = SimClock(EPOCH, 1000.0, speed=100.0, max_lag_s=5.0, real_time=lambda: 1050.0, segments=lambda: segs)
    model = EPOCH - timedelta(seconds=300)
    assert clock.stamp(model) == model


def test_a_time_before_the_runs_start_is_reached_on_the_clocks_own_line_not_held_to_the_start() -> None:
    """Regression: with heartbeats spaced in sim time, an agency that started before the run's
    clock (paused at its start until the agencies are ready) asked when the next beat was due,
    got the start itself, and beat two sim days apart: the monitor raised seven silences."""
    segs = [Segment(1000.0, EPOCH, 0.0)]
    clock = SimClock(EPOCH, 1000.0, speed=100.0, real_time=lambda: 990.0, segments=lambda: segs)
    assert clock.now() == EPOCH - timedelta(seconds=1000)
    assert clock.real_at(EPOCH - timedelta(seconds=900)) == 991.0
    assert clock.real_at(EPOCH) == 1000.0  # the start itself: once the clock reaches it
    assert math.isinf(clock.real_at(EPOCH + timedelta(seconds=1)))  # paused there
