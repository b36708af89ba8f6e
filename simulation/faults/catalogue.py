"""The fault catalogue and fault scenarios as data (scenarios/faults/): parsed and checked here.

A scenario names catalogue faults (`faults: all` less `except`, or a list), may `override` a
named fault's rate, window or target, and may `define` faults of its own, in the catalogue's
form: composing a new mix never edits the shared catalogue. A target is an agency, a link or a
process, optionally narrowed to some communes (`communes: [...]`) or a seeded share of them
(`commune_share`). A window opens at a share of the period (`at`) or on a date (`from`) and lasts
calendar days (`days`), working days on the Vietnamese calendar (`working_days`) or up to a date
(`to`, included). Injection itself happens through the platform's simulation port
(simulation/port.py) and the run's process controller; this module only says what each fault is.
An unknown key or a bad value is refused naming the file and the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

import scenarios
from contracts.chains import load_chains
from contracts.citations import SourceFile
from contracts.config import ConfigError, Strict, read_yaml, validated
from contracts.dossiers import CHANNELS
from contracts.states import DossierState
from contracts.topics import AGENCIES

FAULTS_DIR = scenarios.DIR / "faults"
PROCESSES = (*AGENCIES, "monitor", "dashboard", "broker", "postgres")
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
    "delay": ("delay_days", "delay_working_days"),
    "reject": (),
    "stall": ("state", "extra_days"),
    "duplicate": (),
    "reorder": (),
    "kill": (),
    "freeze": ("seconds",),
    "drop_connections": (),
    "unsynced": ("delay_working_days",),
}
PROCESS_EFFECTS = frozenset({"kill", "freeze", "drop_connections"})
AGENCY_WIDE_EFFECTS = frozenset({"outage", "payment_failed"})
"""Effects on a whole agency at once, with no dossier to place in a commune."""
REGISTERS = frozenset({"dancu"})
"""Systems the agencies ask rather than hand dossiers to (the population database): a fault on
one is on its answers (outage, slow) or its records (`unsynced`), never narrowed to communes."""


@dataclass(frozen=True)
class Window:
    """When a window fault is in force (see the module docstring); placed in sim time by
    simulation/faults/inject.py, which knows the run's period and calendar."""

    at: float | None = None
    start: date | None = None
    days: float | None = None
    working_days: int | None = None
    to: date | None = None


@dataclass(frozen=True)
class Fault:
    name: str
    cites: str
    """The docs/domain.md line the fault models."""
    target: dict[str, str]
    """Exactly one of agency, link or process."""
    effect: str
    params: dict[str, Any] = field(default_factory=dict)
    rate: float | None = None
    window: Window | None = None
    communes: frozenset[str] | None = None
    """Only dossiers submitted in these communes (the area's `commune`)."""
    commune_share: float | None = None
    """Only dossiers of a seeded share of the communes."""
    channels: frozenset[str] | None = None
    """Only dossiers submitted through these channels (e.g. the VNeID app)."""
    steps: frozenset[str] | None = None
    """Only these steps of the targeted agency (its office work; e.g. the one-stop desk's intake)."""

    @property
    def link(self) -> tuple[str, str] | None:
        if "link" not in self.target:
            return None
        sender, receiver = self.target["link"].split("->")
        return sender, receiver


