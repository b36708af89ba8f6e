"""The sim clock of a governed run: it advances on evidence of progress, never on a warning.

Sim time runs at the run's ceiling (`--speed`, or `BOOST` × the profile's speed) but never past
the horizon: the latest sim time proven done (simulation/horizon.py) plus a window of 0.8 of the
stamping bound. Every `EVERY_S` the governor reads the clock, asks every agency process for its
`/progress` twice, and, when the answers prove that nothing due up to that reading is left,
moves the horizon on. When the machine keeps up, a proof comes long before the horizon is reached
and the clock never stops; when it does not, or a process is killed, frozen, cut off from the
broker, or waits for a partition without a leader, no proof comes and sim time stops at the
horizon until the work is done, however long the fault lasts. Nothing tells the governor of a
fault: it needs no warning, and the harness gives none.

Why a window and not a step per event: the agencies are separate processes that talk through
the broker, so a proof costs two rounds of HTTP; a month holds tens of thousands of moments at
which something falls due. Within a window the agencies work through what falls due as fast as
they can, stamping each event with its model time (runtime/stamping.py), which trails the clock
by less than the window: so no stamp is ever clamped.

Why a ceiling: an integrator's agency beats on real time only (the contract), and the monitor's
silence limit is three beats at the run's speed; beside one, the ceiling is that speed. The
simulated agencies beat on sim time as well, each beat stamped when it fell due (runtime/
heartbeat.py), so the ceiling of a run of theirs only bounds how far one window's work can lag.

Each change is a `Segment` written to the stack's clock file (runtime/clockfile.py), starting
`LEAD_S` in the future so that every process reads it before it applies; the stop at the horizon
is written ahead with it, so a process that misses a later change still stops there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from contracts.clock import Segment, SimClock
from runtime.clockfile import LEAD_S, write_segments
from simulation.external import ExternalWatch
from simulation.horizon import WINDOW_SHARE, prove, quiet_until
from simulation.probes import agency_health, agency_ports, agency_progress, monitor_ports

log = structlog.get_logger()

BOOST = 16.0
"""The default ceiling as a multiple of the run's speed."""
IDLE_BOOST = 20.0
"""The rate for idle stretches, as a multiple of the run's speed (`idle_rate`): from a proven
moment to the earliest task, release or submission any agency or the workload has next."""
EVERY_S = 0.1
"""Real seconds between two proofs at most (each asks every agency twice)."""
MIN_LOOK_S = 0.01
PROGRESS_TIMEOUT_S = 2.0
"""An agency that has not answered within this proves nothing this time."""
HELD_WARN_S = 30.0
"""Real seconds sim time may stand at the horizon before the run says who holds it."""
KEEP = 16
"""Past segments kept in the file: enough to cover every process's view of "now"."""


async def unsettled(http: aiohttp.ClientSession, ports: dict[str, int]) -> list[str]:
    """The monitor workers holding late handoffs they have not yet seen the broker's positions
    for (streams/backlog.py): a deadline of the monitor is due, and sim time waits for its
    verdict (run on, the late handoff's own delivery could overtake the verdict and hide a lost
    one)."""
    bodies = await agency_health(http, ports)
    counts = {name: int(b.get("unsettled", 0)) for name, b in sorted(bodies.items())}
    return [f"{name}: {n} late handoffs to judge" for name, n in counts.items() if n]


