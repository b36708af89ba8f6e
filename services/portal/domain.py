"""Portal decisions, pure: what a submission becomes, and when a dossier is done."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.calendar import WorkingCalendar
from contracts.chains import Chain
from contracts.dossiers import Submission
from contracts.envelope import Event, new_event
from contracts.event_types import DOSSIER_CLOSED, DOSSIER_SUBMITTED, HANDOFF_SENT, STEP_COMPLETED, STEP_REJECTED
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
            "paid_on": sub.paid_on,
            **({"exempt_reason": sub.exempt_reason} if sub.exempt_reason else {}),
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


def status_from_events(types_and_payloads: Iterable[tuple[str, Mapping[str, Any]]]) -> Verdict:
    """A dossier's status told by its lifecycle events alone: for a dossier the portal did not
    take in itself (an external producer submitted it), its closing says how it ended, and a
    refusal at any step ends it refused."""
    refused: str | None = None
    for event_type, payload in types_and_payloads:
        if event_type == DOSSIER_CLOSED:
            outcome = payload.get("outcome")
            if outcome == "completed":
                return Verdict(PortalStatus.COMPLETED)
            return Verdict(PortalStatus.REJECTED, payload.get("reason") or refused)
        if event_type == STEP_REJECTED and refused is None:
            refused = str(payload.get("reason") or "refused")
    if refused is not None:
        return Verdict(PortalStatus.REJECTED, refused)
    return Verdict(PortalStatus.IN_PROGRESS)


def external_view(dossier_id: str, timeline: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the portal says of a dossier it knows from the event log only (`timeline`: its
    lifecycle events, oldest first, each with type, step, occurred_at, payload as a dict, chain):
    the chain, how it stands, when it was submitted and closed, each step's outcome."""
    verdict = status_from_events((t["type"], t["payload"]) for t in timeline)
    state = citizen_state(verdict.status.value)
    closed = [t["occurred_at"] for t in timeline if t["type"] == DOSSIER_CLOSED]
    submitted = [t["occurred_at"] for t in timeline if t["type"] == DOSSIER_SUBMITTED]
    results: dict[str, dict[str, Any]] = {}
    for t in timeline:
        if t["type"] in (STEP_COMPLETED, STEP_REJECTED) and t["step"]:
            results[t["step"]] = {
                "outcome": "completed" if t["type"] == STEP_COMPLETED else "rejected",
                "reason": t["payload"].get("reason"),
                "result": t["payload"].get("result", {}),
                "received_at": t["occurred_at"],
            }
    return {
        "dossier_id": dossier_id,
        "chain": next((t["chain"] for t in timeline if t.get("chain")), None),
        "received_by_portal": False,
        "status": verdict.status.value,
        "reason": verdict.reason,
        "submitted_at": submitted[0] if submitted else timeline[0]["occurred_at"],
        "closed_at": closed[0] if closed else None,
        "state": state.value,
        "state_vi": state.label_vi,
        "portal_code": state.portal_code,
        "results": results,
    }
