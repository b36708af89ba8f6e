"""The one simulation clock: sim time = sim epoch + (real time − real anchor) × speed.

Every component builds it from the same three settings, so events carry comparable sim time
and detectors fire on sim time. Speed 1 with the epoch at the anchor is production time.

Compressed time magnifies every real delay: at speed 75,000 a 10 ms queue is 12 sim minutes.
So a component stamps an event with the sim time the model says it happened (a handoff's send
time, a task's planned completion) rather than the moment its process got round to it, bounded
to [now − max_lag_s × speed, now]: never in the future, and never further behind than a real
lag of `max_lag_s` seconds. At speed 1 that bound is five seconds, i.e. production behaviour.

A governed run (simulation/governor.py) changes the clock's rate while it runs: when the machine
falls behind, it slows or pauses sim time, and speeds up again once every component caught up.
The changes are `Segment`s, read from a shared source that every process polls; each starts a
little in the future, so every process has it before it applies and no clock steps backwards.
`speed` stays the ceiling: the bounds derived from it (the stamping floor, the monitor's lag) are
the widest the run ever needs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


@dataclass(frozen=True, slots=True)
class Segment:
    """From real time `anchor` on, sim time runs from `epoch` at `speed` (0: paused)."""

    anchor: float
    epoch: datetime
    speed: float

    def at(self, real: float) -> datetime:
        return (self.epoch + timedelta(seconds=(real - self.anchor) * self.speed)).astimezone(VN_TZ)


SegmentSource = Callable[[], Sequence[Segment]]
"""The governor's segments, oldest first (an empty sequence: the clock's own rate)."""


@dataclass(frozen=True)
class SimClock:
    epoch: datetime
    """Sim time at the real anchor; always timezone-aware."""
    anchor: float
    """Real Unix time (seconds) at which sim time was `epoch`."""
    speed: float = 1.0
    max_lag_s: float = 5.0
    """Real seconds of processing lag a model timestamp may hide (see the module docstring)."""
    real_time: Callable[[], float] = field(default=time.time, compare=False, repr=False)
    segments: SegmentSource | None = field(default=None, compare=False, repr=False)
    """Where a governed run's rate changes are read (None: a steady clock)."""

    def __post_init__(self) -> None:
        if self.epoch.tzinfo is None:
            raise ValueError("sim epoch must be timezone-aware")
        if self.speed <= 0:
            raise ValueError(f"sim speed must be positive, got {self.speed}")

    @classmethod
    def production(cls) -> SimClock:
        now = time.time()
        return cls(epoch=datetime.fromtimestamp(now, VN_TZ), anchor=now, speed=1.0)

    def now(self) -> datetime:
        return self.at(self.real_time())

    def at(self, real: float) -> datetime:
        for seg in reversed(self._segments()):
            if seg.anchor <= real:
                return seg.at(real)
        return (self.epoch + timedelta(seconds=(real - self.anchor) * self.speed)).astimezone(VN_TZ)

    def _segments(self) -> Sequence[Segment]:
        return () if self.segments is None else self.segments()

    def stamp(self, model: datetime, now: datetime | None = None) -> datetime:
        """The sim time to record for something the model says happened at `model` (`now`: the
        clock's reading, when the caller already took it)."""
        now = self.now() if now is None else now
        floor = now - timedelta(seconds=self.max_lag_s * self.speed)
        return min(max(model.astimezone(VN_TZ), floor), now)

    def real_seconds(self, sim_seconds: float) -> float:
        """How long a sim duration lasts in real seconds."""
        return sim_seconds / self.speed

    def real_at(self, sim: datetime) -> float:
        """Real Unix time at which the clock shows `sim`, as far as the rate is known now (a
        governed clock may change it: wait in short steps and ask again); infinity while paused
        before `sim`."""
        segs = self._segments()
        for i, seg in reversed(list(enumerate(segs))):
            # Before the run's start (the services start ahead of it), sim time follows the
            # clock's own line, as `at` does: a beat due then is not held until the start.
            if seg.epoch <= sim or (i == 0 and sim >= self.epoch):
                if seg.speed == 0:
                    return seg.anchor if sim <= seg.epoch else math.inf
                return seg.anchor + (sim - seg.epoch).total_seconds() / seg.speed
        return self.anchor + (sim - self.epoch).total_seconds() / self.speed
