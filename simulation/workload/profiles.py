"""Workload profiles as data: a new profile is a YAML file in scenarios/profiles/, not code.

A profile says the period, the province, volumes per flow, the arrival curve (a file in
scenarios/arrivals/), shares per flow (online, returned by post, fee paid online, needing
verification), the death chain's procedure and beneficiary mixes, the bad-data mix, and the
sim speed it runs at by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, Field, field_validator, model_validator

import scenarios
from contracts.calendar import WorkingCalendar
from contracts.chains import CHAIN_NAMES, load_chains
from contracts.config import ConfigError, Strict, read_yaml, validated
from contracts.dossiers import BENEFICIARY_TYPES, EXEMPT_REASONS
from contracts.identity import PROVINCE_CODES
from runtime import staffing
from services.lltp.domain import parse_issuers

SCENARIOS_DIR = scenarios.DIR
PROFILES_DIR = SCENARIOS_DIR / "profiles"
ARRIVALS_DIR = SCENARIOS_DIR / "arrivals"
STAFFING_DIR = SCENARIOS_DIR / "staffing"

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
    paid_on_national: float = 1.0
    """Of those paid online, the share paid on the National Public Service Portal; the rest on
    the province's own portal, which Decision 766's figures do not count."""
    vneid: float = 0.0
    """Of the dossiers submitted online, the share that came through the VNeID app."""
    vneid_from: date | None = None
    """The day the VNeID channel opened for this flow (Lâm Đồng's certificates: 01/11/2024);
    before it, none come through it."""
    fee_exempt: float = 0.0
    """Of the dossiers of a fee-bearing procedure (LLTP), the share exempt from the fee: people
    with merit, poor households and the other cases the fee rules exempt (a Tuyên Quang month:
    130 of 435 resolved, "130 hồ sơ miễn phí")."""
    verification: float = 0.0
    """Dossiers that need verification (the longer SLA)."""
    linked: float = 1.0
    """Of a birth or death flow's registrations, the share made through the linked procedure (Hà
    Tĩnh: "trên 90 %" of births, "gần 60 %" of deaths); the rest are standalone registrations,
    the civil-status step alone."""
    partner_elsewhere: float = 0.0
    """Of the marriages, the share whose partner lives in another commune, which confirms the
    partner's marital status (the rest live in the applicant's commune)."""
    partner_other_province: float = 0.0
    """Of those, the share whose partner lives in another province."""
    exempt_reasons: dict[str, float] = field(default_factory=dict)
    """Of the exempt dossiers, why, as weights over the fee rules' cases (contracts/dossiers.py,
    EXEMPT_REASONS); none: no reason given, as the reports count them."""


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
    volumes: dict[str, Annotated[int, Field(ge=0)]]
    shares: dict[str, Shares] = field(default_factory=dict)
    bad_data: dict[str, float] = field(default_factory=dict)
    arrival: str = "burst"
    speed: float = 20_000.0
    death_procedures: dict[int, float] = field(default_factory=lambda: {2: 0.5, 3: 0.4, 4: 0.1})
    """How many procedures applicants choose (2: death + residence; 3: + burial; 4: + survivor benefit)."""
    beneficiaries: dict[str, float] = field(default_factory=lambda: {"pensioner": 0.5, "social_protection": 0.5})
    """Who the deceased was, for the burial payer (applies when burial is chosen)."""
    lltp_issuer: str = "so_tu_phap"
    """Who issues LLTP certificates: one issuer, or each from its day on (`LT_LLTP_ISSUER`'s form,
    services/lltp/domain.py `parse_issuers`)."""
    carried_over: dict[str, int] = field(default_factory=dict)
    """Per flow, the dossiers still in progress when the period begins (the reports' "kỳ trước
    chuyển sang"): submitted after 15:00 on the last working day before it, so no office has
    touched them when it begins (simulation/workload/arrivals.py)."""
    quotas: bool = False
    """Shares as quotas, not draws: of a flow's first n dossiers (in submission order, those
    carried over first) exactly ⌊n × share⌋ have the attribute, so every count a report takes over
    a run of them holds its share exactly (simulation/workload/quotas.py)."""
    staffing: Path | None = None
    """The officers who take up the steps (`LT_STAFFING_FILE`, runtime/staffing.py): a file of
    scenarios/staffing/ by name, or a path; None: each step taken up on its own."""
    stamping_bound_s: float | None = None
    """Real seconds of processing lag a stamp may hide on this profile (`LT_SIM_MAX_LAG_S`;
    None: the settings' value). Raise it where the machine measurably trails by more: the cost is
    real-time alert latency (the monitor waits that much longer), never sim-time detection delay."""

    def expected(self, chain: str) -> int:
        """The dossiers the run submits on `chain`: the period's and those carried over into it."""
        return self.volumes.get(chain, 0) + self.carried_over.get(chain, 0)

    def share(self, chain: str) -> Shares:
        return self.shares.get(chain, Shares())

    @property
    def end(self) -> date:
        """The first day after the period."""
        return self.start + timedelta(days=self.days)

    @property
    def run_start(self) -> date:
        """The day the run's clock starts: the period's first, or with dossiers carried over, the
        last working day before it, when they are submitted."""
        if not any(self.carried_over.values()):
            return self.start
        calendar, day = WorkingCalendar(), self.start - timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
        return day


def available(directory: Path = PROFILES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load(name: str, directory: Path = PROFILES_DIR) -> Profile:
    """A shipped profile by name (`smoke`), or a profile file of your own (`PATH.yaml`)."""
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"{name}: no such profile file")
        return parse(read_yaml(path), path.stem, path)
    path = directory / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no profile {name!r}; available: {', '.join(available(directory))} (or a PATH.yaml)")
    return parse(read_yaml(path), name, path)


def _shares_in(keys: tuple[Any, ...], what: str) -> Callable[[dict[Any, float]], dict[Any, float]]:
    """A validator: every key one of `keys`, every value a share between 0 and 1."""

    def check(value: dict[Any, float]) -> dict[Any, float]:
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise ValueError(f"unknown {what} {unknown} (allowed: {', '.join(map(str, keys))})")
        if any(not 0 <= v <= 1 for v in value.values()):
            raise ValueError("every share must be between 0 and 1")
        return value

    return check


class SharesFile(Strict):
    online: float = Field(1.0, ge=0, le=1)
    post: float = Field(0.0, ge=0, le=1)
    fee_paid_online: float = Field(0.0, ge=0, le=1)
    paid_on_national: float = Field(1.0, ge=0, le=1)
    vneid: float = Field(0.0, ge=0, le=1)
    vneid_from: date | None = None
    fee_exempt: float = Field(0.0, ge=0, le=1)
    verification: float = Field(0.0, ge=0, le=1)
    linked: float = Field(1.0, ge=0, le=1)
    partner_elsewhere: float = Field(0.0, ge=0, le=1)
    partner_other_province: float = Field(0.0, ge=0, le=1)
    exempt_reasons: dict[str, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)

    @field_validator("exempt_reasons")
    @classmethod
    def _reasons(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(EXEMPT_REASONS))
        if unknown:
            raise ValueError(f"unknown exemption reasons {unknown}; known: {', '.join(EXEMPT_REASONS)}")
        return value


class PeriodFile(Strict):
    start: date
    days: int = Field(1, ge=1)


class ProfileFile(Strict):
    """A profile file as written (scenarios/profiles/NAME.yaml, or any PATH.yaml)."""

    name: str | None = None
    description: str = ""
    province: str
    period: PeriodFile
    volumes: dict[str, Annotated[int, Field(ge=0)]]
    shares: dict[str, SharesFile] = Field(default_factory=dict)
    bad_data: Annotated[dict[str, float], AfterValidator(_shares_in(BAD_DATA_KINDS, "bad-data kinds"))] = Field(
        default_factory=dict
    )
    arrival: str = "burst"
    speed: float = Field(20_000.0, gt=0)
    lltp_issuer: str | dict[date, str] = "so_tu_phap"
    """One issuer, or `{first day: issuer}` when the issuer changes during the period."""
    stamping_bound_s: float | None = Field(None, gt=0)
    carried_over: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    quotas: bool = False
    staffing: str | None = Field(None, min_length=1)
    """A staffing file: its name in scenarios/staffing/, or a PATH.yaml (relative to the profile's folder)."""
    death_procedures: dict[int, float] | None = None
    beneficiaries: (
        Annotated[dict[str, float], AfterValidator(_shares_in(BENEFICIARY_TYPES, "beneficiary types"))] | None
    ) = None

    @field_validator("province")
    @classmethod
    def _province(cls, value: str) -> str:
        if value not in PROVINCE_CODES:
            raise ValueError(f"unknown province code {value!r} (three digits, e.g. 042 for Hà Tĩnh)")
        return value

    @field_validator("volumes", "shares", "carried_over")
    @classmethod
    def _chains(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(CHAIN_NAMES))
        if unknown:
            raise ValueError(f"unknown chains {unknown} (allowed: {', '.join(CHAIN_NAMES)})")
        return value

    @field_validator("bad_data")
    @classmethod
    def _bad_total(cls, value: dict[str, float]) -> dict[str, float]:
        if sum(value.values()) > 0.5:
            raise ValueError("the shares add up to more than half of all dossiers")
        return value

    @field_validator("lltp_issuer")
    @classmethod
    def _issuer(cls, value: str | dict[date, str]) -> str | dict[date, str]:
        parse_issuers(_issuer_schedule(value))
        return value

    @model_validator(mode="after")
    def _issuer_from_the_start(self) -> ProfileFile:
        if isinstance(self.lltp_issuer, dict) and min(self.lltp_issuer) > self.period.start:
            raise ValueError(
                f"lltp_issuer: the first issuer's day {min(self.lltp_issuer)} is after the period's start "
                f"{self.period.start}; say who issues from the start"
            )
        return self

    @field_validator("death_procedures")
    @classmethod
    def _procedures(cls, value: dict[int, float] | None) -> dict[int, float] | None:
        if value is not None and not set(value) <= {2, 3, 4}:
            raise ValueError("keys are 2, 3 or 4 procedures")
        return value


def _issuer_schedule(value: str | dict[date, str]) -> str:
    if isinstance(value, str):
        return value
    return ",".join(f"{day.isoformat()}={issuer}" for day, issuer in sorted(value.items()))


def parse(doc: Any, name: str, source: str | Path | None = None) -> Profile:
    """A profile from a parsed YAML document; ConfigError names `source` (or the profile) and the key."""
    model = validated(ProfileFile, doc, source or f"profile {name}")
    try:
        load_curve(model.arrival)
    except ValueError as exc:
        raise ConfigError(f"{source or f'profile {name}'}: arrival: {exc}") from None
    defaults = Profile(name, "", model.province, model.period.start, model.period.days, {})
    staffing = None if model.staffing is None else staffing_file(model.staffing, source)
    return Profile(
        name=model.name or name,
        description=model.description,
        province=model.province,
        start=model.period.start,
        days=model.period.days,
        volumes=dict(model.volumes),
        shares={chain: Shares(**sh.model_dump()) for chain, sh in model.shares.items()},
        bad_data=dict(model.bad_data),
        arrival=model.arrival,
        speed=model.speed,
        death_procedures=dict(model.death_procedures) if model.death_procedures else defaults.death_procedures,
        beneficiaries=dict(model.beneficiaries) if model.beneficiaries else defaults.beneficiaries,
        lltp_issuer=_issuer_schedule(model.lltp_issuer),
        stamping_bound_s=model.stamping_bound_s,
        carried_over=dict(model.carried_over),
        quotas=model.quotas,
        staffing=staffing,
    )


def staffing_file(name: str, source: str | Path | None) -> Path:
    """The staffing file a profile names, read and checked against the chains now, so a bad one
    is refused before any service starts (ConfigError naming the file and the key)."""
    where = source or "profile"
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.is_absolute() and isinstance(source, Path):
            path = source.parent / path
    else:
        path = STAFFING_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in STAFFING_DIR.glob("*.yaml")))
        raise ConfigError(f"{where}: staffing: no staffing file {name!r} (shipped: {known}; or a PATH.yaml)")
    staffing.parse(read_yaml(path), load_chains(), path)
    return path.resolve()


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
