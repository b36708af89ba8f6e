"""Chain definitions as data: steps, owning agency, SLA in working days, topology.

The default chains live in `chains.yaml` beside this module; an override file (setting
`LT_CHAINS_FILE`) replaces whole chains by name. Parsing is pure: callers pass the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from contracts.dossiers import POSTAL_PROCEDURE
from contracts.states import DossierState
from contracts.topics import AGENCIES
from contracts.validation import Schema, validate

CHAIN_NAMES: tuple[str, ...] = ("birth", "death", "lltp", "marriage")
RESULT_STEP = "result"
"""The pseudo-step at the portal that receives a chain's results."""


@dataclass(frozen=True)
class Route:
    """Where a dossier goes next: an agency and the step it runs there."""

    agency: str
    step: str

    def as_dict(self) -> dict[str, str]:
        return {"agency": self.agency, "step": self.step}


PORTAL_RESULT = Route("portal", RESULT_STEP)

RESULT_TYPES: dict[str, Schema] = {
    "string": {"type": "string", "minLength": 1},
    "personal_id": {"type": "string", "pattern": "^[0-9]{12}$"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
}
"""The types a step's result field may declare (chains.yaml `result:`), as JSON Schema."""


@dataclass(frozen=True)
class Step:
    name: str
    agency: str
    label_vi: str
    sla_working_days: float
    after: str | None = None
    sla_with_verification: float | None = None
    procedure: str | None = None
    work_hours: tuple[float, float, float] | None = None
    """Simulated office time: (min, most likely, max) hours; None runs the step at once."""
    states: tuple[str, ...] = ()
    """Intermediate states (DossierState values) the step passes through before it completes."""
    via: str | None = None
    """The integration bus the handoff into this step travels on (e.g. "ngsp")."""
    result: tuple[tuple[str, str], ...] = ()
    """The fields its `step.completed` result must carry, each with its type (RESULT_TYPES)."""
    state_share: float = 0.1
    """The share of the step's work each intermediate state takes, at its end: a tenth for an
    office's signing and issuance; most of it for a postal item in transit."""
    skipped_by: str | None = None
    """The step is left out for a dossier that carries this procedure (`standalone`: a
    registration outside the linked procedure)."""
    area_of: str | None = None
    """Where the step is done, as a dotted path in the dossier to an area (`partner.residence`:
    the commune the partner lives in confirms their marital status); None: the dossier's `area`."""

    def area(self, dossier: Mapping[str, Any]) -> dict[str, Any]:
        """The area (province, district, commune) whose office does this step for `dossier`."""
        found: Any = dossier
        for part in (self.area_of or "area").split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        return dict(found) if isinstance(found, Mapping) else {}

    def result_schema(self) -> Schema:
        """The JSON Schema of the step's result: the declared fields required, others allowed."""
        return {
            "type": "object",
            "required": [name for name, _ in self.result],
            "properties": {name: RESULT_TYPES[kind].copy() for name, kind in self.result},
        }

    def result_problems(self, result: Any) -> list[str]:
        """What is wrong with a `step.completed` result against the fields the step declares."""
        return [f"{p.field} {p.reason}" for p in validate(result, self.result_schema(), "$.payload.result")]

    def missing_states(self, seen: Iterable[str]) -> list[str]:
        """The declared intermediate states a completed step never published, in their order."""
        passed = set(seen)
        return [s for s in self.states if s not in passed]

    def sla(self, needs_verification: bool = False) -> float:
        if needs_verification and self.sla_with_verification is not None:
            return self.sla_with_verification
        return self.sla_working_days


@dataclass(frozen=True)
class Chain:
    name: str
    title_vi: str
    steps: tuple[Step, ...]
    group_sla_working_days: float
    group_sla_with_verification: float

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"chain {self.name} has no step {name!r}")

    def group_sla(self, needs_verification: bool = False) -> float:
        """Working days for the whole chain: the appointment date the citizen is given (a result
        returned by post is handed to the post by then; its delivery is the postal step's own SLA)."""
        return self.group_sla_with_verification if needs_verification else self.group_sla_working_days

    def made_by(self, step: str, procedures: Iterable[str]) -> bool:
        """Whether the dossier's result is made once `step` completes, with only its delivery by
        post to follow: the appointment date is met then."""
        following = [s for s in self.active_steps(procedures) if s.after == step]
        return bool(following) and all(s.procedure == POSTAL_PROCEDURE for s in following)

    @property
    def first(self) -> Step:
        return next(s for s in self.steps if s.after is None)

    def active_steps(self, procedures: Iterable[str] = ()) -> list[Step]:
        chosen = set(procedures)
        return [
            s
            for s in self.steps
            if (s.procedure is None or s.procedure in chosen) and (s.skipped_by is None or s.skipped_by not in chosen)
        ]

    def next_routes(self, step: str, procedures: Iterable[str] = ()) -> list[Route]:
        """Where the dossier goes once `step` completes; the portal when nothing follows."""
        following = [s for s in self.active_steps(procedures) if s.after == step]
        return [Route(s.agency, s.name) for s in following] or [PORTAL_RESULT]

    def terminal_steps(self, procedures: Iterable[str] = ()) -> list[str]:
        """Active steps whose completion the portal must see before the dossier is done."""
        active = self.active_steps(procedures)
        parents = {s.after for s in active}
        return [s.name for s in active if s.name not in parents]


