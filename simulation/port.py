"""The fault-injection simulation, plugged into the agencies through the platform's port
(runtime/simulation.py): the injector decides, this adapter turns its decisions into what the
port asks for, and its hits into ground-truth rows (simulation/faults/truth.py).

Registered in harness/pyproject.toml under the entry-point group `lienthong.simulation`;
`from_settings` returns `SimulatedTime` when the settings name no fault scenario (the agencies
run as in production, on the simulated clock), and None on a real clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.chains import Step
from contracts.clock import VN_TZ
from contracts.envelope import Event
from contracts.payloads import handoff_sent
from runtime.conn import Conn
from runtime.outbox import OutboxRow
from runtime.population import question_key
from runtime.schedule import WorkPlan
from runtime.settings import Settings
from runtime.simulation import Evidence, Production, Simulation, StepChange
from runtime.work import Deferred
from simulation.faults import truth
from simulation.faults.catalogue import FAULTS_DIR, Fault, load_scenario
from simulation.faults.inject import Hit, Injector, Period, channel_of, commune_of
from simulation.faults.outage import before_outage
from simulation.sabotage import handoff_rows

SIM_TIME_HEADER = "X-Lienthong-Sim-Time"
"""The header the workload's submissions carry their planned sim time in (simulation/submit.py);
only a simulation reads it."""


def planned_submission(headers: Mapping[str, str]) -> datetime | None:
    """The planned time `headers` carry, if any and well formed (with its offset)."""
    raw = headers.get(SIM_TIME_HEADER)
    if not raw:
        return None
    try:
        planned = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return planned if planned.tzinfo is not None else None


OFFICER_QUEUE = "officer-queue"
"""The ground truth's name for a step its desk's queue made late (no fault of the catalogue: the
officers are the province's, runtime/staffing.py)."""


def queue_evidence(agency: str, step: Step, handoff: Event, received: datetime, plan: WorkPlan) -> list[Evidence]:
    """A step taken up by an officer and planned to end after its deadline: the queue made it
    late (a fault that slowed it too records its own hit), as a slowed step the scorer expects
    caught as stuck."""
    if plan.done_at <= plan.deadline:
        return []
    taken = plan.milestones[0].at
    where = f"step:{agency}/{step.name}"
    detail = f"taken up at {taken.isoformat()} after its receipt at the desk"
    hit = Hit(OFFICER_QUEUE, "slow", where, received, plan.done_at, plan.deadline, detail=detail)
    return [(handoff.dossier_id, handoff.event_id, hit)]


class SimulatedTime(Production):
    """A simulation without faults: every agency behaves as in production, and the portal takes
    the workload's planned submission times. What the officers' queues made late is still
    recorded, for the scorer."""

    def planned_submission(self, headers: Mapping[str, str]) -> datetime | None:
        return planned_submission(headers)

    def queued(self, agency: str, step: Step, handoff: Event, received: datetime, plan: WorkPlan) -> list[Evidence]:
        return queue_evidence(agency, step, handoff, received, plan)

    async def install(self, conn: Conn) -> None:
        await truth.apply_schema(conn)

    async def record(self, conn: Conn, evidence: list[Evidence]) -> None:
        await truth.record(conn, evidence)


class FaultSettings(BaseModel):
    """What a run asks its simulation to inject: carried to every process as `LT_SIMULATION`
    (JSON), which the platform passes to this port unread."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    faults: str = "none"
    """The fault scenario (scenarios/faults/scenarios/NAME.yaml), or the path of a scenario file."""
    start: str | None = None
    """The run's period, which places window faults: its start (ISO) and length in days."""
    days: float = 0.0
    faults_dir: Path | None = None
    """Where the catalogue and scenarios live, when not the repository's scenarios/faults/."""

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def of(cls, settings: Settings) -> FaultSettings:
        """The faults `settings` carry; a malformed value is refused naming LT_SIMULATION."""
        if not settings.simulation:
            return cls()
        try:
            return cls.model_validate_json(settings.simulation)
        except ValidationError as exc:
            raise ValueError(f"LT_SIMULATION: {exc.errors()[0]['msg']} ({settings.simulation!r})") from exc


def injector(settings: Settings, faults: FaultSettings | None = None) -> Injector | None:
    """The faults these settings inject (or `faults`, when given); None for scenario "none" or
    without a period."""
    asked = faults if faults is not None else FaultSettings.of(settings)
    if asked.faults == "none" or not asked.start:
        return None
    start = datetime.fromisoformat(asked.start)
    period = Period(start if start.tzinfo else start.replace(tzinfo=VN_TZ), asked.days)
    found = load_scenario(asked.faults, asked.faults_dir or FAULTS_DIR)
    return Injector(tuple(found), period, settings.sim_speed, asked.faults)


def from_settings(settings: Settings) -> Simulation | None:
    """The entry point: the simulation for these settings: the faults they inject, or only the
    simulated time when they inject none; None on a real clock (production behaviour)."""
    found = injector(settings)
    if found is not None and not found.empty:
        return FaultInjection(found)
    return SimulatedTime() if settings.sim_epoch is not None else None


@dataclass(frozen=True)
class FaultInjection:
    injector: Injector

    def _outages(self, agency: str) -> list[Fault]:
        return [f for f in self.injector.faults if f.effect == "outage" and f.target.get("agency") == agency]

    def closed(self, agency: str, now: datetime) -> datetime | None:
        outage = self.injector.agency_fault(agency, "outage", now)
        return None if outage is None else self.injector.window_of(outage)[1]

    def closed_since(self, agency: str, now: datetime) -> datetime | None:
        outage = self.injector.agency_fault(agency, "outage", now)
        return None if outage is None else self.injector.window_of(outage)[0]

    def received_at(self, agency: str, handoff: Event) -> datetime:
        """When the handoff reached the agency in the model: when it was sent, or later if the link
        delayed it (`delivered_at`) or the agency was down then (at the outage's end). Stated,
        not left to processing lag: at high speed the stamping bound could hide days."""
        at = handoff.occurred_at
        delivered = handoff_sent(handoff).get("delivered_at")
        if delivered:
            at = max(at, datetime.fromisoformat(delivered))
        for f in self._outages(agency):
            opens, ends = self.injector.window_of(f)
            if opens <= at < ends:
                at = ends
        return at

    def arrived_before(
        self,
        agency: str,
        batches: Mapping[Any, Sequence[Any]],
        opens: datetime,
        handoff_of: Callable[[Any], Event | None],
    ) -> tuple[list[Any], dict[Any, int]]:
        def received(record: Any) -> datetime | None:
            handoff = handoff_of(record)
            return None if handoff is None else self.received_at(agency, handoff)

        return before_outage(batches, opens, received)

    def held(self, agency: str, handoff: Event, received: datetime) -> list[Evidence]:
        out: list[Evidence] = []
        sent = handoff.occurred_at
        for f in self._outages(agency):
            _, ends = self.injector.window_of(f)
            if sent < ends <= received:
                hit = Hit(f.name, f.effect, f"link:{handoff.agency}->{agency}", sent, received)
                out.append((handoff.dossier_id, handoff.event_id, hit))
        return out

    def step(self, agency: str, step: Step, handoff: Event, received: datetime) -> StepChange | None:
        key = f"{handoff.dossier_id}/{agency}/{step.name}"
        # The commune whose office does the step: the dossier's, or the partner's for a marital
        # status confirmed where the partner lives (the chain step's `area_of`).
        dossier = handoff_sent(handoff).get("dossier", {})
        commune = step.area(dossier).get("commune") if step.area_of else commune_of(handoff)
        faults = self.injector.step(agency, step.states, key, received, commune, channel_of(handoff), step.name)
        if faults is None:
            return None
        where = f"step:{agency}/{step.name}"

        def evidence(plan: WorkPlan) -> list[Evidence]:
            out: list[Evidence] = []
            for f in faults.faults:
                if f.effect == "slow":
                    hit = Hit(f.name, f.effect, where, received, plan.done_at, plan.deadline)
                elif plan.held is not None:
                    state, entered, released = plan.held
                    hit = Hit(f.name, f.effect, where, entered, released, plan.deadline, state)
                else:
                    continue  # a window stall whose window this dossier missed
                out.append((handoff.dossier_id, handoff.event_id, hit))
            return out

        return StepChange(faults.extra_hours, faults.hold, evidence)

    def queued(self, agency: str, step: Step, handoff: Event, received: datetime, plan: WorkPlan) -> list[Evidence]:
        return queue_evidence(agency, step, handoff, received, plan)

    def handoff(self, handoff: Event, prefix: str) -> tuple[list[OutboxRow], list[Evidence]]:
        rows, hits = handoff_rows(self.injector, handoff, prefix)
        return rows, list(hits)

    def planned_submission(self, headers: Mapping[str, str]) -> datetime | None:
        return planned_submission(headers)

    def answered_at(self, agency: str, key: str, at: datetime) -> datetime:
        return self.injector.answer(agency, key, at)[0]

    def visible_from(self, agency: str, key: str, at: datetime) -> datetime:
        return self.injector.synced(agency, key, at)[0]

    def deferred(
        self, agency: str, step: str, handoff: Event, at: datetime, wait: Deferred, deadline: datetime
    ) -> list[Evidence]:
        """The fault a step waited on, found as the system it asked found it (the same draws): an
        outage in force (each failed call is a refused transfer on the link into it), a slow
        answer, a record not yet synchronised. The step is slowed until it goes on; a deferral no
        fault explains (the system was killed) records nothing here."""
        system = wait.waits_on
        fault: Fault | None = None
        if wait.cause == "unreachable":
            fault = self.injector.agency_fault(system, "outage", at)
        elif wait.cause == "slow":
            fault = self.injector.answer(system, question_key(handoff.dossier_id or "", agency, step, at), at)[1]
        elif wait.cause == "not_synced":
            fault = self.injector.synced(system, handoff.dossier_id or "", at)[1]
        if fault is None:
            return []
        out: list[Evidence] = []
        if wait.cause == "unreachable":
            refused = Hit(fault.name, "reject", f"link:{agency}->{system}", at, detail=wait.reason)
            out.append((handoff.dossier_id, handoff.event_id, refused))
        slowed = Hit(fault.name, "slow", f"step:{agency}/{step}", at, wait.until, deadline, detail=wait.cause)
        out.append((handoff.dossier_id, handoff.event_id, slowed))
        return out

    def payment_failure(self, now: datetime) -> Callable[[str, str], Evidence] | None:
        payment = self.injector.agency_fault("portal", "payment_failed", now)
        if payment is None:
            return None

        def evidence(dossier_id: str, event_id: str) -> Evidence:
            return (dossier_id, event_id, Hit(payment.name, payment.effect, "link:portal->payment", now))

        return evidence

    async def install(self, conn: Conn) -> None:
        await truth.apply_schema(conn)

    async def record(self, conn: Conn, evidence: list[Evidence]) -> None:
        await truth.record(conn, evidence)
