"""The sim clock between runs: it stops where a run settled, and runs again only while something
puts dossiers back on their way.

A run compresses time thousands of times, so a clock left running after the run would make the
console's ages and "last 24 hours" drift by weeks within minutes of an officer looking at it.
So `lienthong run` ends by stopping sim time (a last, paused segment in the stack's clock file,
runtime/clockfile.py) and records when: the console then says "run ended at <sim time>" and
measures every age at that moment. Redrive is the one thing that needs time to pass again (a
redriven handoff starts a step whose office work takes sim hours): `lienthong redrive` and the
console's redrive buttons resume the clock at the run's speed while they wait for the dossiers to
finish, then stop it again.

The clock does not stop at the instant the run settles: the monitor judges a deadline only once
every event stamped before it can have arrived (streams/watermark.py: the stamping bound, the
relay's allowance and a tick behind the clock), so it runs on for `margin_s` real seconds at the
run's speed first (less at a faster rate), and every deadline up to the moment the run settled is
judged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from contracts.clock import Segment, SimClock
from runtime.clockfile import LEAD_S, read_clock_file, write_segments
from streams.rules import TICK_S, judge_lag_s

JUDGED_TICKS = 2
"""Ticks the clock runs on past the stamping bound before it stops (the monitor's judged time
trails the clock by the bound, and moves a tick at a time)."""


@dataclass(frozen=True)
class ClockState:
    sim_time: datetime
    running: bool
    stopped_at: datetime | None
    """The sim time the clock stopped at (the run ended, or a redrive's wait did), if stopped."""

    def as_dict(self) -> dict[str, object]:
        return {
            "sim_time": self.sim_time.isoformat(),
            "running": self.running,
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }


def margin_s(clock: SimClock) -> float:
    """Real seconds the clock runs on before it stops (see the module docstring): the monitor's
    judging lag, the stamping bound and the relay's allowance (the bound alone left the last
    deadlines before a run's end unjudged: its judged time stood a tick short of the end)."""
    return LEAD_S + judge_lag_s(clock.max_lag_s) + JUDGED_TICKS * TICK_S


def state(clock: SimClock, path: Path | None) -> ClockState:
    """The clock as every process sees it now."""
    now = clock.now()
    if path is None or not path.exists():
        return ClockState(now, True, None)
    segments, _ = read_clock_file(path)
    last = segments[-1] if segments else None
    if last is not None and last.speed == 0 and last.anchor <= time.time():
        return ClockState(now, False, last.epoch)
    return ClockState(now, True, None)


def _as_written(clock: SimClock, segments: Sequence[Segment]) -> SimClock:
    """The clock by the segments just read from the file, not by the copy a process polls: the
    governor's last change may be newer than that copy, and a stop placed by a stale rate would
    make sim time jump."""
    return replace(clock, segments=lambda: segments)


def stop(clock: SimClock, path: Path, real: float | None = None, rate: float | None = None) -> Segment:
    """Stop sim time the margin's sim seconds (`margin_s` at the run's speed) from now, or at once
    if it stands already; the stopping segment. With `rate` above the run's speed, the clock runs
    the margin at that rate from `LEAD_S` on, so it stops sooner: the monitor's judged time trails
    by sim seconds (the stamping bound), whatever the rate. The caller waits until the stopping
    segment's anchor if it needs the clock stood still when it returns."""
    segments, _ = read_clock_file(path)
    if segments and segments[-1].speed == 0:
        return segments[-1]
    now = real if real is not None else time.time()
    written = _as_written(clock, segments)
    if rate is None or rate <= clock.speed:
        anchor = now + margin_s(clock)
        seg = Segment(anchor, written.at(anchor), 0.0)
        write_segments(path, [*segments, seg], stopped=True)
        return seg
    start = now + LEAD_S
    here = written.at(start)
    margin = timedelta(seconds=(margin_s(clock) - LEAD_S) * clock.speed)
    seg = Segment(start + margin.total_seconds() / rate, here + margin, 0.0)
    write_segments(path, [*segments, Segment(start, here, rate), seg], stopped=True)
    return seg


def resume(clock: SimClock, path: Path, real: float | None = None) -> bool:
    """Run sim time again at the run's speed (its ceiling), from where it stood; False if it was
    running already or has no clock file."""
    try:
        segments, _ = read_clock_file(path)
    except FileNotFoundError:
        return False
    if not segments or segments[-1].speed != 0:
        return False
    anchor = (real if real is not None else time.time()) + LEAD_S
    write_segments(path, [*segments, Segment(anchor, _as_written(clock, segments).at(anchor), clock.speed)])
    return True


@contextlib.asynccontextmanager
async def running(clock: SimClock, path: Path | None) -> AsyncIterator[None]:
    """Sim time runs for the duration (if the run had stopped it) and stops again after it."""
    if path is None or not resume(clock, path):
        yield
        return
    try:
        await asyncio.sleep(LEAD_S)
        yield
    finally:
        seg = stop(clock, path)
        await asyncio.sleep(max(0.0, seg.anchor - time.time()))
