"""A dossier's lifecycle events as a healthy simulator emits them, built purely from the chain
data and the work planner, so detector tests run without a broker."""

from __future__ import annotations

import random
from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import PORTAL_RESULT, Chain, Route
from contracts.envelope import Event, new_event
from runtime.schedule import COMPLETED, STARTED, plan_work

cal = WorkingCalendar()


def healthy_timeline(
    chain: Chain, dossier_id: str, submitted: datetime, rng: random.Random, procedures: tuple[str, ...] = ()
) -> list[Event]:
    """Every event of one dossier through `chain`, in time order, as the agencies emit them."""
    due = cal.deadline(submitted, chain.group_sla())
    events: list[Event] = []

    def emit(type_: str, agency: str, at: datetime, step: str | None, payload: dict) -> Event:  # type: ignore[type-arg]
        e = new_event(type_, agency, at, dossier_id=dossier_id, chain=chain.name, step=step, payload=payload)
        events.append(e)
        return e

    emit(
        "dossier.submitted",
        "portal",
        submitted,
        None,
        {
            "channel": "online",
            "procedures": list(procedures),
            "area": {},
            "due_at": due.isoformat(),
        },
    )
    pending: list[tuple[str, Route, datetime, Event]] = []
    first = chain.first
    sent = emit("handoff.sent", "portal", submitted, None, {"to": first.agency, "to_step": first.name})
    pending.append(("portal", Route(first.agency, first.name), submitted, sent))
    closed_at = submitted
    results = 0
    expected = len(chain.terminal_steps(procedures))
    while pending:
        _sender, route, at, sent_event = pending.pop(0)
        payload = {"from": sent_event.agency, "sent_event_id": sent_event.event_id}
        if route == PORTAL_RESULT:
            emit("handoff.received", "portal", at, "result", payload)
            emit("result.synced", "portal", at, "result", {"outcome": "completed"})
            results += 1
            closed_at = max(closed_at, at)
            if results == expected:
                emit("dossier.closed", "portal", closed_at, "result", {"outcome": "completed"})
            continue
        emit("handoff.received", route.agency, at, route.step, payload)
        plan = plan_work(chain.step(route.step), at, cal, rng)
        for m in plan.milestones:
            if m.kind == STARTED:
                emit("step.started", route.agency, m.at, route.step, {"deadline": plan.deadline.isoformat()})
            elif m.kind == COMPLETED:
                emit("step.completed", route.agency, m.at, route.step, {"result": {}})
                for nxt in chain.next_routes(route.step, procedures):
                    e = emit("handoff.sent", route.agency, m.at, route.step, {"to": nxt.agency, "to_step": nxt.step})
                    pending.append((route.agency, nxt, m.at, e))
            else:
                emit("step.state", route.agency, m.at, route.step, {"state": m.kind})
        pending.sort(key=lambda p: p[2])
    events.sort(key=lambda e: e.occurred_at)
    return events
