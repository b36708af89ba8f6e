"""Residence handlers: which step runs which function."""

from __future__ import annotations

import uuid

from runtime.conn import Conn
from runtime.population import Person
from runtime.verification import verify
from runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem
from services.cutru.domain import residence_problem


async def register_residence(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    problem = residence_problem(item.dossier, item.results)
    if problem:
        return Rejected(problem)
    personal_id = item.results["register_birth"]["personal_id"]
    done = await conn.fetchval("SELECT 1 FROM cutru.residence_registrations WHERE dossier_id = $1", item.dossier_id)
    if not done:
        # The child is registered at the address in the population database's record of them: a
        # birth civil status registered that has not reached the database yet waits (not refused).
        child = item.dossier["child"]
        born = int(str(child["birth_date"])[:4])
        checked = await verify(ctx, item, [Person("child", personal_id, child["sex"], born)], registered_here=True)
        if checked is not None:
            return checked
    row = await conn.fetchrow(
        "INSERT INTO cutru.residence_registrations (dossier_id, personal_id, address, registered_at, source_event_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dossier_id) DO UPDATE SET dossier_id = EXCLUDED.dossier_id "
        "RETURNING registered_at",
        item.dossier_id,
        personal_id,
        item.dossier["residence"]["address"],
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    assert row is not None  # an upsert RETURNING always answers a row
    return Completed({"personal_id": personal_id, "registered_at": row["registered_at"].isoformat()})


async def remove_residence(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    personal_id = item.results.get("register_death", {}).get("personal_id")
    if not personal_id:
        return Rejected("no death registration from civil status: residence cannot be removed")
    await conn.execute(
        "INSERT INTO cutru.residence_removals (dossier_id, personal_id, removed_at, source_event_id) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (dossier_id) DO NOTHING",
        item.dossier_id,
        personal_id,
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    return Completed({"personal_id": personal_id})


HANDLERS: dict[str, Handler] = {"register_residence": register_residence, "remove_residence": remove_residence}
