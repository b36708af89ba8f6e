"""One-stop handlers: which step runs which function."""

from __future__ import annotations

import uuid

from runtime.conn import Conn
from runtime.work import Completed, Handler, Outcome, StepContext, WorkItem
from services.motcua.domain import postal_item, receipt_code


async def intake(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    now = ctx.now
    area = item.dossier.get("area", {})
    code = receipt_code(area.get("province", "000"), now, item.dossier_id)
    # A second handoff of the same dossier (duplicate delivery) keeps the first record.
    row = await conn.fetchrow(
        "INSERT INTO motcua.records (dossier_id, chain, receipt_code, status, commune, received_at) "
        "VALUES ($1, $2, $3, 'forwarded', $4, $5) ON CONFLICT (dossier_id) DO UPDATE "
        "SET dossier_id = EXCLUDED.dossier_id RETURNING receipt_code",
        item.dossier_id,
        item.event.chain,
        code,
        area.get("commune"),
        now,
    )
    assert row is not None  # an upsert RETURNING always answers a row
    return Completed({"receipt_code": row["receipt_code"]})


async def return_by_post(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    """The postal item delivered: the handler runs at the step's planned end, when it arrives."""
    area = item.dossier.get("area", {})
    # A second handoff of the same dossier keeps the first item and its delivery.
    row = await conn.fetchrow(
        "INSERT INTO motcua.postal_items (dossier_id, item_no, commune, delivered_at, source_event_id) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (dossier_id) DO UPDATE SET dossier_id = EXCLUDED.dossier_id RETURNING item_no, delivered_at",
        item.dossier_id,
        postal_item(item.dossier_id),
        area.get("commune"),
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    assert row is not None  # an upsert RETURNING always answers a row
    return Completed({"postal_item": row["item_no"], "delivered_at": row["delivered_at"].isoformat()})


HANDLERS: dict[str, Handler] = {"intake": intake, "return_by_post": return_by_post}
