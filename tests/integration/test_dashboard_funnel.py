"""The console's funnel on a real PostgreSQL, from events written into the monitor's table: a step
that started but did not finish is waiting, not done. (The funnel counted `step.started` as
finished: every step showed 100 % on time and a median of 0 hours.) And where an unfinished
dossier waits, which `lienthong run` reports when it ends with dossiers in progress."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains
from runtime import db
from streams.console import waiting
from streams.funnel import funnel
from streams.store import DDL
from tests.integration.conftest import Infra

T0 = datetime.fromisoformat("2024-03-04T08:00:00+07:00")  # a Monday
Write = Callable[..., Awaitable[None]]


@pytest.fixture
async def log(infra: Infra) -> AsyncIterator[tuple[Any, Write]]:
    """A fresh database with the monitor's tables, and a way to write one event into its log."""
    name = f"it_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(infra.admin_url, name)
    conn = await asyncpg.connect(infra.admin_url.rsplit("/", 1)[0] + f"/{name}")
    await conn.execute(DDL)
    offset = itertools.count()

    async def event(dossier: str, type_: str, agency: str, step: str | None, at: datetime, **payload: str) -> None:
        await conn.execute(
            "INSERT INTO monitor.events (event_id, dossier_id, chain, type, agency, step, occurred_at, payload, "
            "partition, \"offset\") VALUES ($1, $2, 'birth', $3, $4, $5, $6, $7, 0, $8)",
            uuid.uuid4(), dossier, type_, agency, step, at, json.dumps(payload), next(offset),
        )  # fmt: skip

    try:
        yield conn, event
    finally:
        await conn.close()


async def test_a_step_started_but_not_finished_is_waiting_not_done(log: tuple[Any, Write]) -> None:
    conn, event = log
    deadline = T0.replace(hour=17).isoformat()
    for dossier, hours in (("d-on-time", 2), ("d-late", 30), ("d-waiting", None)):
        await event(dossier, "dossier.submitted", "portal", None, T0)
        await event(dossier, "handoff.received", "motcua", "intake", T0)
        await event(dossier, "step.started", "motcua", "intake", T0, deadline=deadline)
        if hours is not None:
            await event(dossier, "step.completed", "motcua", "intake", T0 + timedelta(hours=hours))
    flows = await funnel(conn, load_chains(), WorkingCalendar())
    birth = next(f for f in flows if f["flow"] == "birth")
    intake = next(s for s in birth["steps"] if s["step"] == "intake")
    assert (intake["reached"], intake["finished"], intake["waiting"]) == (3, 2, 1)
    assert (intake["on_time"], intake["within_sla"]) == (1, 0.5)
    # Office hours: 2 h on Monday; 30 h later is Tuesday 14:00, i.e. 9 h Monday + 6.5 h Tuesday;
    # p90 between the two (2 + 0.9 × 13.5).
    assert (intake["p50_working_hours"], intake["p90_working_hours"]) == (8.75, 14.15)
    assert birth["submitted"] == 3


async def test_an_unfinished_dossier_waits_where_its_newest_event_left_it(log: tuple[Any, Write]) -> None:
    conn, event = log
    await event("d-closed", "dossier.submitted", "portal", None, T0)
    await event("d-closed", "dossier.closed", "portal", None, T0, outcome="completed")
    await event("d-working", "dossier.submitted", "portal", None, T0)
    await event("d-working", "handoff.received", "hotich", "register_birth", T0)
    await event("d-working", "step.started", "hotich", "register_birth", T0)
    await event("d-lost", "dossier.submitted", "portal", None, T0)
    await event("d-lost", "step.completed", "hotich", "register_birth", T0)
    await event("d-lost", "handoff.sent", "hotich", "register_birth", T0, to="cutru", to_step="register_residence")
    assert await waiting(conn) == {
        "d-working": "hotich/register_birth",
        "d-lost": "cutru/register_residence (sent, not received)",
    }


async def test_each_flow_says_how_many_dossiers_closed_by_their_legal_deadline(log: tuple[Any, Write]) -> None:
    """Every step on time and the dossier still late: time lost between agencies counts in the
    flow's figure against the appointment date (it counted nowhere)."""
    conn, event = log
    due = (T0 + timedelta(days=3)).isoformat()
    for dossier, closed_after in (("d-in-time", 1), ("d-late", 60), ("d-open", None)):
        await event(dossier, "dossier.submitted", "portal", None, T0, due_at=due)
        if closed_after is not None:
            await event(dossier, "dossier.closed", "portal", "result", T0 + timedelta(days=closed_after))
    birth = next(f for f in await funnel(conn, load_chains(), WorkingCalendar()) if f["flow"] == "birth")
    assert birth["on_time_legal"] == 0.5  # of the two closed, one by its deadline; the open one waits


async def test_a_dossier_received_and_not_yet_taken_up_waits_at_its_desk(log: tuple[Any, Write]) -> None:
    """The console's "Chờ cán bộ tiếp nhận": received, no `step.started` by the page's moment."""
    from streams.console import desks

    conn, event = log
    for n in range(3):
        await event(f"d-{n}", "handoff.received", "motcua", "intake", T0 + timedelta(minutes=n))
    await event("d-0", "step.started", "motcua", "intake", T0 + timedelta(minutes=5))
    await event("d-1", "step.started", "motcua", "intake", T0 + timedelta(hours=2))  # taken up later
    await event("d-9", "handoff.received", "hotich", "register_birth", T0)
    await event("d-9", "step.started", "hotich", "register_birth", T0)  # at once: never waits
    rows = await desks(conn, T0 + timedelta(hours=1))
    assert [(r["agency"], r["step"], r["waiting"], r["oldest"]) for r in rows] == [
        ("motcua", "intake", 2, T0 + timedelta(minutes=1))
    ]
    assert await desks(conn, T0 + timedelta(hours=3)) == [
        {"chain": "birth", "agency": "motcua", "step": "intake", "waiting": 1, "oldest": T0 + timedelta(minutes=2)}
    ]
