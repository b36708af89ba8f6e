"""The sim clock's governor: a run's verdicts must not depend on how busy the machine is.

Sim time is real time × speed, so at 20,000× one real second of processing lag is five and a
half sim hours. Past the stamping bound (`LT_SIM_MAX_LAG_S`) a component records an event later
than the model says it happened, and a deadline it met looks missed: a fault-free `smoke` run
raised 753 false lost and 75 false stuck findings while the portal trailed by 12.3 s. The
governor watches how far every agency trails (the worst stamp lag of the last seconds, from each
one's /healthz) and changes the shared clock's rate before the bound is reached: it halves the
speed when the worst lag passes `SLOW_AT` of the bound, pauses sim time past `PAUSE_AT`, and
speeds up by `SPEED_UP` once every agency is back under `RESUME_BELOW`, up to the run's speed
(the yardstick, see below).

Above that speed the run goes as fast as the machine keeps up: while no agency has work waiting
(`BUSY_BACKLOG`: messages not yet read, or tasks due beyond one batch, from each one's /healthz)
and every stamp is on time, the rate climbs by `CLIMB` per reading up to the ceiling (as far as
the governor's own measured reaction time allows: `allowed_ceiling`), and it
falls straight back to the run's speed as soon as work waits or a stamp trails past `RESUME_BELOW`.
The backlog is the leading sign: a stamp is late only once the queue behind it has been worked
through, and past the run's speed a real second of queueing costs several seconds of the bound
(decided 1 December 2026: a ceiling of 8× that climbed on late stamps alone let the `smoke`
burst put the agencies 6.2 s behind, 1,876 stamps clamped and 385 false lost alerts). The run's
speed stays the yardstick of everything counted in sim time: the stamping bound, the monitor's
tick and the silence limit (the agencies beat as much more often as the clock may outrun that
speed: `Settings.beat_interval_s`), so a run that goes faster judges exactly as one that does
not. Without `--speed` the ceiling is `BOOST` × the
profile's speed; `--speed` sets both the yardstick and the ceiling (a steady pace when the
machine keeps up). An agency
that does not answer (killed, restarting, frozen while the broker restarts) counts as trailing
past `PAUSE_AT`: sim time waits for it. Each change is a `Segment` written to the stack's clock
file (runtime/clockfile.py), starting `LEAD_S` in the future so that every process reads it
before it applies. On a busy machine a run takes longer; its verdicts stay the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from contracts.clock import Segment, SimClock
from runtime.clockfile import LEAD_S, POLL_S, write_segments
from simulation.probes import agency_health, agency_ports

log = structlog.get_logger()

SLOW_AT = 0.3
PAUSE_AT = 0.6
RESUME_BELOW = 0.15
SPEED_UP = 1.5
CLIMB = 1.25
"""Above the run's speed, the rise per reading (slower than `SPEED_UP`: there, each real second
of reaction costs more of the bound)."""
BOOST = 4.0
"""The default ceiling as a multiple of the run's speed; the governor goes only as far towards it
as its own reaction time allows (`allowed_ceiling`)."""
RTT_READINGS = 8
"""Readings over which the slowest /healthz round trip counts towards the reaction time."""
BUSY_BACKLOG = 20
"""Work waiting at one agency (messages or tasks) from which the clock stops climbing past the
run's speed."""
SLOWEST = 1 / 64
"""The lowest running speed, as a share of the ceiling (below it the governor pauses instead)."""
EVERY_S = 0.25
HEALTH_TIMEOUT_S = 0.5
"""An agency that has not answered its /healthz within this counts as not answering."""
KEEP = 16
"""Segments kept in the file: enough to cover every process's view of "now"."""


def trailing(bodies: dict[str, dict[str, Any]], expected: int, bound_s: float) -> float:
    """The worst recent lag over the agencies' /healthz bodies. One that does not answer
    (killed, frozen while the broker restarts) or whose consumer has no partitions yet (a
    restarted process rejoining its group) trails by an unknown amount: it counts as past
    `PAUSE_AT`, so sim time waits for it (a killed cutru stamped 173 events late otherwise). Pure."""
    worst = max((float(b.get("stamp_lag_recent_s", 0.0)) for b in bodies.values()), default=0.0)
    if len(bodies) < expected or not all(b.get("ready", True) for b in bodies.values()):
        worst = max(worst, PAUSE_AT * bound_s)
    return worst


def busy(bodies: dict[str, dict[str, Any]]) -> bool:
    """Whether some agency has work waiting (see `BUSY_BACKLOG`). Pure."""
    return any(int(b.get("backlog", 0)) >= BUSY_BACKLOG for b in bodies.values())


def allowed_ceiling(yardstick: float, ceiling: float, bound_s: float, reaction_s: float) -> float:
    """How far past the run's speed the clock may go now. Between a stall and the moment the
    slower rate applies lies the governor's reaction time (its reading interval, the slowest
    recent /healthz round trip, the segment's lead and the processes' poll of the clock file);
    at k times the run's speed a stalled agency's lag grows by k × that, in seconds of the bound.
    So k stays where that growth is `SLOW_AT` of the bound: with a 5 s bound and the fixed part of
    the reaction (0.6 s), at most 2.5×, less on a busy machine, whose /healthz answers slower.
    Decided 1 December 2026 after a flat 4× beside two busy loops let a stall reach 5.7 s (269
    stamps clamped, 62 false lost alerts in the demo month). Pure."""
    return max(yardstick, min(ceiling, yardstick * SLOW_AT * bound_s / reaction_s))


