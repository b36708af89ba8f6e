"""The vocabulary `lienthong score` judges with: which effects of the ground truth cause which
alerts, and the run's context (the monitor's rules, the calendar, the clock's speed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from contracts.alerts import AlertKind, Effect
from contracts.calendar import WorkingCalendar
from streams.rules import Rules

KINDS = tuple(AlertKind)
SHOWN = ("id", "kind", "subject", "dossier_id", "opened_at")
"""The fields of an alert listed as unexplained."""
IDENTITY_BAD_DATA = frozenset({"identity_mismatch", "wrong_sex_or_year"})
LOSING = frozenset({Effect.DROP})
DELAYING = frozenset(
    {
        Effect.DROP,
        Effect.DELAY,
        Effect.OUTAGE,
        Effect.SLOW,
        Effect.STALL,
        Effect.ERROR,
        Effect.TRANSFER_ERROR,
        Effect.REJECT,
        Effect.DUPLICATE,
        Effect.REORDER,
    }
)
LINK_ERRORS = frozenset({Effect.REJECT, Effect.TRANSFER_ERROR, Effect.ERROR, Effect.PAYMENT_FAILED})
PROCESS = frozenset({Effect.KILL, Effect.FREEZE, Effect.DROP_CONNECTIONS})
MEASURED = frozenset({Effect.IN_FLIGHT})
"""What the harness measured about a process fault, not a fault of its own."""
RETRY_EVERY = {Effect.REJECT: timedelta(minutes=20), Effect.TRANSFER_ERROR: timedelta(minutes=30)}
"""How often the senders retried (simulation/faults/inject.py), to rebuild a link's failures."""


@dataclass(frozen=True)
class Context:
    rules: Rules
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    speed: float = 1.0
    heartbeat_s: float = 1.0
    tick_s: float = 0.5
    judge_lag_s: float = 0.0
    """Real seconds the monitor judges deadlines behind the clock: the stamping bound and the
    relay's allowance (streams/watermark.py); in sim time at `speed`."""

    @property
    def silence(self) -> timedelta:
        return timedelta(seconds=3 * self.heartbeat_s * self.speed)

    @property
    def judging_lag(self) -> timedelta:
        return timedelta(seconds=self.judge_lag_s * self.speed)

    @property
    def tick(self) -> timedelta:
        return timedelta(seconds=self.tick_s * self.speed)


def plain(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v
