"""What one step of one work item puts in the outbox: lifecycle events stamped with one sim
time, and the handoffs to the next agencies (through the injected faults, if any)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import structlog

from contracts import topics
from contracts.chains import Route
from contracts.envelope import Event, new_event
from contracts.event_types import HANDOFF_SENT, STEP_COMPLETED, STEP_REJECTED
from contracts.payloads import DossierDoc
from runtime.metrics import STEP_SECONDS
from runtime.outbox import OutboxRow
from runtime.simulation import PRODUCTION, Evidence, Simulation
from runtime.work import WorkItem


def bound(item: WorkItem) -> contextlib.AbstractContextManager[Any]:
    """Log lines inside carry the dossier, the trace and the step."""
    return structlog.contextvars.bound_contextvars(
        dossier_id=item.dossier_id, trace_id=item.event.trace_id, step=item.to_step
    )


class Emitter:
    """Collects the outbox rows one step of one work item produces, stamped with the same sim
    time; handoffs go through the injected faults, if any."""

    def __init__(
        self, item: WorkItem, agency: str, now: datetime, sim: Simulation = PRODUCTION, prefix: str = "lt"
    ) -> None:
        self.item = item
        self.agency = agency
        self.now = now
        self.sim = sim
        self.prefix = prefix
        self.rows: list[OutboxRow] = []
        self.hits: list[Evidence] = []

    def __call__(self, type_: str, payload: dict[str, Any]) -> Event:
        e = new_event(
            type_,
            self.agency,
            self.now,
            dossier_id=self.item.dossier_id,
            chain=self.item.event.chain,
            step=self.item.to_step,
            payload=payload,
            trace_id=self.item.event.trace_id,
        )
        self.rows.append(OutboxRow(topics.dossier_events(self.prefix), e))
        if type_ in (STEP_COMPLETED, STEP_REJECTED):
            took = (self.now - self.item.event.occurred_at).total_seconds()
            STEP_SECONDS.labels(self.agency, self.item.to_step).observe(max(0.0, took))
        return e

    def handoff(
        self,
        route: Route,
        dossier: DossierDoc,
        results: dict[str, Any],
        following: list[Route],
        extra: dict[str, Any],
    ) -> None:
        payload = {
            "to": route.agency,
            "to_step": route.step,
            "dossier": dossier,
            "results": results,
            "next": [r.as_dict() for r in following],
            **extra,
        }
        e = self(HANDOFF_SENT, payload)
        self.rows.pop()
        rows, hits = self.sim.handoff(e, self.prefix)
        self.rows += rows
        self.hits += hits
