"""Workload profiles as data: a new profile is a YAML file in scenarios/profiles/, not code.

A profile says the period, the province, volumes per flow, the arrival curve (a file in
scenarios/arrivals/), shares per flow (online, returned by post, fee paid online, needing
verification), the death chain's procedure and beneficiary mixes, the bad-data mix, and the
sim speed it runs at by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

import scenarios
from contracts.chains import CHAIN_NAMES
from contracts.dossiers import BENEFICIARY_TYPES

SCENARIOS_DIR = scenarios.DIR
PROFILES_DIR = SCENARIOS_DIR / "profiles"
ARRIVALS_DIR = SCENARIOS_DIR / "arrivals"

BAD_DATA_KINDS = ("missing_id", "malformed_id", "identity_mismatch", "wrong_sex_or_year", "duplicate_submission")
"""docs/domain.md's data-quality failures; each is refused or flagged with a reason, never accepted silently."""
CHANNELS = ("online", "in_person")


@dataclass(frozen=True)
class Shares:
    online: float = 1.0
    post: float = 0.0
    """Results returned by public postal service."""
    fee_paid_online: float = 0.0
    """Of the fee-bearing dossiers submitted online, the share paid through the portal."""
    verification: float = 0.0
    """Dossiers that need verification (the longer SLA)."""


@dataclass(frozen=True)
class ArrivalCurve:
    """When dossiers arrive: hourly weights per channel, weights of non-working days, day-to-day spread."""

    name: str
    hourly: dict[str, dict[int, float]]
    non_working_day_weight: dict[str, float]
    day_variation: float = 0.0
    """Coefficient of variation of a day's volume (lognormal), so some days peak."""
    burst: bool = False
    """Everything at the period's first office hour, submitted as fast as the portal takes it."""


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
    speed: float = 20_000.0
    death_procedures: dict[int, float] = field(default_factory=lambda: {2: 0.5, 3: 0.4, 4: 0.1})
    """How many procedures applicants choose (2: death + residence; 3: + burial; 4: + survivor benefit)."""
    beneficiaries: dict[str, float] = field(default_factory=lambda: {"pensioner": 0.5, "social_protection": 0.5})
    """Who the deceased was, for the burial payer (applies when burial is chosen)."""
    lltp_issuer: str = "so_tu_phap"
    stamping_bound_s: float | None = None
    """Real seconds of processing lag a stamp may hide on this profile (`LT_SIM_MAX_LAG_S`;
    None: the settings' value). Raise it where the machine measurably trails by more: the cost is
    real-time alert latency (the monitor waits that much longer), never sim-time detection delay."""

    def expected(self, chain: str) -> int:
        return self.volumes.get(chain, 0)

    def share(self, chain: str) -> Shares:
        return self.shares.get(chain, Shares())

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.start + timedelta(days=self.days)


def available(directory: Path = PROFILES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load(name: str, directory: Path = PROFILES_DIR) -> Profile:
    """A shipped profile by name (`smoke`), or a profile file of your own (`PATH.yaml`)."""
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"{name}: no such profile file")
        return parse(yaml.safe_load(path.read_text(encoding="utf-8")), path.stem)
    path = directory / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no profile {name!r}; available: {', '.join(available(directory))} (or a PATH.yaml)")
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")), name)


def _fractions(raw: dict[Any, Any], what: str, keys: tuple[Any, ...] | None = None) -> dict[Any, float]:
    out = {k: float(v) for k, v in raw.items()}
    if keys is not None and not set(out) <= set(keys):
        raise ValueError(f"{what}: unknown keys {sorted(map(str, set(out) - set(keys)))}; known: {list(keys)}")
    if any(not 0 <= v <= 1 for v in out.values()):
        raise ValueError(f"{what}: every share must be between 0 and 1")
    return out


def parse(doc: dict[str, Any], name: str) -> Profile:
    try:
        volumes = {str(k): int(v) for k, v in doc["volumes"].items()}
        unknown = set(volumes) - set(CHAIN_NAMES)
        if unknown:
            raise ValueError(f"unknown chains {sorted(unknown)}")
        share_fields = {f.name for f in fields(Shares)}
        shares: dict[str, Shares] = {}
        for chain, raw in (doc.get("shares") or {}).items():
            _fractions(raw, f"shares.{chain}", tuple(share_fields))
            shares[str(chain)] = Shares(**{k: float(v) for k, v in raw.items()})
        bad = _fractions(doc.get("bad_data") or {}, "bad_data", BAD_DATA_KINDS)
        if sum(bad.values()) > 0.5:
            raise ValueError("bad_data: the shares add up to more than half of all dossiers")
        period = doc["period"]
        profile = Profile(
            name=str(doc.get("name", name)),
            description=str(doc.get("description", "")),
            province=str(doc["province"]),
            start=date.fromisoformat(str(period["start"])),
            days=int(period.get("days", 1)),
            volumes=volumes,
            shares=shares,
            bad_data=bad,
            arrival=str(doc.get("arrival", "burst")),
            speed=float(doc.get("speed", 20_000)),
            lltp_issuer=str(doc.get("lltp_issuer", "so_tu_phap")),
            stamping_bound_s=float(doc["stamping_bound_s"]) if "stamping_bound_s" in doc else None,
        )
        if "death_procedures" in doc:
            mix = {int(k): float(v) for k, v in doc["death_procedures"].items()}
            if not set(mix) <= {2, 3, 4}:
                raise ValueError("death_procedures: keys are 2, 3 or 4 procedures")
            profile = _replace(profile, death_procedures=mix)
        if "beneficiaries" in doc:
            profile = _replace(
                profile, beneficiaries=_fractions(doc["beneficiaries"], "beneficiaries", BENEFICIARY_TYPES)
            )
        if profile.days < 1 or profile.speed <= 0:
            raise ValueError("period.days must be at least 1 and speed positive")
        if profile.stamping_bound_s is not None and profile.stamping_bound_s <= 0:
            raise ValueError("stamping_bound_s must be positive")
        load_curve(profile.arrival)
        return profile
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"profile {name}: {exc}") from exc


def _replace(profile: Profile, **changes: Any) -> Profile:
    from dataclasses import replace

    return replace(profile, **changes)


def load_curve(name: str, directory: Path = ARRIVALS_DIR) -> ArrivalCurve:
    if name == "burst":
        return ArrivalCurve("burst", {}, {}, burst=True)
    path = directory / f"{name}.yaml"
    if not path.exists():
        known = ["burst", *sorted(p.stem for p in directory.glob("*.yaml"))]
        raise ValueError(f"no arrival curve {name!r}; available: {', '.join(known)}")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    hourly = {ch: {int(h): float(w) for h, w in doc["hourly"][ch].items()} for ch in CHANNELS}
    for ch, weights in hourly.items():
        if not weights or any(not 0 <= h <= 23 or w < 0 for h, w in weights.items()) or sum(weights.values()) <= 0:
            raise ValueError(f"arrival curve {name}: hourly.{ch} needs non-negative weights for hours 0–23")
    return ArrivalCurve(
        name=name,
        hourly=hourly,
        non_working_day_weight={ch: float(doc.get("non_working_day_weight", {}).get(ch, 0.0)) for ch in CHANNELS},
        day_variation=float(doc.get("day_variation", 0.0)),
    )
