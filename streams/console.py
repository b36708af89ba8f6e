"""What the ops console's work queue and dossier panel read from the monitor's tables: each
incident with the dossier around it (its receipt code, flow, commune, where it waits), and
searches by what an officer has at hand. The monitor owns these tables, so the SQL lives here;
the wording and the ordering are the console's (dashboard/workqueue.py, dashboard/wording.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from contracts.chains import load_chains, posting_steps
from contracts.dossiers import POSTAL_PROCEDURE
from runtime.conn import Conn
from streams.queries import ALERT_COLUMNS, ALERT_FROM, HEADS, PERSONAL, event_row, jsonable
from streams.rows import AreaRow, Described, DeskRow, DossierView, DueRow, Found, IncidentRow, OverdueRow
from streams.waiting import where_waiting

# Where an incident waits: a stuck step names it; a lost handoff waits at its receiver (the
# handoff's own event, by the id in the alert's key); anything else at the dossier's newest step.
CONTEXT = """
LEFT JOIN LATERAL (SELECT e.payload -> 'result' ->> 'receipt_code' AS code FROM monitor.events e
    WHERE e.dossier_id = a.dossier_id AND e.type = 'step.completed' AND e.agency = 'motcua'
    AND e.payload -> 'result' ? 'receipt_code' LIMIT 1) rc ON true
LEFT JOIN LATERAL (SELECT e.agency AS sender, e.payload ->> 'to' AS to_agency, e.payload ->> 'to_step' AS to_step,
    e.occurred_at AS sent_at FROM monitor.events e
    WHERE a.kind = 'lost' AND e.dossier_id = a.dossier_id AND e.type = 'handoff.sent'
    AND e.event_id::text = split_part(a.key, ':handoff:', 2) LIMIT 1) h ON true
LEFT JOIN LATERAL (SELECT e.agency AS at_agency, e.step AS at_step FROM monitor.events e
    WHERE e.dossier_id = a.dossier_id AND e.step IS NOT NULL
    AND e.type IN ('handoff.received', 'step.started', 'step.state', 'step.rejected')
    ORDER BY e.occurred_at DESC LIMIT 1) p ON true
LEFT JOIN LATERAL (SELECT min(e.occurred_at) AS since FROM monitor.events e
    WHERE e.dossier_id = a.dossier_id AND e.type = 'handoff.received'
    AND a.subject = 'step:' || e.agency || '/' || e.step) st ON true
LEFT JOIN LATERAL (SELECT e.payload ->> 'outcome' AS closed FROM monitor.events e
    WHERE e.dossier_id = a.dossier_id AND e.type = 'dossier.closed' LIMIT 1) c ON true
"""
ORDER = (
    "dossier.submitted",
    "step.completed",
    "step.rejected",
    "handoff.sent",
    "link.error",
    "handoff.received",
    "step.started",
    "step.state",
    "result.synced",
    "dossier.closed",
)
"""Events stamped at the same sim instant, in the order they happen (a model timestamp is shared
by a handoff's sending and its receipt, by a step's end and the handoff that follows)."""
CONTEXT_COLUMNS = (
    "rc.code, h.sender, h.to_agency, h.to_step, h.sent_at, p.at_agency, p.at_step, st.since, c.closed, "
    "s.payload ->> 'due_at' AS appointment_at"
)


async def incidents(conn: Conn, only_open: bool) -> list[IncidentRow]:
    """Every incident (the head finding and what its findings say together), with its dossier's
    context. All of them: the console sorts by working days overdue, which needs the calendar."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS}, {CONTEXT_COLUMNS} {ALERT_FROM} {CONTEXT} "
        f"WHERE {HEADS} AND (NOT $1 OR g.resolved_at IS NULL)",
        only_open,
    )
    return [cast(IncidentRow, jsonable(r)) for r in rows]


