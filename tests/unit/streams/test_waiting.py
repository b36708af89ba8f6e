"""Where an unfinished dossier waits: its open branches, not its newest event."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from contracts.chains import load_chains
from contracts.clock import VN_TZ
from streams.waiting import where_waiting
from tests.unit.streams.model import healthy_timeline

CHAINS = load_chains()


def rows(events: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "event_id": e.event_id,
            "type": e.type,
            "agency": e.agency,
            "step": e.step,
            "occurred_at": e.occurred_at,
            "payload": e.payload,
        }
        for e in events
    ]


def test_a_birth_whose_card_came_back_waits_at_residence_not_at_the_portal() -> None:
    """Regression: `waiting_at` named `portal/result` for dossiers held at cutru, because the newest
    event was the portal's receipt of the BHYT card's result."""
    events = healthy_timeline(CHAINS["birth"], "d-1", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(1))
    to_cutru = next(e for e in events if e.type == "handoff.received" and e.agency == "cutru")
    cutru_done = [e for e in events if e.agency == "cutru" and e.occurred_at >= to_cutru.occurred_at]
    never_received = [e for e in events if e is not to_cutru and e not in cutru_done and e.type != "dossier.closed"]
    never_received = [
        e
        for e in never_received
        if not (e.agency == "portal" and e.step == "result" and e.payload.get("from") == "cutru")
    ]
    assert where_waiting(rows(never_received)) == "cutru/register_residence (sent, not received)"
    not_finished = [
        e
        for e in events
        if e.type != "dossier.closed"
        and not (e.agency == "cutru" and e.type in ("step.completed", "handoff.sent"))
        and not (e.agency == "portal" and e.payload.get("from") == "cutru")
    ]
    assert where_waiting(rows(not_finished)) == "cutru/register_residence"


def test_with_no_open_branch_the_newest_event_tells() -> None:
    events = healthy_timeline(CHAINS["lltp"], "d-2", datetime(2024, 3, 4, 9, tzinfo=VN_TZ), random.Random(2))
    unclosed = [e for e in events if e.type != "dossier.closed"]
    assert where_waiting(rows(unclosed)) == "portal/result"
