"""The one place a simulation plugs into the agencies: the port.

The platform runs an agency the same way in production and under a simulation. Where a
simulation changes what happens (an agency closed by an outage, a handoff delayed, sent twice or
lost, a step slowed or held, an online fee payment failing), the platform asks this port, and
hands back what the simulation says it did (its evidence, the ground truth the scorer reads) to
be recorded in the same transaction as the effect. `PRODUCTION` changes nothing and records
nothing.

A simulation registers a factory under the entry-point group `lienthong.simulation`
(pyproject.toml): `factory(settings)` returns a `Simulation`, or None when it has nothing to do
(no fault scenario). The platform finds it by name at start-up and never imports it, so the
dependency points from the simulation down to the platform, never up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from contracts.chains import Step
from contracts.envelope import Event
from runtime.conn import Conn
from runtime.outbox import OutboxRow, handoff_at_once
from runtime.schedule import Waits, WorkPlan

if TYPE_CHECKING:
    from runtime.settings import Settings
    from runtime.work import Deferred

log = structlog.get_logger()

GROUP = "lienthong.simulation"

Evidence = tuple[str | None, str | None, Any]
"""(dossier id, event id, what the simulation did): opaque to the platform, which only passes
it back to `Simulation.record`."""


def _no_evidence(_plan: WorkPlan) -> list[Evidence]:
    return []


@dataclass(frozen=True)
class StepChange:
    """How a simulation changes one step's office work."""

    extra_hours: float = 0.0
    waits: Waits | None = None
    """What keeps the dossier in a state past its office work (`runtime/schedule.py`)."""
    evidence: Callable[[WorkPlan], list[Evidence]] = field(default=_no_evidence)
    """What the simulation did, once the plan it changed is known."""


class Simulation(Protocol):
    def closed(self, agency: str, now: datetime) -> datetime | None:
        """When `agency` opens again, if an outage keeps it closed at `now`."""
        ...

    def closed_since(self, agency: str, now: datetime) -> datetime | None:
        """When the outage that keeps `agency` closed at `now` began; None if it is open."""
        ...

    def received_at(self, agency: str, handoff: Event) -> datetime:
        """When `handoff` reached `agency` in the model (its send time unless delayed)."""
        ...

    def arrived_before(
        self,
        agency: str,
        batches: Mapping[Any, Sequence[Any]],
        opens: datetime,
        handoff_of: Callable[[Any], Event | None],
    ) -> tuple[list[Any], dict[Any, int]]:
        """Of a batch read while `agency` is closed (since `opens`): the records that reached it
        before, in order, and per partition the offset from which the rest waits for it to open.
        `handoff_of` parses a record (None: not a handoff, which goes through at once)."""
        ...

    def held(self, agency: str, handoff: Event, received: datetime) -> list[Evidence]:
        """Evidence for a handoff that waited for `agency` to open again."""
        ...

    def step(self, agency: str, step: Step, handoff: Event, received: datetime) -> StepChange | None:
        """How the office work of `step` goes for this handoff, if the simulation changes it."""
        ...

    def queued(self, agency: str, step: Step, handoff: Event, received: datetime, plan: WorkPlan) -> list[Evidence]:
        """Evidence for a step an officer of its desk took up (runtime/staffing.py), planned as
        `plan`: a queue that made it late is a cause the scorer must know of."""
        ...

    def handoff(self, handoff: Event, prefix: str) -> tuple[list[OutboxRow], list[Evidence]]:
        """The outbox rows that carry `handoff`, with their release times, and the evidence."""
        ...

    def payment_failure(self, now: datetime) -> Callable[[str, str], Evidence] | None:
        """If an online fee payment fails at `now`: the evidence for (dossier id, link.error id)."""
        ...

    def planned_submission(self, headers: Mapping[str, str]) -> datetime | None:
        """The time a simulated citizen planned to submit at, if the request says one (the portal
        still bounds it by the stamping lag); None: the submission is stamped now."""
        ...

    def deferred(
        self, agency: str, step: str, handoff: Event, at: datetime, wait: Deferred, deadline: datetime
    ) -> list[Evidence]:
        """A step that could not finish at `at` and waits until `wait.until` (the population
        database did not answer, answered late, or lacks a record yet): what the simulation did."""
        ...

    def answered_at(self, agency: str, key: str, at: datetime) -> datetime:
        """When a question `agency` is asked at `at` is answered (later than `at` when it is slow)."""
        ...

    def visible_from(self, agency: str, key: str, at: datetime) -> datetime:
        """When a record `agency` takes at `at` can be found (later when it is not synchronised)."""
        ...

    async def install(self, conn: Conn) -> None:
        """Create what the simulation records into (called once per process at start-up)."""
        ...

    async def record(self, conn: Conn, evidence: list[Evidence]) -> None:
        """Store evidence inside the caller's transaction."""
        ...


class Production:
    """No simulation: every agency open, every handoff delivered once and at once."""

    def closed(self, agency: str, now: datetime) -> datetime | None:
        return None

    def closed_since(self, agency: str, now: datetime) -> datetime | None:
        return None

    def received_at(self, agency: str, handoff: Event) -> datetime:
        return handoff.occurred_at

    def arrived_before(
        self,
        agency: str,
        batches: Mapping[Any, Sequence[Any]],
        opens: datetime,
        handoff_of: Callable[[Any], Event | None],
    ) -> tuple[list[Any], dict[Any, int]]:
        return [r for records in batches.values() for r in records], {}

    def held(self, agency: str, handoff: Event, received: datetime) -> list[Evidence]:
        return []

    def step(self, agency: str, step: Step, handoff: Event, received: datetime) -> StepChange | None:
        return None

    def queued(self, agency: str, step: Step, handoff: Event, received: datetime, plan: WorkPlan) -> list[Evidence]:
        return []

    def handoff(self, handoff: Event, prefix: str) -> tuple[list[OutboxRow], list[Evidence]]:
        return handoff_at_once(handoff, prefix), []

    def payment_failure(self, now: datetime) -> Callable[[str, str], Evidence] | None:
        return None

    def planned_submission(self, headers: Mapping[str, str]) -> datetime | None:
        return None

    def deferred(
        self, agency: str, step: str, handoff: Event, at: datetime, wait: Deferred, deadline: datetime
    ) -> list[Evidence]:
        return []

    def answered_at(self, agency: str, key: str, at: datetime) -> datetime:
        return at

    def visible_from(self, agency: str, key: str, at: datetime) -> datetime:
        return at

    async def install(self, conn: Conn) -> None:
        return None

    async def record(self, conn: Conn, evidence: list[Evidence]) -> None:
        if evidence:
            raise RuntimeError("evidence without a simulation to record it")


PRODUCTION = Production()


def load(settings: Settings) -> Simulation:
    """The simulation registered for these settings, or `PRODUCTION`."""
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        factory = entry.load()
        simulation: Simulation | None = factory(settings)
        if simulation is not None:
            log.info("simulation plugged in", simulation=entry.name)
            return simulation
    return PRODUCTION
