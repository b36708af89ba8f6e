"""What a handler receives and may answer: the ports between the runtime and an agency."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.chains import Chain, Route
from contracts.clock import SimClock
from contracts.envelope import Event
from contracts.payloads import DossierDoc, handoff_sent
from runtime.population import BY_RULE, Population


@dataclass(frozen=True)
class WorkItem:
    """A handoff addressed to this agency, decoded."""

    event: Event
    to_step: str
    dossier: DossierDoc
    results: dict[str, Any]
    next: list[Route]
    outcome: str | None = None
    reason: str | None = None

    @property
    def dossier_id(self) -> str:
        assert self.event.dossier_id is not None
        return self.event.dossier_id

    @property
    def procedures(self) -> list[str]:
        return list(self.dossier.get("procedures", []))

    @classmethod
    def from_event(cls, event: Event) -> WorkItem:
        p = handoff_sent(event)
        return cls(
            event=event,
            to_step=p["to_step"],
            dossier=p.get("dossier", {}),
            results=p.get("results", {}),
            next=[Route(r["agency"], r["step"]) for r in p.get("next", [])],
            outcome=p.get("outcome"),
            reason=p.get("reason"),
        )


@dataclass(frozen=True)
class Completed:
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    reason: str
    code: str | None = None
    """Machine-readable kind (e.g. identity_mismatch), so the monitor can flag data quality."""


@dataclass(frozen=True)
class Absorbed:
    """The dossier ends here (the portal's result step): emit these events, route nowhere."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Deferred:
    """The step cannot finish now: a system it needs did not answer, or not yet as it must. The
    task comes due again at `until` (runtime/tasks.py), the handler runs again then."""

    until: datetime
    reason: str
    cause: str
    """unreachable (nothing answered: a `link.error` event says so, as for a failed transfer),
    slow (the answer came at `until`), not_synced (the record the step needs is not there yet)."""
    waits_on: str
    """The system the step waits on (e.g. dancu)."""

    @property
    def failed_call(self) -> bool:
        return self.cause == "unreachable"


Outcome = Completed | Rejected | Absorbed | Deferred


@dataclass(frozen=True)
class StepContext:
    agency: str
    clock: SimClock
    chains: Mapping[str, Chain]
    rng: random.Random
    now: datetime
    """The sim time the step happens at (its planned completion), for the handler's records."""
    params: Mapping[str, str] = field(default_factory=dict)
    """Agency parameters from the settings (e.g. who issues LLTP certificates)."""
    seed: int = 0
    population: Population = BY_RULE
    """The national population database the handlers check identities against (runtime/population.py)."""

    def rng_for(self, dossier_id: str, step: str, purpose: str) -> random.Random:
        """The draws for one dossier's step, from the run's seed: the same in every run of the same
        workload, whatever order the messages are processed in (reproducible runs)."""
        return random.Random(f"{self.seed}/{dossier_id}/{step}/{purpose}")


Handler = Callable[[Any, WorkItem, StepContext], Awaitable[Outcome]]
"""(connection inside the message's transaction, the work, context) → outcome."""
