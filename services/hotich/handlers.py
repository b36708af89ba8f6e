"""Civil-status handlers: which step runs which function."""

from __future__ import annotations

import uuid

import asyncpg

from runtime.conn import Conn
from runtime.population import Person
from runtime.verification import asked, settle, verify
from runtime.work import Completed, Handler, Outcome, Rejected, StepContext, WorkItem
from services.hotich.domain import (
    Refused,
    deceased,
    decide_birth,
    decide_death,
    marriage_problem,
    parents,
    partner,
    spouse_to_be,
)


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


async def _checked(conn: Conn, item: WorkItem, ctx: StepContext, people: list[Person]) -> Outcome | None:
    """None when the population database knows `people`; else the refusal (recorded) or the wait."""
    checked = await verify(ctx, item, people)
    if isinstance(checked, Rejected):
        return await _refuse(conn, item, ctx, checked.reason, checked.code or "invalid_data")
    return checked


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
        held = await _checked(conn, item, ctx, parents(item.dossier))
        if held is not None:
            return held
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
    held = await _checked(conn, item, ctx, [deceased(item.dossier)])
    if held is not None:
        return held
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


def _commune(ctx: StepContext, item: WorkItem) -> str:
    """The commune whose office does this step (the partner's, for their marital status)."""
    step = ctx.chains[item.event.chain or ""].step(item.to_step)
    return str(step.area(item.dossier).get("commune", ""))


async def _married(conn: Conn, personal_id: str, dossier_id: str) -> bool:
    """Whether the register holds this person in a marriage other than this dossier's."""
    other = await conn.fetchval("SELECT dossier_id FROM hotich.spouses WHERE personal_id = $1", personal_id)
    return other is not None and other != dossier_id


async def confirm_marital_status(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    """The partner's commune confirms, from the civil-status register, that they are not married."""
    done = await conn.fetchrow(
        "SELECT confirmation_no, commune FROM hotich.marital_confirmations WHERE dossier_id = $1", item.dossier_id
    )
    if done:
        return Completed(dict(done))
    who = partner(item.dossier)
    held = await _checked(conn, item, ctx, [who])
    if held is not None:
        return held
    if await _married(conn, who.personal_id, item.dossier_id):
        return await _refuse(conn, item, ctx, "the partner is married: the register holds their marriage", "married")
    commune = _commune(ctx, item)
    seq = await conn.fetchval("SELECT nextval('hotich.marriage_seq')")
    number = f"{seq:06d}/{ctx.now.year}/XNTTHN-{commune}"
    await conn.execute(
        "INSERT INTO hotich.marital_confirmations (dossier_id, confirmation_no, personal_id, commune, confirmed_at, "
        "source_event_id) VALUES ($1, $2, $3, $4, $5, $6)",
        item.dossier_id,
        number,
        who.personal_id,
        commune,
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    return Completed({"confirmation_no": number, "commune": commune})


async def register_marriage(conn: Conn, item: WorkItem, ctx: StepContext) -> Outcome:
    """The applicant's commune registers the marriage, once the partner's status is confirmed."""
    done = await conn.fetchrow(
        "SELECT certificate_no, commune FROM hotich.marriages WHERE dossier_id = $1", item.dossier_id
    )
    if done:
        return Completed(dict(done))
    problem = marriage_problem(item.dossier, ctx.now.date())
    if problem:
        return await _refuse(conn, item, ctx, problem, "not_eligible")
    applicant, other = spouse_to_be(item.dossier), partner(item.dossier)
    held = await _checked(conn, item, ctx, [applicant])
    if held is not None:
        return held
    for who in (applicant, other):
        if await _married(conn, who.personal_id, item.dossier_id):
            return await _refuse(conn, item, ctx, f"the {who.role} is married: the register holds it", "married")
    commune = _commune(ctx, item)
    seq = await conn.fetchval("SELECT nextval('hotich.marriage_seq')")
    number = f"{seq:06d}/{ctx.now.year}/KH-{commune}"
    try:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO hotich.spouses (personal_id, dossier_id) VALUES ($1, $2)",
                [(applicant.personal_id, item.dossier_id), (other.personal_id, item.dossier_id)],
            )
    except asyncpg.UniqueViolationError:
        # Registered meanwhile in another dossier of one of them: the register holds one marriage.
        return await _refuse(conn, item, ctx, "one of the two is married: the register holds it", "married")
    await conn.execute(
        "INSERT INTO hotich.marriages (dossier_id, certificate_no, applicant_id, partner_id, commune, registered_at, "
        "source_event_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        item.dossier_id,
        number,
        applicant.personal_id,
        other.personal_id,
        commune,
        ctx.now,
        uuid.UUID(item.event.event_id),
    )
    return Completed({"certificate_no": number, "commune": commune})


HANDLERS: dict[str, Handler] = {
    "register_birth": register_birth,
    "register_death": register_death,
    "confirm_marital_status": confirm_marital_status,
    "register_marriage": register_marriage,
}
