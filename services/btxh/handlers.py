"""Social-protection handlers: which step runs which function."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from services.btxh.domain import burial_support
from services.runtime.effects import once
from services.runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem


async def pay_burial_support(conn: Any, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = item.results.get("register_death", {}).get("personal_id")
    if not personal_id:
        return Rejected("no death registration from civil status: no burial support", "missing_upstream_result")
    support = burial_support(
        item.dossier.get("beneficiary_type"), date.fromisoformat(item.dossier["deceased"]["death_date"])
    )
    if isinstance(support, str):
        return Rejected(support, "not_eligible")
    row = await once(
        conn,
        "btxh.burial_payments",
        item.dossier_id,
        personal_id,
        "INSERT INTO btxh.burial_payments (dossier_id, personal_id, amount_vnd, basis, paid_at, source_event_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING amount_vnd, basis",
        support.amount_vnd,
        support.basis,
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    if row is None:
        return Rejected("burial support was already paid for this death", "duplicate")
    return Completed({"amount_vnd": row["amount_vnd"], "basis": row["basis"]})


HANDLERS: dict[str, Handler] = {"burial_support": pay_burial_support}
