"""Where injected faults meet a handoff: it becomes the outbox rows that deliver it as the faults
say (late, twice, never, after failed attempts), with the hits for the ground truth.

The decisions are the injector's (simulation/faults/inject.py); this module only turns them into
rows and release times. A handoff no fault hits is the usual pair of rows, at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from contracts import topics
from contracts.envelope import Event, new_event
from contracts.event_types import LINK_ERROR
from contracts.payloads import handoff_sent
from runtime.outbox import OutboxRow, Release, handoff_at_once
from simulation.faults.inject import Hit, Injector, channel_of, commune_of

TruthRow = tuple[str | None, str | None, Hit]
"""(dossier id, event id, hit) for simulation/faults/truth.py."""


def handoff_rows(injector: Injector, handoff: Event, prefix: str) -> tuple[list[OutboxRow], list[TruthRow]]:
    """The rows that carry `handoff` (its lifecycle copy and its work message) and any
    link.error events of failed attempts before it, with their release times."""
    to = handoff_sent(handoff)["to"]
    events = topics.dossier_events(prefix)
    work = topics.work(to, prefix)
    # Drawn per dossier and link, not per event id: the same workload gets the same hits.
    key = f"{handoff.dossier_id}/{handoff.agency}->{to}"
    plan = injector.handoff(handoff.agency, to, key, handoff.occurred_at, commune_of(handoff), channel_of(handoff))
    if plan is None:
        return handoff_at_once(handoff, prefix), []
    now = handoff.occurred_at

    def when(times: tuple[datetime, ...]) -> Release:
        return tuple(None if t <= now else t for t in times)

    rows: list[OutboxRow] = []
    for t, error in plan.errors:
        failed = new_event(
            LINK_ERROR,
            handoff.agency,
            t,
            dossier_id=handoff.dossier_id,
            chain=handoff.chain,
            step=handoff.step,
            payload={"to": to, "error": error},
            trace_id=handoff.trace_id,
        )
        rows.append(OutboxRow(events, failed, when((t,))))
    sent = replace(handoff, occurred_at=plan.sent_at)
    default = when((plan.sent_at,))
    rows.append(
        OutboxRow(events, sent.for_lifecycle(), when(plan.lifecycle) if plan.lifecycle is not None else default)
    )
    work_copy = sent
    if plan.work and any(h.effect == "delay" for h in plan.hits):
        # The receiver records its receipt when the delayed message reaches it, not when sent.
        work_copy = replace(sent, payload={**sent.payload, "delivered_at": plan.work[0].isoformat()})
    rows.append(OutboxRow(work, work_copy, when(plan.work) if plan.work is not None else default))
    return rows, [(handoff.dossier_id, handoff.event_id, h) for h in plan.hits]
