"""Portal handlers: the result step, where each chain's results come back."""

from __future__ import annotations

import json
from typing import Any

from contracts.event_types import DOSSIER_CLOSED, RESULT_SYNCED
from contracts.states import PortalStatus
from runtime.conn import Conn
from runtime.work import Absorbed, Handler, Outcome, StepContext, WorkItem
from services.portal.domain import verdict


async def receive_result(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    now = ctx.now
    step = item.event.step or "?"
    outcome = item.outcome or "completed"
    result = item.results.get(step, {}) if outcome == "completed" else {}
    dossier = await conn.fetchrow(
        "SELECT status, expected_results FROM portal.dossiers WHERE dossier_id = $1 FOR UPDATE", item.dossier_id
    )
    if dossier is None:
        # A result for a dossier this portal never accepted: refuse it loudly (dead letter).
        raise LookupError(f"result for unknown dossier {item.dossier_id}")
    await conn.execute(
        "INSERT INTO portal.results (dossier_id, step, outcome, reason, result, received_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dossier_id, step) DO NOTHING",
        item.dossier_id,
        step,
        outcome,
        item.reason,
        json.dumps(result, ensure_ascii=False),
        now,
    )
    events: list[tuple[str, dict[str, Any]]] = [(RESULT_SYNCED, {"outcome": outcome, "for_step": step})]
    if dossier["status"] != PortalStatus.IN_PROGRESS.value:
        return Absorbed(events)  # already closed (e.g. a late result after a refusal)
    rows = await conn.fetch("SELECT step, outcome, reason FROM portal.results WHERE dossier_id = $1", item.dossier_id)
    v = verdict(dossier["expected_results"], {r["step"]: dict(r) for r in rows})
    if v.status is not PortalStatus.IN_PROGRESS:
        await conn.execute(
            "UPDATE portal.dossiers SET status = $2, reason = $3, closed_at = $4 WHERE dossier_id = $1",
            item.dossier_id,
            v.status.value,
            v.reason,
            now,
        )
        closed: dict[str, Any] = {"outcome": v.status.value}
        if v.reason:
            closed["reason"] = v.reason
        events.append((DOSSIER_CLOSED, closed))
    return Absorbed(events)


HANDLERS: dict[str, Handler] = {"result": receive_result}