class WindowFile(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    at: float | None = Field(None, ge=0, le=1)
    """When the window opens, as a share of the period."""
    from_: date | None = Field(None, alias="from")
    """Or the day it opens (at 00:00)."""
    days: float | None = Field(None, ge=0)
    working_days: int | None = Field(None, ge=1)
    to: date | None = None
    """The last day in force (included); only with `from`."""

    @model_validator(mode="after")
    def _one_way(self) -> WindowFile:
        if (self.at is None) == (self.from_ is None):
            raise ValueError("a window opens at a share of the period (`at`) or on a date (`from`), one of them")
        lengths = [k for k in ("days", "working_days", "to") if getattr(self, k) is not None]
        if len(lengths) > 1:
            raise ValueError(f"a window lasts `days`, `working_days` or until `to`, one of them (got {lengths})")
        if self.to is not None and (self.from_ is None or self.to < self.from_):
            raise ValueError("`to` needs `from`, and is not before it")
        return self


class TargetFile(Strict):
    agency: str | None = None
    link: str | None = None
    """`from->to` between known agencies."""
    process: str | None = None
    communes: list[str] | None = Field(None, min_length=1)
    commune_share: float | None = Field(None, gt=0, le=1)
    channels: list[str] | None = Field(None, min_length=1)
    steps: list[str] | None = Field(None, min_length=1)

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channels {unknown} (allowed: {', '.join(CHANNELS)})")
        return value


class FaultFile(Strict):
    """One fault as the catalogue writes it (what each effect takes is checked below)."""

    cites: str = Field(min_length=1)
    source: SourceFile | None = None
    target: TargetFile
    effect: dict[str, Any]
    rate: float | None = Field(None, gt=0, le=1)
    window: WindowFile | None = None


class CatalogueFile(Strict):
    faults: dict[str, FaultFile]


class OverrideFile(Strict):
    """What a scenario may change of a catalogue fault; a rate replaces a window and back."""

    rate: float | None = Field(None, gt=0, le=1)
    window: WindowFile | None = None
    target: TargetFile | None = None


class ScenarioFile(Strict):
    """A fault scenario: catalogue faults by name (`all` less `except`, or a list), overrides of
    their rate, window or target, and faults of its own (`define`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str | None = None
    faults: Literal["all"] | list[str] = Field(default_factory=list)
    except_: list[str] = Field(default_factory=list, alias="except")
    override: dict[str, OverrideFile] = Field(default_factory=dict)
    define: dict[str, FaultFile] = Field(default_factory=dict)

    @field_validator("faults", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if value == "all" or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise ValueError(
            "a list of fault names from the catalogue, or `all`; a scenario's own faults go under `define`"
        )


def _parse_fault(name: str, model: FaultFile) -> Fault:
    cites = model.cites.strip()
    if not cites:
        raise ValueError("cites: every fault names the docs/domain.md line it models")
    where = model.target
    kind, target = _target(where)
    effect = dict(model.model_dump().get("effect") or {})
    kind_of_effect = str(effect.pop("kind", ""))
    _check_effect(kind, kind_of_effect, effect)
    narrowed = where.communes is not None or where.commune_share is not None or where.channels is not None
    asked = target.get("agency") in REGISTERS
    if (kind_of_effect == "unsynced" and not asked) or (asked and kind_of_effect not in ("outage", "slow", "unsynced")):
        raise ValueError(
            f"effect {kind_of_effect}: the population database ({', '.join(sorted(REGISTERS))}) takes outage, "
            "slow or unsynced, and unsynced applies to it alone"
        )
    if narrowed and (kind == "process" or kind_of_effect in AGENCY_WIDE_EFFECTS or asked):
        raise ValueError(
            f"target: communes and channels narrow the dossiers a fault hits; {kind_of_effect} on a {kind} has none"
        )
    rate = model.rate
    if (rate is None) == (model.window is None):
        raise ValueError("give a rate or a window, not both")
    w = model.window
    return Fault(
        name=name,
        cites=cites,
        target=target,
        effect=kind_of_effect,
        params=effect,
        rate=rate,
        window=None if w is None else Window(w.at, w.from_, w.days, w.working_days, w.to),
        communes=frozenset(where.communes) if where.communes is not None else None,
        commune_share=where.commune_share,
        channels=frozenset(where.channels) if where.channels is not None else None,
        steps=frozenset(where.steps) if where.steps is not None else None,
    )


def _target(where: Any) -> tuple[str, dict[str, str]]:
    """The one thing a fault targets (an agency, a link or a process), checked against the known ones."""
    target = {k: v for k, v in (("agency", where.agency), ("link", where.link), ("process", where.process)) if v}
    if len(target) != 1:
        raise ValueError("target: exactly one of agency, link (from->to) or process")
    kind, value = next(iter(target.items()))
    if where.communes is not None and where.commune_share is not None:
        raise ValueError("target: communes or commune_share, not both")
    if kind == "agency" and value not in AGENCIES:
        raise ValueError(f"target: unknown agency {value!r}")
    if where.steps is not None:
        known = {s.name for c in load_chains().values() for s in c.steps if s.agency == value}
        if kind != "agency" or not set(where.steps) <= known:
            raise ValueError(
                f"target: steps narrow an agency's office work to its own steps ({', '.join(sorted(known))})"
            )
    if kind == "link":
        ends = value.split("->")
        if len(ends) != 2 or not set(ends) <= set(AGENCIES):
            raise ValueError(f"target: a link is 'from->to' between known agencies, got {value!r}")
        if set(ends) & REGISTERS:
            raise ValueError(
                f"target: no dossier travels to or from {' or '.join(sorted(set(ends) & REGISTERS))}; "
                "target the agency (outage, slow, unsynced)"
            )
    if kind == "process" and not known_process(value):
        raise ValueError(
            f"target: unknown process {value!r}; known: {', '.join(PROCESSES)}, or a replica such as hotich-2"
        )
    return kind, target


def _check_effect(kind: str, kind_of_effect: str, params: dict[str, Any]) -> None:
    """An effect the catalogue knows, that applies to the target's kind, with only its parameters."""
    if kind_of_effect not in EFFECTS:
        raise ValueError(f"effect: unknown kind {kind_of_effect!r}; known: {', '.join(EFFECTS)}")
    if (kind == "process") != (kind_of_effect in PROCESS_EFFECTS):
        raise ValueError(f"effect {kind_of_effect} does not apply to a {kind}")
    unknown = set(params) - set(EFFECTS[kind_of_effect])
    if unknown:
        raise ValueError(f"effect {kind_of_effect}: unknown parameters {sorted(unknown)}")
    if "state" in params and params["state"] not in {s.value for s in DossierState}:
        raise ValueError(f"effect: unknown state {params['state']!r}")
    if kind_of_effect == "delay" and len({"delay_days", "delay_working_days"} & set(params)) > 1:
        raise ValueError("effect delay: delay_days (calendar days) or delay_working_days, not both")
    for key in ("retries", "extra_hours", "retry_hours", "delay_days", "delay_working_days", "extra_days"):
        if key in params:
            lo, hi = (float(v) for v in params[key])
            if not 0 <= lo <= hi:
                raise ValueError(f"effect {key}: [min, max] with 0 ≤ min ≤ max")
    if "seconds" in params and not (isinstance(params["seconds"], int | float) and 0 < params["seconds"] <= 3600):
        raise ValueError(f"effect freeze: seconds is real seconds, over 0 and at most 3600, got {params['seconds']!r}")


def parse_catalogue(doc: Any, source: str | Path = "fault catalogue") -> dict[str, Fault]:
    return _parse_all(validated(CatalogueFile, doc, source).faults, source, "faults")


def _parse_all(models: dict[str, FaultFile], source: str | Path, section: str) -> dict[str, Fault]:
    faults = {}
    for name, model in models.items():
        try:
            faults[name] = _parse_fault(name, model)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: {section}.{name}: {exc}") from None
    return faults


def load_catalogue(directory: Path = FAULTS_DIR) -> dict[str, Fault]:
    path = directory / "catalogue.yaml"
    return parse_catalogue(read_yaml(path), path)


def available_scenarios(directory: Path = FAULTS_DIR) -> list[str]:
    return sorted(p.stem for p in (directory / "scenarios").glob("*.yaml"))


def load_scenario(name: str, directory: Path = FAULTS_DIR) -> list[Fault]:
    """The faults a scenario injects (see `ScenarioFile`); `name` is a scenario of
    scenarios/faults/scenarios/ or the path of a scenario file of the user's own."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else directory / "scenarios" / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no fault scenario {name!r}; available: {', '.join(available_scenarios(directory))}")
    catalogue_path = directory / "catalogue.yaml"
    models = validated(CatalogueFile, read_yaml(catalogue_path), catalogue_path).faults
    catalogue = _parse_all(models, catalogue_path, "faults")
    scenario = validated(ScenarioFile, read_yaml(path), path)
    known = f"(see {catalogue_path})"
    if scenario.faults == "all":
        unknown = [n for n in scenario.except_ if n not in catalogue]
        if unknown:
            raise ConfigError(f"{path}: except: unknown faults {unknown} {known}")
        chosen = [n for n in catalogue if n not in scenario.except_]
    else:
        if scenario.except_:
            raise ConfigError(f"{path}: except: only with `faults: all`")
        unknown = [n for n in scenario.faults if n not in catalogue]
        if unknown:
            raise ConfigError(f"{path}: faults: unknown faults {unknown} {known}")
        chosen = list(scenario.faults)
    not_chosen = [n for n in scenario.override if n not in chosen]
    if not_chosen:
        raise ConfigError(f"{path}: override: {not_chosen} are not among the scenario's faults")
    clash = [n for n in scenario.define if n in catalogue]
    if clash:
        raise ConfigError(f"{path}: define: {clash} already name catalogue faults; use override to change one")
    changed = {}
    for n, o in scenario.override.items():
        given = o.model_dump(exclude_none=True, by_alias=True)
        base = models[n].model_dump(exclude_none=True, by_alias=True)
        if "rate" in given or "window" in given:
            base.pop("rate", None)
            base.pop("window", None)
        changed[n] = validated(FaultFile, {**base, **given}, f"{path}: override.{n}")
    faults = {**catalogue, **_parse_all(changed, path, "override")}
    own = _parse_all(scenario.define, path, "define")
    return [faults[n] for n in chosen] + list(own.values())