def next_speed(
    current: float, worst_lag_s: float, bound_s: float, yardstick: float, ceiling: float = 0.0, waiting: bool = False
) -> float:
    """The speed for the next interval, from the current one, the worst recent lag and whether
    work waits somewhere; `yardstick` is the run's speed, `ceiling` the fastest allowed (0: the
    run's speed). Pure."""
    ceiling = max(ceiling, yardstick)
    share = worst_lag_s / bound_s
    if share >= PAUSE_AT:
        return 0.0
    if current > yardstick and (waiting or share >= RESUME_BELOW):
        return yardstick
    if current > ceiling:
        return ceiling
    if share >= SLOW_AT:
        slower = current / 2
        return slower if slower >= yardstick * SLOWEST else 0.0
    if share < RESUME_BELOW:
        if current < yardstick:
            return min(yardstick, max(current * SPEED_UP, yardstick * SLOWEST))
        if not waiting:
            return min(ceiling, current * CLIMB)
    return current


@dataclass
class Governor:
    clock: SimClock
    """The run's clock, reading `path` (settings.clock() with LT_SIM_CLOCK_FILE set)."""
    path: Path
    home: Path
    ceiling: float = 0.0
    """The fastest rate (sim seconds per real second); 0: the clock's own speed."""
    segments: list[Segment] = field(default_factory=list)
    changes: int = 0
    paused_s: float = 0.0
    slowest: float = float("inf")
    fastest: float = 0.0
    worst_seen_s: float = 0.0
    reaction_s: float = 0.0
    """The slowest reaction time seen (see `allowed_ceiling`)."""
    _holds: int = 0

    def start(self) -> None:
        """The clock file, read by every process from its start: sim time stands at the period's
        start until `run` sees the agencies ready (a steady clock started while the services
        were still starting: the first submissions were stamped 5.4 s late)."""
        self.segments = [Segment(self.clock.anchor, self.clock.epoch, 0.0)]
        write_segments(self.path, self.segments)

    def _at(self, real: float) -> datetime:
        """Sim time at `real` by the segments decided here (the file may not be re-read yet)."""
        return replace(self.clock, segments=lambda: self.segments).at(real)

    def _change(self, speed: float, real: float) -> Segment:
        anchor = real + LEAD_S
        seg = Segment(anchor, self._at(anchor), speed)
        self.segments = [*self.segments, seg][-KEEP:]
        write_segments(self.path, self.segments)
        return seg

    @property
    def speed(self) -> float:
        return self.segments[-1].speed

    def decide(
        self, worst_lag_s: float, real: float, waiting: bool = False, reaction_s: float | None = None
    ) -> Segment | None:
        """Apply the policy to the worst lag read at `real` (whether work waits somewhere, and the
        governor's reaction time, which bounds how far past the run's speed it may go); the new
        segment, if the rate changes."""
        self.worst_seen_s = max(self.worst_seen_s, worst_lag_s)
        yardstick, bound = self.clock.speed, self.clock.max_lag_s
        ceiling = max(self.ceiling, yardstick)
        if reaction_s is not None:
            self.reaction_s = max(self.reaction_s, reaction_s)
            ceiling = allowed_ceiling(yardstick, ceiling, bound, reaction_s)
        speed = next_speed(self.speed, worst_lag_s, bound, yardstick, ceiling, waiting)
        if speed == self.speed:
            return None
        seg = self._change(speed, real)
        self.changes += 1
        self.slowest = min(self.slowest, speed)
        self.fastest = max(self.fastest, speed)
        return seg

    async def run(self, stop: asyncio.Event) -> None:
        ports = agency_ports(self.home)
        last = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HEALTH_TIMEOUT_S)) as http:
            rtts: deque[float] = deque(maxlen=RTT_READINGS)
            while not stop.is_set():
                asked = time.monotonic()
                bodies = await agency_health(http, ports)
                rtts.append(time.monotonic() - asked)
                worst = trailing(bodies, len(ports), self.clock.max_lag_s)
                if self._holds:
                    worst = max(worst, PAUSE_AT * self.clock.max_lag_s)
                now = time.monotonic()
                if self.speed == 0:
                    self.paused_s += now - last
                last = now
                seg = self.decide(worst, time.time(), busy(bodies), EVERY_S + max(rtts) + LEAD_S + POLL_S)
                if seg is not None:
                    log.debug("sim clock rate changed", speed=seg.speed, worst_lag_s=round(worst, 2))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), EVERY_S)
        # The run is over: sim time runs on at the run's speed until the run stops it where it
        # settled (simulation/runclock.py), so that the monitor judges every deadline up to there.
        if self.speed != self.clock.speed:
            self._change(self.clock.speed, time.time())

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Sim time paused for the duration (a process fault under way), from before it starts."""
        self._holds += 1
        try:
            if self.speed != 0:
                self._change(0.0, time.time())
                self.changes += 1
                await asyncio.sleep(LEAD_S)
            yield
        finally:
            self._holds -= 1

    def summary(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "paused_s": round(self.paused_s, 1),
            "slowest_speed": None if self.slowest == float("inf") else self.slowest,
            "fastest_speed": self.fastest or None,
            "ceiling": max(self.ceiling, self.clock.speed),
            "worst_lag_s": round(self.worst_seen_s, 2),
            "slowest_reaction_s": round(self.reaction_s, 3),
        }
