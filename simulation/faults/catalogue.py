"""The fault catalogue and fault scenarios as data (scenarios/faults/): parsed and checked here;
a scenario names the faults to inject in a run. Injection itself happens through the platform's
simulation port (simulation/port.py) and the run's process controller; this module only says
what each fault is. An unknown key, a bad value or an inline fault in a scenario is refused
naming the file and the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

import scenarios
from contracts.config import ConfigError, Strict, read_yaml, validated
from contracts.states import DossierState
from contracts.topics import AGENCIES

FAULTS_DIR = scenarios.DIR / "faults"
PROCESSES = (*AGENCIES, "monitor", "broker", "postgres")
REPLICATED = (*AGENCIES, "monitor")
"""Processes that may run replicas; `NAME-N` (e.g. `hotich-2`) targets the N-th."""


def known_process(value: str) -> bool:
    base, _, number = value.rpartition("-")
    return value in PROCESSES or (number.isdigit() and int(number) >= 2 and base in REPLICATED)


EFFECTS: dict[str, tuple[str, ...]] = {
    # effect kind → the parameters it takes
    "outage": (),
    "transfer_error": ("retries",),
    "payment_failed": (),
    "slow": ("extra_hours",),
    "error": ("retry_hours",),
    "drop": (),
    "delay": ("delay_days",),
    "reject": (),
    "stall": ("state", "extra_days"),
    "duplicate": (),
    "reorder": (),
    "kill": (),
    "drop_connections": (),
}
PROCESS_EFFECTS = frozenset({"kill", "drop_connections"})


@dataclass(frozen=True)
class Fault:
    name: str
    cites: str
    """The docs/domain.md line the fault models."""
    target: dict[str, str]
    effect: str
    params: dict[str, Any] = field(default_factory=dict)
    rate: float | None = None
    window: dict[str, float] | None = None

    @property
    def link(self) -> tuple[str, str] | None:
        if "link" not in self.target:
            return None
        sender, receiver = self.target["link"].split("->")
        return sender, receiver


class WindowFile(Strict):
    at: float = Field(ge=0, le=1)
    """When the window opens, as a share of the period."""
    days: float = Field(0.0, ge=0)


class FaultFile(Strict):
    """One fault as the catalogue writes it (what each effect takes is checked below)."""

    cites: str = Field(min_length=1)
    target: dict[str, str]
    effect: dict[str, Any]
    rate: float | None = Field(None, gt=0, le=1)
    window: WindowFile | None = None


class CatalogueFile(Strict):
    faults: dict[str, FaultFile]


class ScenarioFile(Strict):
    """A fault scenario: `faults: all` (less those under `except`), or a list of catalogue names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = None
    faults: Literal["all"] | list[str]
    except_: list[str] = Field(default_factory=list, alias="except")

    @field_validator("faults", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if value == "all" or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise ValueError(
            "a list of fault names from the catalogue, or `all`; a fault is defined in catalogue.yaml, not inline"
        )


def _parse_fault(name: str, model: FaultFile) -> Fault:
    raw = model.model_dump()
    cites = model.cites.strip()
    if not cites:
        raise ValueError("cites: every fault names the docs/domain.md line it models")
    target = dict(model.target)
    if len(target) != 1 or next(iter(target)) not in ("agency", "link", "process"):
        raise ValueError("target: exactly one of agency, link (from->to) or process")
    kind, value = next(iter(target.items()))
    if kind == "agency" and value not in AGENCIES:
        raise ValueError(f"target: unknown agency {value!r}")
    if kind == "link":
        ends = value.split("->")
        if len(ends) != 2 or not set(ends) <= set(AGENCIES):
            raise ValueError(f"target: a link is 'from->to' between known agencies, got {value!r}")
    if kind == "process" and not known_process(value):
        raise ValueError(
            f"target: unknown process {value!r}; known: {', '.join(PROCESSES)}, or a replica such as hotich-2"
        )
    effect = dict(raw.get("effect") or {})
    kind_of_effect = str(effect.pop("kind", ""))
    if kind_of_effect not in EFFECTS:
        raise ValueError(f"effect: unknown kind {kind_of_effect!r}; known: {', '.join(EFFECTS)}")
    if (kind == "process") != (kind_of_effect in PROCESS_EFFECTS):
        raise ValueError(f"effect {kind_of_effect} does not apply to a {kind}")
    unknown = set(effect) - set(EFFECTS[kind_of_effect])
    if unknown:
        raise ValueError(f"effect {kind_of_effect}: unknown parameters {sorted(unknown)}")
    if "state" in effect and effect["state"] not in {s.value for s in DossierState}:
        raise ValueError(f"effect: unknown state {effect['state']!r}")
    for key in ("retries", "extra_hours", "retry_hours", "delay_days", "extra_days"):
        if key in effect:
            lo, hi = (float(v) for v in effect[key])
            if not 0 <= lo <= hi:
                raise ValueError(f"effect {key}: [min, max] with 0 ≤ min ≤ max")
    rate = model.rate
    if (rate is None) == (model.window is None):
        raise ValueError("give a rate or a window, not both")
    parsed_window = raw["window"]
    return Fault(
        name=name,
        cites=cites,
        target=target,
        effect=kind_of_effect,
        params=effect,
        rate=rate,
        window=parsed_window,
    )


def parse_catalogue(doc: Any, source: str | Path = "fault catalogue") -> dict[str, Fault]:
    faults = {}
    for name, model in validated(CatalogueFile, doc, source).faults.items():
        try:
            faults[name] = _parse_fault(name, model)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: faults.{name}: {exc}") from None
    return faults


def load_catalogue(directory: Path = FAULTS_DIR) -> dict[str, Fault]:
    path = directory / "catalogue.yaml"
    return parse_catalogue(read_yaml(path), path)


def available_scenarios(directory: Path = FAULTS_DIR) -> list[str]:
    return sorted(p.stem for p in (directory / "scenarios").glob("*.yaml"))


def load_scenario(name: str, directory: Path = FAULTS_DIR) -> list[Fault]:
    """The faults a scenario injects: `faults: all` (less those under `except`), or a list of
    catalogue names."""
    path = directory / "scenarios" / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no fault scenario {name!r}; available: {', '.join(available_scenarios(directory))}")
    catalogue = load_catalogue(directory)
    scenario = validated(ScenarioFile, read_yaml(path), path)
    known = f"(see {directory / 'catalogue.yaml'})"
    if scenario.faults == "all":
        unknown = [n for n in scenario.except_ if n not in catalogue]
        if unknown:
            raise ConfigError(f"{path}: except: unknown faults {unknown} {known}")
        return [f for n, f in catalogue.items() if n not in scenario.except_]
    if scenario.except_:
        raise ConfigError(f"{path}: except: only with `faults: all`")
    unknown = [n for n in scenario.faults if n not in catalogue]
    if unknown:
        raise ConfigError(f"{path}: faults: unknown faults {unknown} {known}")
    return [catalogue[n] for n in scenario.faults]
