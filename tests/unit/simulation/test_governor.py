"""The governor's policy (pure) and its clock file, which every process reads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from contracts.clock import VN_TZ, SimClock
from runtime.clockfile import ClockFile, read_segments
from simulation.governor import LEAD_S, PAUSE_AT, RESUME_BELOW, SLOW_AT, SLOWEST, Governor, next_speed

CEILING = 20_000.0
BOUND = 5.0


def test_the_speed_halves_near_the_bound_pauses_past_it_and_climbs_back_to_the_ceiling() -> None:
    assert next_speed(CEILING, 0.0, BOUND, CEILING) == CEILING
    assert next_speed(CEILING, SLOW_AT * BOUND, BOUND, CEILING) == CEILING / 2
    assert next_speed(CEILING, PAUSE_AT * BOUND, BOUND, CEILING) == 0.0
    assert next_speed(CEILING * SLOWEST, SLOW_AT * BOUND, BOUND, CEILING) == 0.0  # too slow: pause
    resumed = next_speed(0.0, 0.0, BOUND, CEILING)
    assert resumed == CEILING * SLOWEST
    speeds = [resumed]
    while speeds[-1] < CEILING:
        speeds.append(next_speed(speeds[-1], 0.0, BOUND, CEILING))
    assert speeds[-1] == CEILING
    assert next_speed(0.0, (SLOW_AT - 0.01) * BOUND, BOUND, CEILING) == 0.0  # paused until caught up


def test_a_change_starts_ahead_and_continues_sim_time_where_it_stood(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    epoch = datetime(2024, 1, 2, 8, 0, tzinfo=VN_TZ)
    clock = SimClock(epoch, 1000.0, speed=CEILING, max_lag_s=BOUND, segments=lambda: read_segments(path))
    gov = Governor(clock, path, tmp_path)
    gov.start()
    assert clock.at(1500.0) == epoch  # sim time stands until the agencies are seen ready
    started = gov.decide(0.0, real=1001.0)
    assert started is not None
    assert (started.anchor, started.epoch, started.speed) == (1001.0 + LEAD_S, epoch, CEILING * SLOWEST)
    seg = gov.decide(PAUSE_AT * BOUND, real=1002.0)
    assert seg is not None
    assert (seg.anchor, seg.speed) == (1002.0 + LEAD_S, 0.0)
    assert read_segments(path)[-1] == seg
    # No step back or forth: just before the change and at it, the clock shows the same time.
    assert abs((clock.at(seg.anchor) - clock.at(seg.anchor - 1e-6)).total_seconds()) < 0.1
    assert clock.at(seg.anchor + 100) == clock.at(seg.anchor)  # paused
    assert gov.decide(PAUSE_AT * BOUND, real=1003.0) is None  # already paused
    assert gov.summary()["changes"] == 2


def test_a_process_sees_a_change_within_its_poll_and_keeps_the_last_good_file(tmp_path: Path) -> None:
    import time

    from contracts.clock import Segment
    from runtime.clockfile import POLL_S, write_segments

    path = tmp_path / "clock.json"
    source = ClockFile(path)
    assert source() == ()  # no file yet: the clock's own rate
    first = (Segment(1000.0, datetime(2024, 1, 2, tzinfo=VN_TZ), 10.0),)
    write_segments(path, first)
    time.sleep(POLL_S * 1.5)
    assert tuple(source()) == first
    path.write_text("{not json", encoding="utf-8")
    time.sleep(POLL_S * 1.5)
    assert tuple(source()) == first


def test_an_agency_that_does_not_answer_or_has_not_rejoined_pauses_the_clock() -> None:
    from simulation.governor import trailing

    ready = {"stamp_lag_recent_s": 0.4, "ready": True}
    assert trailing({"hotich": ready, "cutru": ready}, 2, BOUND) == 0.4
    assert trailing({"hotich": ready}, 2, BOUND) == PAUSE_AT * BOUND  # cutru killed
    rejoining = {"stamp_lag_recent_s": 0.0, "ready": False}
    assert trailing({"hotich": ready, "cutru": rejoining}, 2, BOUND) == PAUSE_AT * BOUND
    assert next_speed(CEILING, trailing({"hotich": ready}, 2, BOUND), BOUND, CEILING) == 0.0


def test_past_the_runs_speed_the_clock_climbs_only_while_no_work_waits_and_falls_back_at_once() -> None:
    from simulation.governor import BUSY_BACKLOG, CLIMB, busy

    yard, ceiling = CEILING, 4 * CEILING
    assert next_speed(yard, 0.0, BOUND, yard, ceiling) == yard * CLIMB
    speeds = [yard]
    while speeds[-1] < ceiling:
        speeds.append(next_speed(speeds[-1], 0.0, BOUND, yard, ceiling))
    assert speeds[-1] == ceiling
    assert len(speeds) > 2
    assert next_speed(ceiling, 0.0, BOUND, yard, ceiling) == ceiling
    # Work waiting somewhere: no climb, and back to the run's speed from above it.
    assert next_speed(yard, 0.0, BOUND, yard, ceiling, waiting=True) == yard
    assert next_speed(3 * yard, 0.0, BOUND, yard, ceiling, waiting=True) == yard
    # A late stamp above the run's speed: straight back to it, not halved from the ceiling.
    assert next_speed(ceiling, RESUME_BELOW * BOUND, BOUND, yard, ceiling) == yard
    assert next_speed(ceiling, SLOW_AT * BOUND, BOUND, yard, ceiling) == yard
    assert next_speed(ceiling, PAUSE_AT * BOUND, BOUND, yard, ceiling) == 0.0
    # Without a ceiling above it (--speed given), the run's speed is the most.
    assert next_speed(yard, 0.0, BOUND, yard) == yard
    waiting = {"hotich": {"backlog": BUSY_BACKLOG}, "cutru": {"backlog": 0}}
    assert busy(waiting)
    assert not busy({"hotich": {"backlog": BUSY_BACKLOG - 1}, "cutru": {}})


def test_the_governor_reports_its_ceiling_and_the_fastest_rate_it_ran(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = SimClock(datetime(2024, 1, 2, tzinfo=VN_TZ), 1000.0, speed=CEILING, max_lag_s=BOUND)
    gov = Governor(clock, path, tmp_path, ceiling=4 * CEILING)
    gov.start()
    real = 1001.0
    while gov.speed < 4 * CEILING:
        gov.decide(0.0, real)
        real += 1
    gov.decide(0.0, real, waiting=True)
    assert gov.speed == CEILING
    summary = gov.summary()
    assert (summary["ceiling"], summary["fastest_speed"]) == (4 * CEILING, 4 * CEILING)


def test_the_clock_goes_past_the_runs_speed_only_as_far_as_the_governors_reaction_time_allows(
    tmp_path: Path,
) -> None:
    from simulation.governor import allowed_ceiling

    yard = CEILING
    # A stall grows the lag by k × the reaction time: k stays where that is SLOW_AT of the bound.
    assert allowed_ceiling(yard, 4 * yard, BOUND, 0.6) == yard * SLOW_AT * BOUND / 0.6
    assert allowed_ceiling(yard, 4 * yard, BOUND, 1.2) < allowed_ceiling(yard, 4 * yard, BOUND, 0.6)
    assert allowed_ceiling(yard, 4 * yard, BOUND, 0.1) == 4 * yard  # never past the ceiling
    assert allowed_ceiling(yard, 4 * yard, BOUND, 10.0) == yard  # never below the run's speed
    clock = SimClock(datetime(2024, 1, 2, tzinfo=VN_TZ), 1000.0, speed=yard, max_lag_s=BOUND)
    gov = Governor(clock, tmp_path / "clock.json", tmp_path, ceiling=4 * yard)
    gov.start()
    real = 1001.0
    for _ in range(40):
        gov.decide(0.0, real, reaction_s=0.6)
        real += 1
    assert gov.speed == allowed_ceiling(yard, 4 * yard, BOUND, 0.6)
    gov.decide(0.0, real, reaction_s=1.5)  # the machine got busy: the answers come slower
    assert gov.speed == allowed_ceiling(yard, 4 * yard, BOUND, 1.5)
    assert gov.summary()["slowest_reaction_s"] == 1.5
