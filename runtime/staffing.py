"""Officers and their queues, as data: who takes up a step's dossiers, how many of them there are
per unit, their hours, and how long one dossier takes each of them. Pure: the file is validated
into typed models and the queue's arithmetic is a function, tested without a clock.

A staffing file (`LT_STAFFING_FILE`; a profile names one, scenarios/staffing/) lists desks. A
desk serves one step of one chain (the one-stop intake of judicial-record requests at the
province's public administration centre, say) with `officers` per unit: the province, each
district or each commune, as `level` says. A dossier received at the desk waits for the first
officer of its unit to be free, first come first served; the officer takes it up then (its
`step.started`) and is busy for a triangular draw of `service_minutes`, in the officer's
`hours` of each working day. The step's own office time (`work_hours` in the chain data: checks
with other bodies, signing) runs from that moment, so a queue shows as the wait between a
step's receipt and its start; a desk whose `service_is_the_work` completes the step when the
officer is done instead. Steps with no desk are taken up as before, each on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from contracts.calendar import OFFICE_CLOSE, OFFICE_OPEN, WorkingCalendar
from contracts.chains import Chain
from contracts.citations import SourceFile
from contracts.config import ConfigError, Strict, read_yaml, validated

Level = Literal["province", "district", "commune"]
PROVINCE_UNIT = "tỉnh"
"""The unit key of a province-level desk (one queue for the whole province)."""


class DeskFile(Strict):
    chain: str
    step: str
    label_vi: str = Field(min_length=3)
    """Who the officers are, as an officer calls the desk (the console and the run's summary)."""
    level: Level
    officers: Annotated[int, Field(ge=1, le=500)]
    """Officers on duty per unit."""
    units: dict[str, Annotated[int, Field(ge=1, le=500)]] = Field(default_factory=dict)
    """Per unit code (a district's or a commune's), a count other than `officers`."""
    hours: tuple[time, time] = (OFFICE_OPEN, OFFICE_CLOSE)
    """The officers' shift inside the office day."""
    service_minutes: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]]
    """An officer's own time on one dossier: (min, most likely, max) minutes of a triangular draw."""
    service_is_the_work: bool = False
    """The officer's minutes are the step's whole office time: it completes when the officer is
    done, with no `work_hours` after (a desk whose officers are the step's only pace)."""
    source: SourceFile
    """Where the staffing comes from (a report's words), or why the figure is assumed."""
    assumption: str | None = Field(None, min_length=12)
    """What the desk's figures assume beyond the source (no report times an officer's minutes)."""

    @field_validator("service_minutes")
    @classmethod
    def _ordered(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not value[0] <= value[1] <= value[2]:
            raise ValueError("service_minutes is [min, most likely, max], in that order")
        return value

    @field_validator("units")
    @classmethod
    def _codes(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(code for code in value if not code.isdigit())
        if bad:
            raise ValueError(f"unit codes are digits (a district's or a commune's code), got {bad}")
        return value

    @model_validator(mode="after")
    def _shift(self) -> DeskFile:
        opens, closes = self.hours
        if not OFFICE_OPEN <= opens < closes <= OFFICE_CLOSE:
            raise ValueError(f"hours: a shift inside the office day {OFFICE_OPEN:%H:%M}–{OFFICE_CLOSE:%H:%M}")
        if self.level == "province" and self.units:
            raise ValueError("units: a province-level desk has one queue; give `officers`")
        return self


class StaffingFile(Strict):
    description: str = Field(min_length=3)
    desks: list[DeskFile] = Field(min_length=1)


@dataclass(frozen=True)
class Desk:
    chain: str
    step: str
    label_vi: str
    level: Level
    officers: int
    hours: tuple[time, time]
    service_minutes: tuple[float, float, float]
    units: Mapping[str, int] = field(default_factory=dict)
    service_is_the_work: bool = False

    @property
    def name(self) -> str:
        """The desk's key in the agency's tables: `chain/step`."""
        return f"{self.chain}/{self.step}"

    def unit_of(self, area: Mapping[str, Any]) -> str:
        """The unit whose officers take up a dossier of `area` (the step's: contracts/chains.py,
        `Step.area`): the province, or its district or commune (after the 2025 reform a dossier
        has no district: its commune's officers serve it)."""
        if self.level == "province":
            return PROVINCE_UNIT
        if self.level == "district" and area.get("district"):
            return str(area["district"])
        return str(area.get("commune") or PROVINCE_UNIT)

    def officers_at(self, unit: str) -> int:
        return self.units.get(unit, self.officers)


@dataclass(frozen=True)
class Staffing:
    desks: tuple[Desk, ...] = ()

    def desk(self, chain: str, step: str) -> Desk | None:
        return next((d for d in self.desks if d.chain == chain and d.step == step), None)

    def of_agency(self, agency: str, chains: Mapping[str, Chain]) -> Staffing:
        """The desks whose step `agency` runs."""
        return Staffing(tuple(d for d in self.desks if chains[d.chain].step(d.step).agency == agency))


NO_STAFFING = Staffing()


def parse(doc: Any, chains: Mapping[str, Chain], source: str | Path) -> Staffing:
    """A staffing file's content, checked against the chains; ConfigError names `source` and the key."""
    model = validated(StaffingFile, doc, source)
    seen: set[tuple[str, str]] = set()
    desks = []
    for i, d in enumerate(model.desks):
        where = f"{source}: desks.{i}"
        chain = chains.get(d.chain)
        if chain is None:
            raise ConfigError(f"{where}.chain: no chain {d.chain!r} (known: {', '.join(sorted(chains))})")
        names = [s.name for s in chain.steps]
        if d.step not in names:
            raise ConfigError(f"{where}.step: chain {d.chain} has no step {d.step!r} (its steps: {', '.join(names)})")
        if chain.step(d.step).work_hours is None:
            raise ConfigError(f"{where}.step: {d.chain}/{d.step} runs at once, with no office work to queue for")
        if (d.chain, d.step) in seen:
            raise ConfigError(f"{where}: a second desk for {d.chain}/{d.step}")
        seen.add((d.chain, d.step))
        desks.append(
            Desk(
                d.chain,
                d.step,
                d.label_vi,
                d.level,
                d.officers,
                d.hours,
                d.service_minutes,
                dict(d.units),
                d.service_is_the_work,
            )
        )
    return Staffing(tuple(desks))


def load(path: Path | None, chains: Mapping[str, Chain]) -> Staffing:
    """The staffing file at `path` (None: no desks, every step taken up on its own)."""
    if path is None:
        return NO_STAFFING
    if not path.is_file():
        raise ConfigError(f"LT_STAFFING_FILE: no such file {path}")
    return parse(read_yaml(path), chains, path)


@dataclass(frozen=True)
class Taken:
    """One dossier taken up at a desk."""

    officer: int
    """Which of the unit's officers (0-based)."""
    at: datetime
    released_at: datetime
    """When the officer is free again."""
    service_hours: float = 0.0
    """The officer's time on it, in shift hours."""


Busy = Sequence[tuple[datetime, datetime]]
"""An officer's promised work: (taken up, free again) of each dossier, in time order."""


def first_free(
    busy: Busy, ready: datetime, service_hours: float, calendar: WorkingCalendar, hours: tuple[time, time]
) -> datetime:
    """The first moment from `ready` an officer with `busy` work can give `service_hours` of
    shift time without breaking into what they already promised."""
    opens, closes = hours
    at = calendar.add_working_hours(ready, 0.0, opens, closes)
    for taken, released in busy:
        if released <= at:
            continue
        if calendar.add_working_hours(at, service_hours, opens, closes) <= taken:
            return at
        at = calendar.add_working_hours(max(at, released), 0.0, opens, closes)
    return at


def take_up(
    busy: Sequence[Busy],
    ready: datetime,
    service_hours: float,
    calendar: WorkingCalendar,
    hours: tuple[time, time] = (OFFICE_OPEN, OFFICE_CLOSE),
) -> Taken:
    """The officer who can start soonest (the lowest number on a tie) takes up a dossier ready to
    be worked on at `ready` (`calendar.begin_work` of its receipt), at the first moment from then
    that fits `service_hours` of shift time into their day. `assign` (runtime/officers.py) calls it
    in the order of receipt, moving back those not yet taken up that a dossier read late goes
    ahead of; one read late still takes a free moment after it was ready, if one fits, rather than
    a place behind dossiers received after it. `busy[i]` is officer i's promised work."""
    if not busy:
        raise ValueError("a desk has at least one officer")
    opens, closes = hours
    starts = [first_free(b, ready, service_hours, calendar, hours) for b in busy]
    officer = min(range(len(starts)), key=lambda i: (starts[i], i))
    at = starts[officer]
    return Taken(officer, at, calendar.add_working_hours(at, service_hours, opens, closes), service_hours)
