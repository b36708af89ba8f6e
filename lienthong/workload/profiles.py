"""Workload profiles as data: a new profile is a YAML file, not code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from contracts.chains import CHAIN_NAMES

PROFILES_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "profiles"


@dataclass(frozen=True)
class Shares:
    online: float = 1.0
    post: float = 0.0
    fee_paid_online: float = 0.0


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    province: str
    start: date
    days: int
    volumes: dict[str, int]
    shares: dict[str, Shares] = field(default_factory=dict)
    bad_data: dict[str, float] = field(default_factory=dict)
    arrival: str = "burst"

    def expected(self, chain: str) -> int:
        return self.volumes.get(chain, 0)


def available() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load(name: str, directory: Path = PROFILES_DIR) -> Profile:
    path = directory / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no profile {name!r}; available: {', '.join(available())}")
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")), name)


def parse(doc: dict[str, Any], name: str) -> Profile:
    try:
        volumes = {str(k): int(v) for k, v in doc["volumes"].items()}
        unknown = set(volumes) - set(CHAIN_NAMES)
        if unknown:
            raise ValueError(f"unknown chains {sorted(unknown)}")
        shares = {str(k): Shares(**v) for k, v in (doc.get("shares") or {}).items()}
        period = doc["period"]
        return Profile(
            name=str(doc.get("name", name)),
            description=str(doc.get("description", "")),
            province=str(doc["province"]),
            start=date.fromisoformat(str(period["start"])),
            days=int(period.get("days", 1)),
            volumes=volumes,
            shares=shares,
            bad_data={str(k): float(v) for k, v in (doc.get("bad_data") or {}).items()},
            arrival=str(doc.get("arrival", "burst")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"profile {name}: {exc}") from exc
