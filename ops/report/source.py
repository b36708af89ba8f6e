"""Each dossier's report facts, read from the monitor's event log (its dossier.submitted and its
first dossier.closed, or for a result sent by post the completion of the step that made it): the
report reads what the stream carried, never an agency's database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg

from contracts import adminunits
from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains, posting_steps
from contracts.clock import VN_TZ
from contracts.dossiers import ONLINE_CHANNELS, POSTAL_PROCEDURE
from contracts.envelope import Event
from contracts.event_types import DOSSIER_CLOSED, DOSSIER_SUBMITTED, HANDOFF_RECEIVED, STEP_COMPLETED, STEP_STARTED
from ops.report.statistics import DossierFacts
from streams import queries, reportfacts


async def facts(url: str, before: datetime) -> tuple[list[DossierFacts], datetime | None]:
    """Facts of every dossier submitted before `before`, and the cut-off: the newest event stored."""
    conn = await asyncpg.connect(url)
    try:
        if not await queries.installed(conn):
            raise RuntimeError("the monitor has stored no event yet: run `lienthong run` first")
        rows, cutoff = await reportfacts.submissions(conn, before, POSTAL_PROCEDURE, resolving_steps(), first_steps())
    finally:
        await conn.close()
    return [to_facts(r) for r in rows], cutoff


def resolving_steps() -> list[str]:
    return posting_steps(load_chains())


def first_steps() -> list[str]:
    """The chains' first steps: the one-stop desk's intake, where a dossier waits for an officer."""
    return sorted({c.first.name for c in load_chains().values()})


CALENDAR = WorkingCalendar()


def waited(received: datetime | None, taken: datetime | None) -> int | None:
    """Office minutes between a receipt and its take-up, rounded; None without both."""
    if received is None or taken is None:
        return None
    return round(CALENDAR.working_hours_between(received, max(received, taken)) * 60)


def to_facts(r: Any) -> DossierFacts:
    taken = r["intake_taken_at"]
    queue = {"taken_at": taken, "waited_minutes": waited(r["intake_received_at"], taken)}
    if r["posted_at"] is not None:
        # Resolved when the certificate was issued; the post's delivery only closes it.
        return _facts(
            r["dossier_id"], r["chain"], json.loads(r["submitted"]), r["submitted_at"], r["posted_at"], "completed"
        ).with_queue(**queue)
    return _facts(
        r["dossier_id"], r["chain"], json.loads(r["submitted"]), r["submitted_at"], r["closed_at"], r["outcome"]
    ).with_queue(**queue)


def facts_from_events(events: Iterable[Event]) -> list[DossierFacts]:
    """The same facts folded from lifecycle events in memory, as `reportfacts.submissions` does in SQL: each
    dossier's submission and its first closing (a closing published again changes nothing), or
    for a result sent by post, the first completion of the step that resolved it."""
    resolving = set(resolving_steps())
    intake_steps = set(first_steps())
    submitted: list[Event] = []
    closed: dict[str, Event] = {}
    issued: dict[str, Event] = {}
    intake: dict[tuple[str, str], datetime] = {}
    for e in events:
        if e.dossier_id is not None and e.step in intake_steps and e.type in (HANDOFF_RECEIVED, STEP_STARTED):
            key = (e.dossier_id, e.type)
            intake[key] = min(intake.get(key, e.occurred_at), e.occurred_at)
        if e.type == DOSSIER_SUBMITTED:
            submitted.append(e)
        elif e.dossier_id is not None and (
            e.type == DOSSIER_CLOSED or (e.type == STEP_COMPLETED and e.step in resolving)
        ):
            seen = closed if e.type == DOSSIER_CLOSED else issued
            first = seen.get(e.dossier_id)
            if first is None or e.occurred_at < first.occurred_at:
                seen[e.dossier_id] = e
    out = []
    for s in submitted:
        assert s.dossier_id is not None
        taken = intake.get((s.dossier_id, STEP_STARTED))
        received = intake.get((s.dossier_id, HANDOFF_RECEIVED))
        i = issued.get(s.dossier_id) if POSTAL_PROCEDURE in (s.payload.get("procedures") or []) else None
        if i is not None:
            made = _facts(s.dossier_id, s.chain, s.payload, s.occurred_at, i.occurred_at, "completed")
        else:
            c = closed.get(s.dossier_id)
            outcome = str(c.payload["outcome"]) if c else None
            made = _facts(s.dossier_id, s.chain, s.payload, s.occurred_at, c.occurred_at if c else None, outcome)
        out.append(made.with_queue(taken_at=taken, waited_minutes=waited(received, taken)))
    return out


def _facts(
    dossier_id: str,
    chain: str | None,
    p: dict[str, Any],
    submitted_at: datetime,
    closed_at: datetime | None,
    outcome: str | None,
) -> DossierFacts:
    area = p.get("area") or {}
    return DossierFacts(
        dossier_id=dossier_id,
        flow=chain or "?",
        province=adminunits.province_name(area.get("province") or "?", submitted_at.astimezone(VN_TZ).date()),
        district=area.get("district") or (None if area.get("commune_code") else "?"),
        commune=area.get("commune") or "?",
        commune_code=area.get("commune_code"),
        online=p.get("channel") in ONLINE_CHANNELS,
        fee_bearing=bool(p.get("fee_bearing")),
        paid_online=bool(p.get("paid_online")),
        paid_on_national=p.get("paid_on", "national") == "national",
        exempt_reason=p.get("exempt_reason"),
        return_by_post=bool(p.get("return_by_post")),
        submitted_at=submitted_at,
        due_at=datetime.fromisoformat(p["due_at"]) if p.get("due_at") else submitted_at,
        closed_at=closed_at,
        outcome=outcome,
    )
