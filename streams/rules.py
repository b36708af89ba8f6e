"""The monitor's rules as data (streams/rules.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import Any

import yaml

from contracts.states import DossierState

TICK_S = 0.5
"""Real seconds between the monitor's deadline checks: the resolution of its alerts."""
RELAY_ALLOWANCE_S = 2.0
"""Real seconds an event may wait in its producer's outbox after its transaction commits."""


def judge_lag_s(sim_max_lag_s: float) -> float:
    """Real seconds the monitor judges deadlines behind the clock (streams/watermark.py): an event
    is produced at most the stamping bound plus the relay's allowance after its stamp."""
    return sim_max_lag_s + RELAY_ALLOWANCE_S


@dataclass(frozen=True)
class Rules:
    link_timeout: timedelta = timedelta(minutes=30)
    state_limit_working_days: dict[str, float] = field(default_factory=dict)
    link_window: timedelta = timedelta(hours=1)
    link_error_rate: float = 0.2
    link_min_samples: int = 3


def parse_rules(doc: dict[str, Any]) -> Rules:
    limits = {str(k): float(v) for k, v in (doc.get("state_limit_working_days") or {}).items()}
    unknown = set(limits) - {s.value for s in DossierState}
    if unknown:
        raise ValueError(f"monitor rules: unknown states {sorted(unknown)}")
    minutes = float(doc.get("link_timeout_minutes", 30))
    if minutes <= 0 or any(v <= 0 for v in limits.values()):
        raise ValueError("monitor rules: timeouts and limits must be positive")
    link = doc.get("link_errors") or {}
    rate = float(link.get("rate", 0.2))
    if not 0 < rate <= 1:
        raise ValueError("monitor rules: link_errors.rate is a share between 0 and 1")
    return Rules(
        link_timeout=timedelta(minutes=minutes),
        state_limit_working_days=limits,
        link_window=timedelta(minutes=float(link.get("window_minutes", 60))),
        link_error_rate=rate,
        link_min_samples=int(link.get("min_samples", 3)),
    )


def default_rules() -> Rules:
    return parse_rules(yaml.safe_load(resources.files("streams").joinpath("rules.yaml").read_text(encoding="utf-8")))
