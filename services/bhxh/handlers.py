"""Social-security handlers: which step runs which function."""

from __future__ import annotations

import uuid
from datetime import date

from runtime.conn import Conn
from runtime.effects import record_once
from runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem
from services.bhxh.domain import NotEligible, burial_allowance, child_bhyt_card, survivor_benefit


async def issue_bhyt(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = item.results.get("register_birth", {}).get("personal_id")
    if not personal_id:
        return Rejected("no personal ID number from civil status: no BHYT card", "missing_upstream_result")
    now = ctx.now
    card = child_bhyt_card(personal_id, date.fromisoformat(item.dossier["child"]["birth_date"]), now.date())
    if isinstance(card, str):
        return Rejected(card, "not_eligible")
    row = await conn.fetchrow(
        "INSERT INTO bhxh.bhyt_cards "
        "(dossier_id, card_no, personal_id, valid_from, valid_until, issued_at, source_event_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dossier_id) DO UPDATE SET dossier_id = EXCLUDED.dossier_id "
        "RETURNING card_no, valid_until",
        item.dossier_id,
        card.card_no,
        personal_id,
        card.valid_from,
        card.valid_until,
        now,
        uuid.UUID(item.event.event_id),
    )
    assert row is not None  # an upsert RETURNING always answers a row
    return Completed({"card_no": row["card_no"], "valid_until": row["valid_until"].isoformat()})


def _deceased(item: WorkItem) -> str | None:
    pid = item.results.get("register_death", {}).get("personal_id")
    return str(pid) if pid else None


async def pay_burial_allowance(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = _deceased(item)
    if not personal_id:
        return Rejected("no death registration from civil status: no burial allowance", "missing_upstream_result")
    death_date = date.fromisoformat(item.dossier["deceased"]["death_date"])
    decision = burial_allowance(item.dossier.get("beneficiary_type"), death_date)
    if isinstance(decision, NotEligible):
        return Rejected(decision.reason, "not_eligible")
    values = {"amount_vnd": decision.amount_vnd, "paid_at": ctx.now}
    return await record_once(conn, item, "bhxh.burial_payments", personal_id, values, "a burial allowance")


async def decide_survivor_benefit(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = _deceased(item)
    if not personal_id:
        return Rejected("no death registration from civil status: no survivor benefit", "missing_upstream_result")
    decision = survivor_benefit(item.dossier.get("beneficiary_type"))
    if isinstance(decision, NotEligible):
        return Rejected(decision.reason, "not_eligible")
    values = {"kind": decision.kind, "decided_at": ctx.now}
    return await record_once(conn, item, "bhxh.survivor_benefits", personal_id, values, "a survivor benefit")


HANDLERS: dict[str, Handler] = {
    "issue_bhyt": issue_bhyt,
    "burial_allowance": pay_burial_allowance,
    "survivor_benefit": decide_survivor_benefit,
}