async def dossier(conn: Conn, dossier_id: str) -> DossierView | None:
    """A dossier's events (payloads without personal data), its incidents with their context,
    its receipt code and the area it was filed in."""
    events = await conn.fetch(
        "SELECT event_id::text, type, agency, step, occurred_at, payload FROM monitor.events "
        "WHERE dossier_id = $1 ORDER BY occurred_at, array_position($2::text[], type), type",
        dossier_id,
        list(ORDER),
    )
    if not events:
        return None
    found = await conn.fetch(
        f"SELECT {ALERT_COLUMNS}, {CONTEXT_COLUMNS} {ALERT_FROM} {CONTEXT} "
        f"WHERE {HEADS} AND a.dossier_id = $1 ORDER BY a.opened_at",
        dossier_id,
    )
    code = next((c for e in events if (c := _receipt_code(e["payload"]))), None)
    out = [event_row(e, (*PERSONAL, "result")) for e in events]
    return {
        "dossier_id": dossier_id,
        "code": code,
        "events": out,
        "incidents": [cast(IncidentRow, jsonable(a)) for a in found],
    }


def _receipt_code(payload: str) -> str | None:
    """The one-stop office's receipt code, if this event's result carries it."""
    result = json.loads(payload).get("result")
    code = result.get("receipt_code") if isinstance(result, dict) else None
    return code if isinstance(code, str) else None


async def find(conn: Conn, text: str, limit: int = 20) -> list[Found]:
    """Dossiers by receipt code or dossier-id prefix, in any case, or by commune (without
    diacritics too: the console folds them before it asks, see `communes`)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (dossier_id) dossier_id, code FROM (
            SELECT e.dossier_id, e.payload -> 'result' ->> 'receipt_code' AS code FROM monitor.events e
            WHERE e.type = 'step.completed' AND e.agency = 'motcua'
              AND upper(e.payload -> 'result' ->> 'receipt_code') LIKE upper($1) || '%'
            UNION ALL
            SELECT e.dossier_id, NULL FROM monitor.events e
            WHERE e.type = 'dossier.submitted' AND e.dossier_id LIKE lower($1) || '%'
        ) x ORDER BY dossier_id, code NULLS LAST LIMIT $2
        """,
        text,
        limit,
    )
    return [cast(Found, dict(r)) for r in rows]


async def in_communes(conn: Conn, communes: list[str], limit: int = 50) -> list[Found]:
    """Dossiers filed in these communes, newest first."""
    rows = await conn.fetch(
        "SELECT e.dossier_id, rc.code FROM monitor.events e LEFT JOIN LATERAL ("
        "SELECT r.payload -> 'result' ->> 'receipt_code' AS code FROM monitor.events r "
        "WHERE r.dossier_id = e.dossier_id AND r.type = 'step.completed' AND r.agency = 'motcua' LIMIT 1) rc ON true "
        "WHERE e.type = 'dossier.submitted' AND e.payload -> 'area' ->> 'commune' = ANY($1::text[]) "
        "ORDER BY e.occurred_at DESC LIMIT $2",
        communes,
        limit,
    )
    return [cast(Found, dict(r)) for r in rows]


async def communes(conn: Conn) -> list[str]:
    """Every commune a dossier was filed in (the console's picker)."""
    rows = await conn.fetch(
        "SELECT DISTINCT payload -> 'area' ->> 'commune' AS c FROM monitor.events "
        "WHERE type = 'dossier.submitted' AND payload -> 'area' ->> 'commune' IS NOT NULL ORDER BY 1"
    )
    return [r["c"] for r in rows]


async def waiting(conn: Conn) -> dict[str, str]:
    """Each dossier not closed yet, and where it waits (streams/waiting.py: its open branches, so
    a birth whose card came back while residence never got it waits at residence)."""
    rows = await conn.fetch(
        """
        SELECT e.dossier_id, e.event_id, e.type, e.agency, e.step, e.occurred_at, e.payload
        FROM monitor.events e
        WHERE e.dossier_id IN (
            SELECT s.dossier_id FROM monitor.events s
            WHERE s.type = 'dossier.submitted'
              AND NOT EXISTS (SELECT 1 FROM monitor.events c
                              WHERE c.dossier_id = s.dossier_id AND c.type = 'dossier.closed'))
        ORDER BY e.dossier_id, e.occurred_at, array_position($1::text[], e.type)
        """,
        list(ORDER),
    )
    by_dossier: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        payload = r["payload"]
        event = {**dict(r), "payload": json.loads(payload) if isinstance(payload, str) else payload}
        by_dossier.setdefault(r["dossier_id"], []).append(event)
    return {dossier: where_waiting(events) for dossier, events in by_dossier.items()}


