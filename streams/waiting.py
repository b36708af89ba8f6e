"""Where an unfinished dossier waits, from its lifecycle events: pure.

A dossier whose chain splits (birth: residence and the BHYT card in parallel) can have one branch
finished and its result back at the portal while the other waits. So the place is not its newest
event but its open branches: a handoff sent and never received waits at its receiver ("sent, not
received"); a step received and never finished waits at that step. The newest event is the answer
only when no branch is open (every step done, the closing missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ENDS = frozenset({"step.completed", "step.rejected"})


def where_waiting(events: Sequence[Mapping[str, Any]]) -> str:
    """`agency/step`, or `agency/step (sent, not received)`, for a dossier's events in time order;
    several open branches are joined with " + ", the earliest first."""
    sent: dict[str, Mapping[str, Any]] = {}
    received: set[str] = set()
    started: dict[tuple[str, str], Mapping[str, Any]] = {}
    finished: set[tuple[str, str]] = set()
    for e in events:
        payload = e.get("payload") or {}
        if e["type"] == "handoff.sent":
            sent[str(e["event_id"])] = e
        elif e["type"] == "handoff.received":
            received.add(str(payload.get("sent_event_id")))
            started.setdefault((e["agency"], e["step"] or ""), e)
        elif e["type"] in ENDS:
            finished.add((e["agency"], e["step"] or ""))
    open_places: list[tuple[Any, str]] = []
    for event_id, e in sent.items():
        payload = e.get("payload") or {}
        if event_id not in received:
            open_places.append((e["occurred_at"], f"{payload.get('to')}/{payload.get('to_step')} (sent, not received)"))
    for (agency, step), e in started.items():
        if (agency, step) not in finished and agency != "portal":
            open_places.append((e["occurred_at"], f"{agency}/{step}"))
    if open_places:
        return " + ".join(place for _, place in sorted(open_places, key=lambda p: p[0]))
    newest = next((e for e in reversed(events) if e["type"] != "result.synced"), None)
    if newest is None:
        return "submitted"
    return f"{newest['agency']}/{newest['step'] or 'submitted'}"