def posting_steps(chains: Mapping[str, Chain]) -> list[str]:
    """The steps whose completion resolves a dossier whose result then goes to the post (the
    certificate issued): the report and the console count such a dossier resolved from then."""
    return sorted({s.after for c in chains.values() for s in c.steps if s.procedure == POSTAL_PROCEDURE and s.after})


def parse_chains(text: str) -> dict[str, Chain]:
    """Parse a chains YAML document; ValueError says which chain or step is wrong."""
    doc = yaml.safe_load(text) or {}
    raw = doc.get("chains")
    if not isinstance(raw, Mapping):
        raise ValueError("chains file needs a top-level 'chains' mapping")
    return {name: _parse_chain(str(name), body) for name, body in raw.items()}


def _parse_chain(name: str, body: Mapping[str, Any]) -> Chain:
    if name not in CHAIN_NAMES:
        raise ValueError(f"unknown chain {name!r}; known: {', '.join(CHAIN_NAMES)}")
    steps: list[Step] = []
    for raw in body.get("steps", []):
        try:
            step = _parse_step(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"chain {name}: bad step {raw!r}: {exc}") from exc
        if step.agency not in AGENCIES:
            raise ValueError(f"chain {name}: step {step.name} has unknown agency {step.agency!r}")
        if step.after is not None and step.after not in {s.name for s in steps}:
            raise ValueError(f"chain {name}: step {step.name} comes after unknown step {step.after!r}")
        if step.name in {s.name for s in steps} or step.name == RESULT_STEP:
            raise ValueError(f"chain {name}: duplicate or reserved step name {step.name!r}")
        steps.append(step)
    if sum(1 for s in steps if s.after is None) != 1:
        raise ValueError(f"chain {name}: exactly one step must have no 'after'")
    return Chain(
        name=name,
        title_vi=str(body.get("title_vi", name)),
        steps=tuple(steps),
        group_sla_working_days=float(body.get("group_sla_working_days", 3)),
        group_sla_with_verification=float(body.get("group_sla_with_verification", 5)),
    )


def _parse_step(raw: Mapping[str, Any]) -> Step:
    fields = dict(raw)
    if fields.get("work_hours") is not None:
        lo, mode, hi = (float(h) for h in fields["work_hours"])
        if not 0 <= lo <= mode <= hi:
            raise ValueError("work_hours must be [min, most likely, max] with 0 ≤ min ≤ most likely ≤ max")
        fields["work_hours"] = (lo, mode, hi)
    states = tuple(str(s) for s in fields.get("states", ()))
    known = {s.value for s in DossierState}
    if not set(states) <= known:
        raise ValueError(f"unknown states {sorted(set(states) - known)}; known: {', '.join(sorted(known))}")
    fields["states"] = states
    share = float(fields.get("state_share", 0.1))
    if states and not 0 < share * len(states) < 1:
        raise ValueError("state_share × the number of states must be between 0 and 1 (the work before them)")
    result = fields.get("result") or {}
    if not isinstance(result, Mapping):
        raise ValueError("result must map each field to its type")
    unknown = {str(k): str(v) for k, v in result.items() if v not in RESULT_TYPES}
    if unknown:
        raise ValueError(f"result fields of unknown type {unknown}; known: {', '.join(RESULT_TYPES)}")
    fields["result"] = tuple((str(k), str(v)) for k, v in result.items())
    return Step(**fields)


def default_chains_text() -> str:
    return resources.files("contracts").joinpath("chains.yaml").read_text(encoding="utf-8")


def load_chains(override_text: str | None = None) -> dict[str, Chain]:
    """The default chains, with whole chains replaced by those in `override_text`."""
    chains = parse_chains(default_chains_text())
    if override_text:
        chains.update(parse_chains(override_text))
    return chains