async def desks(conn: Conn, now: datetime) -> list[DeskRow]:
    """Per flow, agency and step: the dossiers received by `now` and not taken up (no
    `step.started` yet), and the oldest receipt among them. A step an office takes up at once
    never shows; one with officers (runtime/staffing.py) shows its queue, and a step received
    after 15:00 shows until the next working morning."""
    rows = await conn.fetch(
        """
        SELECT r.chain, r.agency, r.step, count(*) AS waiting, min(r.occurred_at) AS oldest
        FROM monitor.events r
        WHERE r.type = 'handoff.received' AND r.step IS NOT NULL AND r.occurred_at <= $1
          AND NOT EXISTS (SELECT 1 FROM monitor.events s
                          WHERE s.dossier_id = r.dossier_id AND s.agency = r.agency AND s.step = r.step
                            AND s.type IN ('step.started', 'step.completed', 'step.rejected')
                            AND s.occurred_at <= $1)
        GROUP BY 1, 2, 3 ORDER BY 4 DESC, 5
        """,
        now,
    )
    return [cast(DeskRow, dict(r)) for r in rows]


async def describe(conn: Conn, dossier_ids: list[str]) -> dict[str, Described]:
    """What a search result shows of each dossier: its receipt code, flow, commune, and whether
    and how it closed (None: still in progress)."""
    rows = await conn.fetch(
        """
        SELECT s.dossier_id, s.chain, s.payload -> 'area' ->> 'commune' AS commune,
               (SELECT e.payload -> 'result' ->> 'receipt_code' FROM monitor.events e
                 WHERE e.dossier_id = s.dossier_id AND e.type = 'step.completed' AND e.agency = 'motcua'
                 LIMIT 1) AS code,
               (SELECT c.payload ->> 'outcome' FROM monitor.events c
                 WHERE c.dossier_id = s.dossier_id AND c.type = 'dossier.closed' LIMIT 1) AS closed
        FROM monitor.events s WHERE s.type = 'dossier.submitted' AND s.dossier_id = ANY($1::text[])
        """,
        dossier_ids,
    )
    return {r["dossier_id"]: cast(Described, dict(r)) for r in rows}


POSTING_SQL = ", ".join(f"'{step}'" for step in posting_steps(load_chains()) if step.isidentifier())
"""The steps after which a result goes to the post, as an SQL list (names from the chains' data)."""


def _resolved(at: str | None = None) -> str:
    """SQL: event `c` resolves dossier `s` (its closing, or for a result sent by post, the
    certificate issued), at or before `at` when given."""
    steps = POSTING_SQL
    posted = f"(c.type = 'step.completed' AND c.step IN ({steps}) AND s.payload -> 'procedures' ? '{POSTAL_PROCEDURE}')"
    when = f" AND c.occurred_at <= {at}" if at else ""
    return f"(c.type = 'dossier.closed' OR {posted if steps else 'false'}){when}"


