"""Applying one step (runtime/steps.py) with fakes: no broker, no database. What goes into the
outbox is the contract's sequence: started, completed or rejected, then one handoff per route,
each as a work message and as its slimmed lifecycle copy under the same event id."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

from contracts import topics
from contracts.chains import PORTAL_RESULT, Route, load_chains
from contracts.clock import VN_TZ, SimClock
from contracts.envelope import new_event
from contracts.event_types import HANDOFF_SENT, STEP_COMPLETED, STEP_REJECTED, STEP_STARTED
from runtime.emitter import Emitter
from runtime.steps import finish
from runtime.work import Completed, Outcome, Rejected, StepContext, WorkItem

AT = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)
PID = "042024000017"


def _item() -> WorkItem:
    handoff = new_event(
        HANDOFF_SENT,
        "motcua",
        AT,
        dossier_id="D-1",
        chain="birth",
        payload={
            "to": "hotich",
            "to_step": "register_birth",
            "dossier": {"procedures": []},
            "results": {},
            "next": [{"agency": "cutru", "step": "register_residence"}, {"agency": "bhxh", "step": "issue_bhyt"}],
        },
    )
    return WorkItem.from_event(handoff)


def _apply(outcome: Outcome) -> Emitter:
    async def handler(_conn: Any, _item: WorkItem, _ctx: StepContext) -> Outcome:
        return outcome

    item = _item()
    emit = Emitter(item, "hotich", AT)
    ctx = StepContext("hotich", SimClock(AT, 0.0), load_chains(), random.Random(1), AT)
    asyncio.run(finish(object(), item, emit, handler, ctx, with_start=True))
    return emit


def test_a_completed_step_starts_completes_and_hands_the_dossier_to_every_next_step() -> None:
    emit = _apply(Completed({"personal_id": PID}))
    events = [(topic, e.type, e.payload.get("to")) for topic, e, _ in emit.rows]
    lifecycle, cutru, bhxh = topics.dossier_events(), topics.work("cutru"), topics.work("bhxh")
    assert events == [
        (lifecycle, STEP_STARTED, None),
        (lifecycle, STEP_COMPLETED, None),
        (lifecycle, HANDOFF_SENT, "cutru"),
        (cutru, HANDOFF_SENT, "cutru"),
        (lifecycle, HANDOFF_SENT, "bhxh"),
        (bhxh, HANDOFF_SENT, "bhxh"),
    ]
    to_cutru = next(e for topic, e, _ in emit.rows if topic == cutru)
    copy = next(e for topic, e, _ in emit.rows if topic == lifecycle and e.payload.get("to") == "cutru")
    assert copy.event_id == to_cutru.event_id
    assert "dossier" not in copy.payload
    assert "results" not in copy.payload
    assert to_cutru.payload["results"] == {"register_birth": {"personal_id": PID}}
    assert to_cutru.payload["next"] == [PORTAL_RESULT.as_dict()]  # residence is a last step


def test_a_refused_step_goes_to_the_portal_only_with_its_reason() -> None:
    emit = _apply(Rejected("sai thông tin cha mẹ", "identity_mismatch"))
    types = [e.type for _, e, _ in emit.rows]
    assert types == [STEP_STARTED, STEP_REJECTED, HANDOFF_SENT, HANDOFF_SENT]
    handoffs = [e for _, e, _ in emit.rows if e.type == HANDOFF_SENT]
    assert {(h.payload["to"], h.payload["to_step"]) for h in handoffs} == {(PORTAL_RESULT.agency, PORTAL_RESULT.step)}
    assert handoffs[0].payload["outcome"] == "rejected"
    assert handoffs[0].payload["code"] == "identity_mismatch"
    assert Route("portal", "result") == PORTAL_RESULT
