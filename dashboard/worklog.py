"""The console's own record of the officers' work: who took which incident, their notes, what
they acknowledged and redrove, and each shift handover. The console owns this schema (`console`)
and only it writes there; the monitor's tables stay the monitor's (an acknowledgement is still
stamped on the alert through the monitor's query, `streams/queries.py`).

Times are the moment the page shows (sim time in a simulation), as every other time on it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict, cast

from runtime.conn import Conn

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS console;
CREATE TABLE IF NOT EXISTS console.worklog (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL CHECK (action IN ('assign', 'note', 'acknowledge', 'redrive', 'handover')),
    incident_id bigint,
    dossier_id  text,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS worklog_at ON console.worklog (at);
CREATE INDEX IF NOT EXISTS worklog_incident ON console.worklog (incident_id);
"""
ACTIONS = ("assign", "note", "acknowledge", "redrive", "handover")


async def apply_schema(conn: Conn) -> None:
    await conn.execute(SCHEMA)


class Entry(TypedDict):
    """One line of the worklog, its times in ISO 8601."""

    id: int
    at: str
    recorded_at: str
    actor: str
    action: str
    incident_id: int | None
    dossier_id: str | None
    detail: dict[str, object]


def _row(r: Mapping[str, object]) -> Entry:
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(r).items()}
    detail = out["detail"]
    out["detail"] = json.loads(detail) if isinstance(detail, str) else detail
    return cast(Entry, out)


async def record(
    conn: Conn,
    *,
    at: datetime,
    actor: str,
    action: str,
    incident_id: int | None = None,
    dossier_id: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> Entry:
    if action not in ACTIONS:
        raise ValueError(f"unknown worklog action {action!r}")
    row = await conn.fetchrow(
        "INSERT INTO console.worklog (at, actor, action, incident_id, dossier_id, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING *",
        at,
        actor,
        action,
        incident_id,
        dossier_id,
        json.dumps(detail or {}, ensure_ascii=False),
    )
    assert row is not None  # INSERT … RETURNING answers its row
    return _row(row)


async def of_incident(conn: Conn, incident_id: int) -> list[Entry]:
    """An incident's assignments and notes, oldest first."""
    rows = await conn.fetch(
        "SELECT * FROM console.worklog WHERE incident_id = $1 AND action IN ('assign', 'note') ORDER BY at, id",
        incident_id,
    )
    return [_row(r) for r in rows]


async def assignees(conn: Conn) -> dict[int, str]:
    """Each assigned incident's officer: its latest assignment (none before the console first
    wrote its schema)."""
    if not await conn.fetchval("SELECT to_regclass('console.worklog') IS NOT NULL"):
        return {}
    rows = await conn.fetch(
        "SELECT DISTINCT ON (incident_id) incident_id, detail ->> 'assignee' AS assignee FROM console.worklog "
        "WHERE action = 'assign' ORDER BY incident_id, at DESC, id DESC"
    )
    return {r["incident_id"]: r["assignee"] for r in rows}


async def between(conn: Conn, start: datetime, end: datetime) -> list[Entry]:
    rows = await conn.fetch("SELECT * FROM console.worklog WHERE at > $1 AND at <= $2 ORDER BY at, id", start, end)
    return [_row(r) for r in rows]


async def last_handover(conn: Conn) -> datetime | None:
    found: datetime | None = await conn.fetchval("SELECT max(at) FROM console.worklog WHERE action = 'handover'")
    return found