async def due_between(conn: Conn, start: datetime, end: datetime) -> list[DueRow]:
    """Dossiers not closed whose appointment date (legal deadline) falls in [start, end), with
    their code, flow, commune and how many steps they finished (the fewer, the more at risk)."""
    rows = await conn.fetch(
        f"""
        SELECT s.dossier_id, s.chain, s.payload -> 'area' ->> 'commune' AS commune,
               (s.payload ->> 'due_at')::timestamptz AS due_at,
               (SELECT e.payload -> 'result' ->> 'receipt_code' FROM monitor.events e
                 WHERE e.dossier_id = s.dossier_id AND e.type = 'step.completed' AND e.agency = 'motcua'
                 LIMIT 1) AS code,
               (SELECT count(*) FROM monitor.events e
                 WHERE e.dossier_id = s.dossier_id AND e.type = 'step.completed') AS steps_done
        FROM monitor.events s
        WHERE s.type = 'dossier.submitted' AND s.payload ? 'due_at'
          AND (s.payload ->> 'due_at')::timestamptz >= $1 AND (s.payload ->> 'due_at')::timestamptz < $2
          AND NOT EXISTS (SELECT 1 FROM monitor.events c
                          WHERE c.dossier_id = s.dossier_id AND {_resolved()})
        ORDER BY due_at, steps_done, s.dossier_id
        LIMIT 500
        """,
        start,
        end,
    )
    return [cast(DueRow, dict(r)) for r in rows]


async def areas(conn: Conn, now: datetime) -> list[AreaRow]:
    """Per district and commune of submission: the open incidents by kind, and the dossiers not
    closed, split by whether their legal deadline (the appointment date) has passed at `now`."""
    rows = await conn.fetch(
        f"""
        WITH dossiers AS (
            SELECT s.dossier_id, s.payload -> 'area' ->> 'district' AS district,
                   s.payload -> 'area' ->> 'commune' AS commune, (s.payload ->> 'due_at')::timestamptz AS due_at,
                   EXISTS (SELECT 1 FROM monitor.events c WHERE c.dossier_id = s.dossier_id
                           AND {_resolved("$1")}) AS closed
            FROM monitor.events s WHERE s.type = 'dossier.submitted'
        ), incidents AS (
            SELECT a.kind, a.dossier_id FROM monitor.alerts a
            WHERE {HEADS} AND a.dossier_id IS NOT NULL AND EXISTS (SELECT 1 FROM monitor.alerts f
                WHERE (f.id = a.id OR f.incident_id = a.id) AND f.resolved_at IS NULL)
        )
        SELECT d.district, d.commune,
               count(*) FILTER (WHERE NOT d.closed AND d.due_at < $1) AS overdue,
               count(*) FILTER (WHERE NOT d.closed AND (d.due_at IS NULL OR d.due_at >= $1)) AS in_progress,
               coalesce(jsonb_object_agg(i.kind, i.n) FILTER (WHERE i.kind IS NOT NULL), '{{}}') AS open_by_kind
        FROM dossiers d
        LEFT JOIN (SELECT dossier_id, kind, count(*) AS n FROM incidents GROUP BY 1, 2) i ON i.dossier_id = d.dossier_id
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        now,
    )
    return [
        cast(
            AreaRow,
            {
                **dict(r),
                "open_by_kind": json.loads(r["open_by_kind"])
                if isinstance(r["open_by_kind"], str)
                else r["open_by_kind"],
            },
        )
        for r in rows
    ]


async def overdue_in(conn: Conn, commune: str, now: datetime) -> list[OverdueRow]:
    """One commune's dossiers not closed at `now` and past their legal deadline, most overdue first."""
    rows = await conn.fetch(
        f"""
        SELECT s.dossier_id, s.chain, (s.payload ->> 'due_at')::timestamptz AS due_at, s.occurred_at AS submitted_at,
               (SELECT e.payload -> 'result' ->> 'receipt_code' FROM monitor.events e
                 WHERE e.dossier_id = s.dossier_id AND e.type = 'step.completed' AND e.agency = 'motcua'
                 LIMIT 1) AS code
        FROM monitor.events s
        WHERE s.type = 'dossier.submitted' AND s.payload -> 'area' ->> 'commune' = $1
          AND (s.payload ->> 'due_at')::timestamptz < $2
          AND NOT EXISTS (SELECT 1 FROM monitor.events c WHERE c.dossier_id = s.dossier_id
                          AND {_resolved("$2")})
        ORDER BY due_at, s.dossier_id LIMIT 500
        """,
        commune,
        now,
    )
    return [cast(OverdueRow, dict(r)) for r in rows]
