"""The fault catalogue and fault scenarios as data (scenarios/faults/): parsed and checked here;
a scenario names the faults to inject in a run. Injection itself happens in the services'
runtime and the run's process controller; this module only says what each fault is."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import scenarios
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


def _parse_fault(name: str, raw: dict[str, Any]) -> Fault:
    cites = str(raw.get("cites", "")).strip()
    if not cites:
        raise ValueError("cites: every fault names the docs/domain.md line it models")
    target = {str(k): str(v) for k, v in (raw.get("target") or {}).items()}
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
    rate = raw.get("rate")
    window = raw.get("window")
    if (rate is None) == (window is None):
        raise ValueError("give a rate or a window, not both")
    if rate is not None and not 0 < float(rate) <= 1:
        raise ValueError("rate: a share between 0 and 1")
    parsed_window = {str(k): float(v) for k, v in window.items()} if window is not None else None
    if parsed_window is not None and not 0 <= parsed_window.get("at", -1) <= 1:
        raise ValueError("window.at: when the window opens, as a share of the period (0–1)")
    return Fault(
        name=name,
        cites=cites,
        target=target,
        effect=kind_of_effect,
        params=effect,
        rate=float(rate) if rate is not None else None,
        window=parsed_window,
    )


def parse_catalogue(doc: dict[str, Any]) -> dict[str, Fault]:
    faults = {}
    for name, raw in (doc.get("faults") or {}).items():
        try:
            faults[str(name)] = _parse_fault(str(name), raw)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"fault {name}: {exc}") from exc
    return faults


def load_catalogue(directory: Path = FAULTS_DIR) -> dict[str, Fault]:
    return parse_catalogue(yaml.safe_load((directory / "catalogue.yaml").read_text(encoding="utf-8")))


def available_scenarios(directory: Path = FAULTS_DIR) -> list[str]:
    return sorted(p.stem for p in (directory / "scenarios").glob("*.yaml"))


def load_scenario(name: str, directory: Path = FAULTS_DIR) -> list[Fault]:
    """The faults a scenario injects: `faults: all` (less those under `except`), or a list of
    catalogue names."""
    path = directory / "scenarios" / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no fault scenario {name!r}; available: {', '.join(available_scenarios(directory))}")
    catalogue = load_catalogue(directory)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    chosen = doc.get("faults", [])
    if chosen == "all":
        left_out = doc.get("except", [])
        unknown = [n for n in left_out if n not in catalogue]
        if unknown:
            raise ValueError(f"fault scenario {name}: unknown faults {unknown} under except")
        return [f for n, f in catalogue.items() if n not in left_out]
    unknown = [n for n in chosen if n not in catalogue]
    if unknown:
        raise ValueError(f"fault scenario {name}: unknown faults {unknown}; see {directory / 'catalogue.yaml'}")
    return [catalogue[n] for n in chosen]
