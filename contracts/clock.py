"""The one simulation clock: sim time = sim epoch + (real time − real anchor) × speed.

Every component builds it from the same three settings, so events carry comparable sim time
and detectors fire on sim time. Speed 1 with the epoch at the anchor is production time.

Compressed time magnifies every real delay: at speed 75,000 a 10 ms queue is 12 sim minutes.
So a component stamps an event with the sim time the model says it happened (a handoff's send
time, a task's planned completion) rather than the moment its process got round to it, bounded
to [now − max_lag_s × speed, now]: never in the future, and never further behind than a real
lag of `max_lag_s` seconds. At speed 1 that bound is five seconds, i.e. production behaviour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


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
        return (self.epoch + timedelta(seconds=(real - self.anchor) * self.speed)).astimezone(VN_TZ)

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
        """Real Unix time at which the clock shows `sim`."""
        return self.anchor + (sim - self.epoch).total_seconds() / self.speed
