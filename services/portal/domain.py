"""Portal decisions, pure: what a submission becomes, and when a dossier is done."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.calendar import WorkingCalendar
from contracts.chains import Chain
from contracts.dossiers import Submission
from contracts.envelope import Event, new_event
from contracts.event_types import DOSSIER_SUBMITTED, HANDOFF_SENT
from contracts.states import DossierState, PortalStatus


@dataclass(frozen=True)
class Plan:
    """What accepting a submission writes: the dossier row and the events to publish."""

    expected_results: list[str]
    due_at: datetime
    submitted: Event
    handoff: Event


def plan_submission(
    sub: Submission, chain: Chain, now: datetime, dossier_id: str, trace_id: str, calendar: WorkingCalendar
) -> Plan:
    expected = chain.terminal_steps(sub.procedures)
    due_at = calendar.deadline(now, chain.group_sla(sub.needs_verification))
    submitted = new_event(
        DOSSIER_SUBMITTED,
        "portal",
        now,
        dossier_id=dossier_id,
        chain=sub.chain,
        step=None,
        trace_id=trace_id,
        payload={
            "channel": sub.channel,
            "procedures": list(sub.procedures),
            "area": sub.area,
            "fee_bearing": sub.fee_bearing,
            "paid_online": sub.paid_online,
            "return_by_post": sub.return_by_post,
            "needs_verification": sub.needs_verification,
            "expected_results": expected,
            "due_at": due_at.isoformat(),
        },
    )
    first = chain.first
    handoff = new_event(
        HANDOFF_SENT,
        "portal",
        now,
        dossier_id=dossier_id,
        chain=sub.chain,
        step=None,
        trace_id=trace_id,
        payload={
            "to": first.agency,
            "to_step": first.name,
            "dossier": {
                **sub.data,
                "procedures": list(sub.procedures),
                "needs_verification": sub.needs_verification,
            },
            "results": {},
            "next": [r.as_dict() for r in chain.next_routes(first.name, sub.procedures)],
        },
    )
    return Plan(expected, due_at, submitted, handoff)


@dataclass(frozen=True)
class Verdict:
    status: PortalStatus
    reason: str | None = None


def verdict(expected: Iterable[str], results: Mapping[str, Mapping[str, Any]]) -> Verdict:
    """Whether the results received so far finish the dossier.

    `results` maps a step to {"outcome", "reason"}; any refusal ends the dossier refused.
    """
    for step, r in results.items():
        if r.get("outcome") == "rejected":
            return Verdict(PortalStatus.REJECTED, r.get("reason") or f"{step} refused")
    if set(expected) <= {s for s, r in results.items() if r.get("outcome") == "completed"}:
        return Verdict(PortalStatus.COMPLETED)
    return Verdict(PortalStatus.IN_PROGRESS)


def citizen_state(status: str) -> DossierState:
    """The state label the citizen sees for a portal status."""
    return {
        PortalStatus.COMPLETED.value: DossierState.RESULT_RETURNED,
        PortalStatus.REJECTED.value: DossierState.REFUSED,
    }.get(status, DossierState.IN_PROGRESS)
