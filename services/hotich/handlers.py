"""Civil-status handlers: which step runs which function."""

from __future__ import annotations

import uuid

import asyncpg

from runtime.conn import Conn
from runtime.verification import asked, settle, verify
from runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem
from services.hotich.domain import Refused, deceased, decide_birth, decide_death, parents


async def _refuse(conn: Conn, item: WorkItem, ctx: StepContext, reason: str, code: str) -> Outcome:
    await conn.execute(
        "INSERT INTO hotich.refusals (dossier_id, step, reason, refused_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (dossier_id) DO NOTHING",
        item.dossier_id,
        item.to_step,
        reason,
        ctx.now,
    )
    return Rejected(reason, code)


async def _given_to_population(item: WorkItem, ctx: StepContext, personal_id: str) -> Outcome:
    """The newborn's record handed to the population database: the registration is done once it
    took it (a redelivered or retried step hands the same record again, which it takes once)."""
    child = item.dossier["child"]
    answer = await ctx.population.record_birth(personal_id, child["sex"], child["birth_date"], asked(ctx, item))
    return settle(answer, ctx.now) or Completed({"personal_id": personal_id})


async def register_birth(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    existing = await conn.fetchval(
        "SELECT personal_id FROM hotich.birth_registrations WHERE dossier_id = $1", item.dossier_id
    )
    if existing:  # the same dossier again: the child already has its one ID number
        return await _given_to_population(item, ctx, existing)
    now = ctx.now
    for _ in range(20):
        decision = decide_birth(item.dossier, now.date(), ctx.rng)
        if isinstance(decision, Refused):
            return await _refuse(conn, item, ctx, decision.reason, decision.code)
        checked = await verify(ctx, item, parents(item.dossier))
        if isinstance(checked, Rejected):
            return await _refuse(conn, item, ctx, checked.reason, checked.code or "invalid_data")
        if checked is not None:
            return checked
        child = item.dossier["child"]
        try:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO hotich.birth_registrations "
                    "(dossier_id, personal_id, sex, birth_date, registered_at, source_event_id) "
                    "VALUES ($1, $2, $3, $4::text::date, $5, $6)",
                    item.dossier_id,
                    decision.personal_id,
                    child["sex"],
                    child["birth_date"],
                    now,
                    uuid.UUID(item.event.event_id),
                )
        except asyncpg.UniqueViolationError:
            continue  # six random digits collided with another child's number: draw again
        return await _given_to_population(item, ctx, decision.personal_id)
    raise RuntimeError("could not draw a free personal ID number in 20 attempts")


async def register_death(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    now = ctx.now
    decision = decide_death(item.dossier, now.date())
    if isinstance(decision, Refused):
        return await _refuse(conn, item, ctx, decision.reason, decision.code)
    checked = await verify(ctx, item, [deceased(item.dossier)])
    if isinstance(checked, Rejected):
        return await _refuse(conn, item, ctx, checked.reason, checked.code or "invalid_data")
    if checked is not None:
        return checked
    row = await conn.fetchrow(
        "SELECT dossier_id FROM hotich.death_registrations WHERE personal_id = $1", decision.personal_id
    )
    if row and row["dossier_id"] != item.dossier_id:
        return await _refuse(conn, item, ctx, "this person's death is already registered", "duplicate")
    await conn.execute(
        "INSERT INTO hotich.death_registrations "
        "(dossier_id, personal_id, death_date, registered_at, source_event_id) "
        "VALUES ($1, $2, $3::text::date, $4, $5) ON CONFLICT (dossier_id) DO NOTHING",
        item.dossier_id,
        decision.personal_id,
        item.dossier["deceased"]["death_date"],
        now,
        uuid.UUID(item.event.event_id),
    )
    return Completed({"personal_id": decision.personal_id})


HANDLERS: dict[str, Handler] = {"register_birth": register_birth, "register_death": register_death}
