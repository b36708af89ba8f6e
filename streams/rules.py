"""The monitor's rules as data (streams/rules.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from typing import Any

import yaml

from contracts.states import DossierState


@dataclass(frozen=True)
class Rules:
    link_timeout: timedelta = timedelta(minutes=30)
    state_limit_working_days: dict[str, float] = field(default_factory=dict)


def parse_rules(doc: dict[str, Any]) -> Rules:
    limits = {str(k): float(v) for k, v in (doc.get("state_limit_working_days") or {}).items()}
    unknown = set(limits) - {s.value for s in DossierState}
    if unknown:
        raise ValueError(f"monitor rules: unknown states {sorted(unknown)}")
    minutes = float(doc.get("link_timeout_minutes", 30))
    if minutes <= 0 or any(v <= 0 for v in limits.values()):
        raise ValueError("monitor rules: timeouts and limits must be positive")
    return Rules(link_timeout=timedelta(minutes=minutes), state_limit_working_days=limits)


def default_rules() -> Rules:
    return parse_rules(yaml.safe_load(resources.files("streams").joinpath("rules.yaml").read_text(encoding="utf-8")))