@dataclass
class Governor:
    clock: SimClock
    """The run's clock, reading `path` (settings.clock() with LT_SIM_CLOCK_FILE set)."""
    path: Path
    home: Path
    ceiling: float = 0.0
    """The fastest rate (sim seconds per real second); 0: the clock's own speed."""
    idle_rate: float = 0.0
    """The rate while nothing is due (0: the ceiling's); simulated agencies beat on sim time too
    (runtime/heartbeat.py), so the monitor hears no silence however fast it goes."""
    quiet_until: datetime | None = None
    """Nothing is due before this sim time, as the last proof showed."""
    submissions: Callable[[], datetime | None] = lambda: None
    """The sim time of the earliest submission not yet answered (None: all were)."""
    external: ExternalWatch | None = None
    """An integrator's agencies, proven by their consumer groups' offsets (simulation/external.py)."""
    segments: list[Segment] = field(default_factory=list)
    horizon: datetime | None = None
    """Sim time stops here until a later moment is proven; None once the run is over."""
    proofs: int = 0
    held_s: float = 0.0
    """Real seconds sim time stood at the horizon."""
    held_by: dict[str, float] = field(default_factory=dict)
    """Of those, by who kept the next proof from coming (an agency process, or the workload)."""
    worst_lag_s: float = 0.0
    nothing_to_come: bool = False
    """The last proof showed nothing due anywhere, ever: no task, release, outage end or submission."""
    standing_since: float | None = None
    """Real time (monotonic) sim time came to stand at the horizon; None since it last moved."""
    warned_at: float = 0.0

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=WINDOW_SHARE * self.clock.max_lag_s * self.clock.speed)

    @property
    def rate(self) -> float:
        return max(self.ceiling, self.clock.speed)

    def start(self) -> None:
        """The clock file, read by every process from its start: sim time stands at the period's
        start until the agencies prove they are there and idle."""
        self.horizon = self.clock.epoch
        self.segments = [Segment(self.clock.anchor, self.clock.epoch, 0.0)]
        write_segments(self.path, self.segments)

    def _at(self, real: float) -> datetime:
        """Sim time at `real` by the segments decided here (the file may not be re-read yet)."""
        return replace(self.clock, segments=lambda: self.segments).at(real)

    def _rewrite(self, real: float) -> None:
        """From `LEAD_S` after `real`: on at the rate, to a stop at the horizon (if any)."""
        anchor = real + LEAD_S
        here = self._at(anchor)
        if here == self._at(real):
            # Standing still until then (at the horizon): a process that reads the change late
            # sees sim time stand a moment longer, then jump on, never step back; so no lead.
            anchor = real
        kept = [s for s in self.segments if s.anchor < anchor][-KEEP:]
        if self.horizon is None:
            tail = [Segment(anchor, here, self.clock.speed)]
        elif here >= self.horizon:
            tail = [Segment(anchor, here, 0.0)]
        else:
            tail = self._to_horizon(anchor, here, self.horizon)
        self.segments = kept + tail
        write_segments(self.path, self.segments)

    def _to_horizon(self, anchor: float, here: datetime, horizon: datetime) -> list[Segment]:
        """From `here` at `anchor`: at the idle rate while nothing is due, then at the ceiling,
        to a stop at the horizon."""
        out: list[Segment] = []
        if self.idle_rate > self.rate and self.quiet_until is not None and self.quiet_until > here:
            out.append(Segment(anchor, here, self.idle_rate))
            quiet_end = min(self.quiet_until, horizon)
            anchor += (quiet_end - here).total_seconds() / self.idle_rate
            here = quiet_end
        if here < horizon:
            out.append(Segment(anchor, here, self.rate))
            anchor += (horizon - here).total_seconds() / self.rate
        return [*out, Segment(anchor, horizon, 0.0)]

    def proven(self, t: datetime, real: float, quiet_until: datetime | None = None) -> None:
        """Everything due up to `t` is done, and nothing more is due before `quiet_until`: the
        horizon moves to `t` + the window."""
        self.proofs += 1
        self.quiet_until = quiet_until
        horizon = t + self.window
        if self.horizon is not None and horizon > self.horizon:
            self.horizon = horizon
            self.standing_since = None
            self._rewrite(real)

    def stopped(self, real: float) -> bool:
        return self.horizon is not None and self._at(real) >= self.horizon

    def hold(self, holders: tuple[str, ...], seconds: float) -> None:
        """Count `seconds` of standing at the horizon against each holder's component."""
        self.held_s += seconds
        for who in {h.split(":", 1)[0] for h in holders} or {"the clock's reading"}:
            self.held_by[who] = self.held_by.get(who, 0.0) + seconds

    async def run(self, stop: asyncio.Event) -> None:
        if self.external is not None:
            await self.external.start()
        try:
            await self._govern(stop)
        finally:
            if self.external is not None:
                await self.external.stop()
        # The run is over: sim time runs on at the run's speed until the run stops it where it
        # settled (ops/runclock.py), so that the monitor judges every deadline up to there.
        self.horizon = None
        self._rewrite(time.time())

    async def _govern(self, stop: asyncio.Event) -> None:
        last = time.monotonic()
        holders: tuple[str, ...] = ()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=PROGRESS_TIMEOUT_S)) as http:
            while not stop.is_set():
                ports = agency_ports(self.home)
                asked = time.time()
                t = self._at(asked)
                first = await agency_progress(http, ports)
                second = await agency_progress(http, ports)
                proof = prove(t, first, second, set(ports), self.submissions())
                outside = await self.external.holders() if self.external is not None else []
                outside += await unsettled(http, monitor_ports(self.home))
                self.worst_lag_s = max(
                    [self.worst_lag_s, *(float(b.get("stamp_lag_recent_s", 0.0)) for b in second.values())]
                )
                now = time.monotonic()
                if self.stopped(time.time()):
                    self.hold(holders, now - last)
                    self._say_held(holders, now)
                last = now
                holders = (*proof.holders, *outside)
                self.nothing_to_come = False
                if not holders:
                    quiet = quiet_until(second, self.submissions()) if self.external is None else None
                    self.nothing_to_come = quiet is None and self.external is None
                    self.proven(t, time.time(), quiet)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._next_look(time.time()))

    def idle_for_good(self) -> bool:
        """Whether nothing more will happen by itself (the run need not wait for it)."""
        return self.nothing_to_come

    def _next_look(self, real: float) -> float:
        """Real seconds to the next proof: EVERY_S, or less when the clock stops at the horizon
        sooner (a proof asked while work still falls due fails; one asked as it stops succeeds
        once that work is done)."""
        stops = [s.anchor for s in self.segments if s.speed == 0.0 and s.anchor > real]
        return max(MIN_LOOK_S, min([EVERY_S, *(a - real for a in stops)]))

    def _say_held(self, holders: tuple[str, ...], now: float) -> None:
        """Warn, once every HELD_WARN_S, while sim time has stood at the horizon that long: an
        operator then sees who holds it (a process stopped for good holds it for ever)."""
        if self.standing_since is None:
            self.standing_since = self.warned_at = now
        elif now - self.warned_at >= HELD_WARN_S:
            self.warned_at = now
            log.warning(
                "sim time stands at the horizon", seconds=round(now - self.standing_since), held_by=list(holders)
            )

    def summary(self) -> dict[str, Any]:
        return {
            "ceiling": self.rate,
            "window_sim_s": self.window.total_seconds(),
            "proofs": self.proofs,
            "held_s": round(self.held_s, 1),
            "held_by": {k: round(v, 1) for k, v in sorted(self.held_by.items(), key=lambda kv: -kv[1])},
            "worst_lag_s": round(self.worst_lag_s, 2),
        }
