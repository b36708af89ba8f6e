"""Stamping a model time, measured: how far real processing trailed the model at each stamp.

`SimClock.stamp` hides up to `LT_SIM_MAX_LAG_S` real seconds of processing lag (see
contracts/clock.py). Past that bound a stamp is clamped: the event is recorded later than the
model says it happened, and a deadline it should have met can look missed. That is this
machine falling behind, not the simulated agencies, so it must be visible: every process
counts its clamped stamps and keeps its worst lag (`/healthz`, `/metrics`), warns in its log,
and `lienthong run` reports both over all services at the end of a run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from prometheus_client import Counter, Histogram

from contracts.clock import SimClock

log = structlog.get_logger()

STAMP_LAG = Histogram(
    "lienthong_stamp_lag_seconds",
    "Real seconds between the model time of an event and the moment it was stamped",
    ["agency"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40),
)
CLAMPED = Counter(
    "lienthong_stamps_clamped_total",
    "Stamps moved later than their model time because processing trailed by more than the bound",
    ["agency"],
)
RECENT_S = 2.0
"""Real seconds over which the recent lag (what a governed run's governor watches) is the worst."""
WARN_EVERY_S = 10.0
"""Real seconds between two warnings about clamped stamps (the first one is immediate)."""


@dataclass
class Stamper:
    """`clock.stamp`, plus the lag it hid or could not hide."""

    clock: SimClock
    agency: str
    worst_s: float = 0.0
    """The largest lag seen since this process started, in real seconds."""
    clamped: int = 0
    _warned_at: float = field(default=float("-inf"), repr=False)
    _bucket: int = field(default=0, repr=False)
    _bucket_worst: float = field(default=0.0, repr=False)
    _previous_worst: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        # Called for every event: the labelled children once, not a label lookup per stamp.
        self._lag = STAMP_LAG.labels(self.agency)
        self._clamped = CLAMPED.labels(self.agency)

    def __call__(self, model: datetime) -> datetime:
        now = self.clock.now()
        lag = (now - model).total_seconds() / self.clock.speed
        if lag > 0:
            self._lag.observe(lag)
            self._note(lag, time.monotonic())
            self.worst_s = max(self.worst_s, lag)
            if lag > self.clock.max_lag_s:
                self.clamped += 1
                self._clamped.inc()
                real = time.monotonic()
                if real - self._warned_at >= WARN_EVERY_S:
                    self._warned_at = real
                    log.warning(
                        "processing trails the model by more than the stamping bound; "
                        "alerts on these events may come from this machine's lag",
                        lag_s=round(lag, 2),
                        bound_s=self.clock.max_lag_s,
                        clamped=self.clamped,
                    )
        return self.clock.stamp(model, now)

    def _note(self, lag: float, real: float) -> None:
        bucket = int(real // RECENT_S)
        if bucket != self._bucket:
            self._previous_worst = self._bucket_worst if bucket == self._bucket + 1 else 0.0
            self._bucket, self._bucket_worst = bucket, 0.0
        self._bucket_worst = max(self._bucket_worst, lag)

    def recent_s(self, real: float | None = None) -> float:
        """The worst lag of the last `RECENT_S` to `2 × RECENT_S` real seconds (0 when nothing
        was stamped late meanwhile)."""
        bucket = int((time.monotonic() if real is None else real) // RECENT_S)
        if bucket == self._bucket:
            return max(self._bucket_worst, self._previous_worst)
        return self._bucket_worst if bucket == self._bucket + 1 else 0.0

    def status(self) -> dict[str, float | int]:
        return {
            "stamp_lag_max_s": round(self.worst_s, 3),
            "stamp_lag_recent_s": round(self.recent_s(), 3),
            "stamps_clamped": self.clamped,
        }
