"""One alert per incident, in the monitor's real store (PostgreSQL): a dossier's lost and stuck
findings join its open incident, which stays open until each finding closed; what the CLI and the
dashboard read agree."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from contracts.clock import VN_TZ
from runtime import db
from streams import queries, store

T0 = datetime(2024, 1, 8, 8, 0, tzinfo=VN_TZ)


@pytest.fixture
async def conn(postgres: dict[str, Any]) -> AsyncIterator[Any]:
    name = f"it_{uuid.uuid4().hex[:10]}"
    await db.ensure_database(postgres["admin_url"], name)
    c = await asyncpg.connect(postgres["admin_url"].rsplit("/", 1)[0] + f"/{name}")
    try:
        await store.apply_schema(c)
        yield c
    finally:
        await c.close()


async def find(c: Any, kind: str, subject: str, dossier: str, key: str, hours: float) -> dict[str, Any] | None:
    return await store.open_alert(
        c,
        kind=kind,
        subject=subject,
        key=f"{dossier}:{key}",
        detail=key,
        opened_at=T0 + timedelta(hours=hours),
        dossier_id=dossier,
        due_at=T0,
    )


async def test_a_dossiers_lost_and_stuck_findings_are_one_alert_until_every_one_closes(conn: Any) -> None:
    lost = await find(conn, "lost", "link:motcua->hotich", "D-1", "handoff:1", 1)
    late = await find(conn, "stuck", "dossier", "D-1", "dossier", 50)
    other = await find(conn, "stuck", "step:cutru/register_residence", "D-2", "step:cutru", 2)
    dup = await find(conn, "duplicate", "D-2", "D-2", "dup", 3)
    assert lost
    assert late
    assert other
    assert dup
    assert late["incident_id"] == lost["id"]  # joined the dossier's open incident
    assert other["incident_id"] is None
    assert dup["incident_id"] is None

    shown = await store.alerts(conn, only_open=True)
    assert [(a["dossier_id"], a["kind"], a["severity"], len(a["findings"])) for a in shown] == [
        ("D-1", "lost", "high", 2),
        ("D-2", "stuck", "medium", 1),
        ("D-2", "duplicate", "low", 1),
    ]
    board = {a["id"]: a for a in await queries.alerts(conn)}
    assert board[lost["id"]]["findings"] == 2
    assert late["id"] not in board
    assert await queries.alert_counts(conn) == {"lost": 1, "stuck": 1, "duplicate": 1}

    # The handoff arrives: the dossier is still late, so its incident stays open.
    await store.resolve(
        conn, kind="lost", subject="link:motcua->hotich", key="D-1:handoff:1", at=T0 + timedelta(hours=60), how="x"
    )
    (d1,) = [a for a in await store.alerts(conn, only_open=True) if a["dossier_id"] == "D-1"]
    assert d1["resolved_at"] is None
    assert [f["resolved_how"] for f in d1["findings"]] == ["x", None]

    # The dossier settles: every finding on it closes, and with them the incident.
    await store.close_with_dossiers(conn, {"D-1": T0 + timedelta(hours=70)})
    assert [a["dossier_id"] for a in await store.alerts(conn, only_open=True)] == ["D-2", "D-2"]
    (closed,) = [a for a in await store.alerts(conn) if a["dossier_id"] == "D-1"]
    assert closed["resolved_how"] == "dossier settled"
    assert (await queries.alerts(conn, only_open=False))[-1]["resolved_how"] in ("dossier settled", None)
    assert await queries.alert_counts(conn) == {"stuck": 1, "duplicate": 1}

    # A new loss on the same dossier after its incident closed is a new incident.
    again = await find(conn, "lost", "link:hotich->cutru", "D-1", "handoff:2", 80)
    assert again is not None
    assert again["incident_id"] is None


async def test_a_finding_joining_an_incident_puts_it_back_on_the_live_feed(conn: Any) -> None:
    head = await find(conn, "stuck", "step:hotich/register_birth", "D-3", "step:hotich", 1)
    assert head is not None
    since = await conn.fetchval("SELECT clock_timestamp()")
    assert await queries.alert_changes(conn, head["id"], since) == []
    member = await find(conn, "stuck", "dossier", "D-3", "dossier", 9)
    assert member is not None
    changed = await queries.alert_changes(conn, member["id"], since)
    assert [(a["id"], a["findings"]) for a in changed] == [(head["id"], 2)]


async def test_a_finding_joins_the_incident_open_at_its_sim_time_even_if_its_end_was_read_first(conn: Any) -> None:
    """Regression: a dossier's SLA finding resolved at hour 69 (its step completed late) and its
    state-limit finding opened at hour 48 made two alerts in one run and one in the next, as the
    monitor read the completion before or after it judged hour 48."""
    first = await find(conn, "stuck", "step:hotich/register_birth", "D-9", "sla", 24)
    assert first
    await store.resolve(
        conn, kind="stuck", subject="step:hotich/register_birth", key="D-9:sla", at=T0 + timedelta(hours=69), how="x"
    )
    during = await find(conn, "stuck", "step:hotich/register_birth", "D-9", "state", 48)
    await store.resolve(
        conn, kind="stuck", subject="step:hotich/register_birth", key="D-9:state", at=T0 + timedelta(hours=69), how="x"
    )
    after = await find(conn, "stuck", "dossier", "D-9", "dossier", 72)
    assert during
    assert after
    assert during["incident_id"] == first["id"]  # open at hour 48 in sim time: one incident
    assert after["incident_id"] is None  # the incident had ended by hour 72: a new one


async def test_an_incident_whose_first_finding_ended_is_still_open_to_acknowledge_and_assign(conn: Any) -> None:
    """Regression: acknowledging (and assigning, noting) an incident was refused as "already
    handled" once its head finding had ended (the lost handoff received late), while its other
    finding (the dossier past its deadline) was still open and the console showed it open."""
    lost = await find(conn, "lost", "link:motcua->hotich", "D-9", "handoff:9", 1)
    late = await find(conn, "stuck", "dossier", "D-9", "dossier", 50)
    assert lost
    assert late
    await store.resolve(
        conn, kind="lost", subject="link:motcua->hotich", key="D-9:handoff:9", at=T0 + timedelta(hours=60), how="x"
    )
    status = await queries.alert_status(conn, lost["id"])
    assert status is not None
    assert status["resolved_at"] is None
    acked = await queries.acknowledge(conn, lost["id"], "Lê Văn C", T0 + timedelta(hours=61))
    assert acked is not None
    assert acked["acknowledged_by"] == "Lê Văn C"
    # Once every finding ended, the incident is over: refused, with when.
    await store.close_with_dossiers(conn, {"D-9": T0 + timedelta(hours=70)})
    status = await queries.alert_status(conn, lost["id"])
    assert status is not None
    assert status["resolved_at"] is not None
    assert await queries.acknowledge(conn, lost["id"], "Lê Văn C", T0 + timedelta(hours=71)) is None
