"""Social-protection handlers: which step runs which function."""

from __future__ import annotations

from datetime import date

from runtime.conn import Conn
from runtime.effects import record_once
from runtime.work import Handler, Outcome, Rejected, StepContext, WorkItem
from services.btxh.domain import burial_support


async def pay_burial_support(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = item.results.get("register_death", {}).get("personal_id")
    if not personal_id:
        return Rejected("no death registration from civil status: no burial support", "missing_upstream_result")
    support = burial_support(
        item.dossier.get("beneficiary_type"), date.fromisoformat(item.dossier["deceased"]["death_date"])
    )
    if isinstance(support, str):
        return Rejected(support, "not_eligible")
    values = {"amount_vnd": support.amount_vnd, "basis": support.basis, "paid_at": ctx.now}
    return await record_once(conn, item, "btxh.burial_payments", personal_id, values, "burial support")


HANDLERS: dict[str, Handler] = {"burial_support": pay_burial_support}
