"""The sim clock stops where a run settled (after the monitor could judge up to there), and runs
again only while a redrive needs it."""

import itertools
import time
from datetime import datetime, timedelta
from pathlib import Path

from contracts.clock import Segment, SimClock
from ops import runclock
from runtime.clockfile import LEAD_S, POLL_S, ClockFile, read_clock_file, write_segments
from streams.rules import TICK_S, judge_lag_s

EPOCH = datetime.fromisoformat("2024-01-01T00:00:00+07:00")
SPEED = 10_000.0


def clock_on(path: Path, anchor: float) -> SimClock:
    """A clock on `path` whose file is looked at on every reading: its poll timer advances a poll
    interval per look, so no test waits for the poll."""
    write_segments(path, [Segment(anchor, EPOCH, SPEED)])
    looks = itertools.count(step=POLL_S)
    return SimClock(EPOCH, anchor, speed=SPEED, max_lag_s=2.0, segments=ClockFile(path, lambda: float(next(looks))))


def test_a_run_stops_the_clock_after_the_monitor_could_judge_up_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = clock_on(path, anchor=1000.0)
    seg = runclock.stop(clock, path, real=1010.0)
    # It runs on for the stamping bound and two ticks (and the lead), then stands.
    assert seg.anchor == 1010.0 + runclock.margin_s(clock)
    assert seg.speed == 0
    assert seg.epoch == EPOCH + timedelta(seconds=(seg.anchor - 1000.0) * SPEED)
    assert read_clock_file(path) == ((Segment(1000.0, EPOCH, SPEED), seg), True)
    assert runclock.stop(clock, path, real=2000.0) == seg  # stopping twice changes nothing


def test_the_clock_stops_past_the_monitors_judging_lag_not_just_the_stamping_bound(tmp_path: Path) -> None:
    """Regression: the clock stopped one stamping bound and two ticks past a run's end, but the
    monitor judges the bound and the relay's allowance behind the clock: its judged time stood
    short of the end, and the run's last deadlines were never judged."""
    path = tmp_path / "clock.json"
    clock = clock_on(path, anchor=1000.0)
    seg = runclock.stop(clock, path, real=1010.0)
    judged_at_stop = seg.epoch - timedelta(seconds=(judge_lag_s(clock.max_lag_s) + TICK_S) * SPEED)
    assert judged_at_stop >= clock.at(1010.0)


def test_a_governed_run_runs_the_margin_at_its_ceiling_and_stops_as_far_on_in_sim_time(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = clock_on(path, anchor=1000.0)
    slow = runclock.stop(clock_on(tmp_path / "slow.json", anchor=1000.0), tmp_path / "slow.json", real=1010.0)
    seg = runclock.stop(clock, path, real=1010.0, rate=16 * SPEED)
    # The same sim time past the run's end (the monitor judges a bound of sim seconds behind)...
    assert seg.epoch == slow.epoch
    assert seg.speed == 0
    # ...reached sixteen times sooner, after the lead at the run's speed.
    lead = 1010.0 + runclock.LEAD_S
    assert seg.anchor == lead + (slow.anchor - lead) / 16
    segments, stopped = read_clock_file(path)
    assert stopped
    assert segments[-2] == Segment(lead, clock.at(lead), 16 * SPEED)
    # A rate no faster than the run's speed stops as before.
    other = tmp_path / "same.json"
    assert runclock.stop(clock_on(other, anchor=1000.0), other, real=1010.0, rate=SPEED) == slow


def test_the_console_sees_a_stopped_clock_and_when_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    now = time.time()
    clock = clock_on(path, anchor=now - 10)
    assert runclock.state(clock, path).running
    seg = runclock.stop(clock, path, real=now - 5 - runclock.margin_s(clock))
    stood = runclock.state(clock, path)
    assert (stood.running, stood.stopped_at, stood.sim_time) == (False, seg.epoch, seg.epoch)
    assert runclock.state(clock, None).running  # no clock file: a steady clock


def test_a_redrive_runs_the_stopped_clock_and_stops_it_again(tmp_path: Path) -> None:
    """What `runclock.running` does around a redrive, at given real instants (no waiting): sim
    time runs again after the lead, at the run's speed, then stands where the stop put it."""
    path = tmp_path / "clock.json"
    now = 10_000.0
    clock = clock_on(path, anchor=now - 10)
    stood = runclock.stop(clock, path, real=now - 5 - runclock.margin_s(clock))
    assert clock.at(now) == stood.epoch  # stopped: the page's moment does not move
    assert runclock.resume(clock, path, real=now)
    assert runclock.resume(clock, path, real=now) is False  # running already
    start = now + LEAD_S
    assert clock.at(start) == stood.epoch  # nothing jumps during the lead
    assert clock.at(start + 2) == stood.epoch + timedelta(seconds=2 * SPEED)  # then the run's speed
    again = runclock.stop(clock, path, real=start + 2)
    assert again.epoch > stood.epoch
    assert clock.at(again.anchor + 60) == again.epoch  # and it stands again
    assert runclock.resume(clock, tmp_path / "absent.json") is False


def test_the_stop_follows_the_last_rate_written_not_a_stale_copy_of_it(tmp_path: Path) -> None:
    """Regression: a governed run slowed from 100,000× to its own speed and stopped the clock at
    once; the stop was placed by the run's polled copy of the file, still at 100,000×, and sim
    time jumped five days forward at the stop (every agency looked silent across the jump)."""
    path = tmp_path / "clock.json"
    stale = [Segment(1000.0, EPOCH, 4 * SPEED)]
    write_segments(path, [*stale, Segment(1010.0, EPOCH + timedelta(seconds=10 * 4 * SPEED), SPEED)])
    clock = SimClock(EPOCH, 1000.0, speed=SPEED, max_lag_s=2.0, segments=lambda: stale)
    seg = runclock.stop(clock, path, real=1010.0)
    expected = EPOCH + timedelta(seconds=10 * 4 * SPEED + runclock.margin_s(clock) * SPEED)
    assert abs((seg.epoch - expected).total_seconds()) < 1e-3
