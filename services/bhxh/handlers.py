"""Social-security handlers: which step runs which function."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from services.bhxh.domain import child_bhyt_card
from services.runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem


async def issue_bhyt(conn: Any, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = item.results.get("register_birth", {}).get("personal_id")
    if not personal_id:
        return Rejected("no personal ID number from civil status: no BHYT card")
    now = ctx.clock.now()
    card = child_bhyt_card(personal_id, date.fromisoformat(item.dossier["child"]["birth_date"]), now.date())
    if isinstance(card, str):
        return Rejected(card)
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
    return Completed({"card_no": row["card_no"], "valid_until": row["valid_until"].isoformat()})


HANDLERS: dict[str, Handler] = {"issue_bhyt": issue_bhyt}
