"""The monitor's read API: every read of its tables (its event log and its alerts) by the console,
the operator's tools, the load tests and the harness. The monitor owns its tables and the queries
on them, so no other module writes SQL on them (tests/unit/test_table_owners.py). Nothing here
reads an agency's database: every figure is one the event stream carried."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from contracts.clock import VN_TZ
from runtime.conn import Conn
from streams.rows import (
    Acknowledged,
    AgencyHealth,
    AlertChange,
    AlertEnds,
    AlertRow,
    EventRow,
    Health,
    IncidentCount,
    Series,
    Timeline,
)

ALERT_COLUMNS = (
    "a.id, a.kind, g.severity, a.subject, a.dossier_id, a.detail, a.due_at, a.opened_at, a.raised_at, "
    "g.resolved_at, g.resolved_how, g.findings, a.acknowledged_at, a.acknowledged_by, s.chain AS flow, "
    "s.payload -> 'area' ->> 'commune' AS commune"
)
# An alert is an incident (streams/incidents.py): its head row, with what its findings say
# together: how many, the most severe, and closed only once every one of them closed.
ALERT_FROM = (
    "FROM monitor.alerts a LEFT JOIN LATERAL (SELECT chain, payload FROM monitor.events e "
    "WHERE e.dossier_id = a.dossier_id AND e.type = 'dossier.submitted' LIMIT 1) s ON true "
    "CROSS JOIN LATERAL (SELECT count(*) AS findings, "
    "CASE WHEN bool_or(f.resolved_at IS NULL) THEN NULL ELSE max(f.resolved_at) END AS resolved_at, "
    "CASE WHEN bool_or(f.resolved_at IS NULL) THEN NULL "
    "ELSE (array_agg(f.resolved_how ORDER BY f.resolved_at DESC))[1] END AS resolved_how, "
    "(array_agg(f.severity ORDER BY CASE f.severity WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END DESC))[1] "
    "AS severity FROM monitor.alerts f WHERE f.id = a.id OR f.incident_id = a.id) g"
)
HEADS = "a.incident_id IS NULL"


def jsonable(row: Mapping[str, object]) -> dict[str, object]:
    """A database row as JSON takes it: times as ISO 8601."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}


async def alerts(  # noqa: PLR0913 (the console's filters, keyword-only)
    conn: Conn,
    *,
    only_open: bool = True,
    kind: str | None = None,
    flow: str | None = None,
    agency: str | None = None,
    commune: str | None = None,
    after_id: int = 0,
    limit: int = 500,
) -> list[AlertRow]:
    """Alerts, newest first, filtered; `agency` matches the subject (a link names two)."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} {ALERT_FROM} WHERE {HEADS} AND (NOT $1 OR g.resolved_at IS NULL) "
        "AND ($2::text IS NULL OR a.kind = $2) AND ($3::text IS NULL OR s.chain = $3) "
        "AND ($4::text IS NULL OR a.subject ~ ('(^agency:|^step:|->|^link:)' || $4 || '($|/|->)')) "
        "AND ($5::text IS NULL OR s.payload -> 'area' ->> 'commune' = $5) AND a.id > $6 "
        "ORDER BY a.opened_at DESC, a.id DESC LIMIT $7",
        only_open,
        kind,
        flow,
        agency,
        commune,
        after_id,
        limit,
    )
    return [cast(AlertRow, jsonable(r)) for r in rows]


async def alert_changes(conn: Conn, after_id: int, resolved_since: datetime | None) -> list[AlertChange]:
    """Alerts raised after `after_id`, and alerts resolved or acknowledged since `resolved_since`
    (database time): what the live feed pushes."""
    rows = await conn.fetch(
        f"SELECT {ALERT_COLUMNS}, a.changed_at {ALERT_FROM} "
        f"WHERE {HEADS} AND (a.id > $1 OR ($2::timestamptz IS NOT NULL AND a.changed_at > $2)) "
        "ORDER BY a.id LIMIT 1000",
        after_id,
        resolved_since,
    )
    return [cast(AlertChange, jsonable(r)) for r in rows]


async def alert_counts(conn: Conn) -> dict[str, int]:
    """Open incidents by the kind of their first finding."""
    rows = await conn.fetch(
        f"SELECT a.kind, count(*) AS n {ALERT_FROM} WHERE {HEADS} AND g.resolved_at IS NULL GROUP BY a.kind"
    )
    return {r["kind"]: r["n"] for r in rows}


async def acknowledge(conn: Conn, alert_id: int, by: str, at: datetime) -> Acknowledged | None:
    """Acknowledge an open incident at `at` (the clock the page shows: sim time in a simulation);
    None when there is no such incident or it is resolved already (see `alert_status`)."""
    row = await conn.fetchrow(
        "UPDATE monitor.alerts SET acknowledged_at = $3, acknowledged_by = $2, changed_at = clock_timestamp() "
        f"WHERE id = $1 AND {STILL_OPEN} RETURNING id, kind, subject, acknowledged_at, acknowledged_by",
        alert_id,
        by,
        at,
    )
    return cast(Acknowledged, jsonable(row)) if row else None


STILL_OPEN = "EXISTS (SELECT 1 FROM monitor.alerts f WHERE (f.id = $1 OR f.incident_id = $1) AND f.resolved_at IS NULL)"
"""An incident is open while any of its findings is: its head finding may have ended already (a
lost handoff received late, while the dossier is still past its deadline)."""


async def alert_status(conn: Conn, alert_id: int) -> AlertEnds | None:
    """An incident's ends (resolved once every finding is, how; acknowledged, by whom), or None
    when there is none."""
    row = await conn.fetchrow(
        f"SELECT id, CASE WHEN {STILL_OPEN} THEN NULL ELSE resolved_at END AS resolved_at, "
        f"CASE WHEN {STILL_OPEN} THEN NULL ELSE resolved_how END AS resolved_how, acknowledged_at, acknowledged_by "
        "FROM monitor.alerts WHERE id = $1",
        alert_id,
    )
    return cast(AlertEnds, jsonable(row)) if row else None


async def health(conn: Conn, window_hours: float = 24.0) -> Health | None:
    """Per agency: steps finished and refused in the last `window_hours` of sim time (before the
    newest event); per link: handoffs sent, errors, error rate, and backlog (sent, unacknowledged,
    of dossiers still open)."""
    newest = await conn.fetchval("SELECT max(occurred_at) FROM monitor.events")
    if newest is None:
        return None
    agencies = await conn.fetch(
        "SELECT agency, count(*) FILTER (WHERE type = 'step.completed') AS completed, "
        "count(*) FILTER (WHERE type = 'step.rejected') AS refused, max(occurred_at) AS last_event "
        "FROM monitor.events WHERE occurred_at > $1::timestamptz - make_interval(secs => $2::float8) "
        "GROUP BY agency ORDER BY agency",
        newest,
        window_hours * 3600,
    )
    links = await conn.fetch(
        """
        SELECT agency || '->' || (payload ->> 'to') AS link,
               count(*) FILTER (WHERE type = 'handoff.sent') AS sent,
               count(*) FILTER (WHERE type = 'link.error') AS errors
        FROM monitor.events
        WHERE type IN ('handoff.sent', 'link.error')
          AND occurred_at > $1::timestamptz - make_interval(secs => $2::float8)
        GROUP BY 1 ORDER BY 1
        """,
        newest,
        window_hours * 3600,
    )
    backlog = await conn.fetch(
        """
        SELECT s.agency || '->' || (s.payload ->> 'to') AS link, count(*) AS n
        FROM monitor.events s
        WHERE s.open AND s.type = 'handoff.sent' AND NOT EXISTS (
            SELECT 1 FROM monitor.events r WHERE r.open AND r.dossier_id = s.dossier_id
            AND r.type = 'handoff.received' AND r.payload ->> 'sent_event_id' = s.event_id::text)
        GROUP BY 1
        """
    )
    waiting = {r["link"]: r["n"] for r in backlog}
    return {
        "agencies": [cast(AgencyHealth, jsonable(r)) for r in agencies],
        "links": [
            {
                "link": r["link"],
                "sent": r["sent"],
                "errors": r["errors"],
                "error_rate": round(r["errors"] / (r["sent"] + r["errors"]), 4) if r["sent"] + r["errors"] else None,
                "backlog": waiting.get(r["link"], 0),
            }
            for r in links
        ],
        "window_hours": window_hours,
        "until": newest.isoformat(),
    }


async def timeline(conn: Conn, dossier_id: str) -> Timeline | None:
    events = await conn.fetch(
        "SELECT event_id::text, type, agency, step, occurred_at, payload FROM monitor.events "
        "WHERE dossier_id = $1 ORDER BY occurred_at, type",
        dossier_id,
    )
    if not events:
        return None
    raised = await conn.fetch(
        f"SELECT {ALERT_COLUMNS} {ALERT_FROM} WHERE {HEADS} AND a.dossier_id = $1 ORDER BY a.opened_at", dossier_id
    )
    out = [event_row(e, PERSONAL) for e in events]
    return {"dossier_id": dossier_id, "events": out, "alerts": [cast(AlertRow, jsonable(a)) for a in raised]}


PERSONAL = ("dossier", "results")
"""The payload fields that may carry a dossier's personal data (a work handoff's)."""


def event_row(row: Mapping[str, object], drop: tuple[str, ...]) -> EventRow:
    """A stored event as the timeline shows it, without the payload fields `drop`."""
    out = jsonable(row)
    raw = out["payload"]
    payload: dict[str, object] = json.loads(raw) if isinstance(raw, str) else dict(cast(dict[str, object], raw))
    out["payload"] = {k: v for k, v in payload.items() if k not in drop}
    return cast(EventRow, out)


async def series(conn: Conn, start: datetime | None = None, end: datetime | None = None) -> Series:
    """Per sim day in [start, end) (all days without bounds): dossiers submitted and closed,
    alerts opened by kind, median step time. Counted as the statistics report counts: each
    dossier once, submitted on its dossier.submitted and closed on its first dossier.closed (a
    closing published again does not count twice), so the days of a range add up to the
    report's received and resolved for the same range."""
    # Bounds PostgreSQL and the UTC conversion can hold (datetime.min at +07:00 is before year 1 in UTC).
    lo = start or datetime(1900, 1, 1, tzinfo=VN_TZ)
    hi = end or datetime(9999, 1, 1, tzinfo=VN_TZ)
    flow = await conn.fetch(
        """
        WITH firsts AS (
            SELECT dossier_id, type, min(occurred_at) AS at FROM monitor.events
            WHERE type IN ('dossier.submitted', 'dossier.closed') GROUP BY 1, 2
        )
        SELECT date_trunc('day', at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
               count(*) FILTER (WHERE type = 'dossier.submitted') AS submitted,
               count(*) FILTER (WHERE type = 'dossier.closed') AS closed
        FROM firsts WHERE at >= $1 AND at < $2 GROUP BY 1 ORDER BY 1
        """,
        lo,
        hi,
    )
    raised = await conn.fetch(
        "SELECT date_trunc('day', opened_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day, kind, count(*) AS n "
        "FROM monitor.alerts WHERE incident_id IS NULL AND opened_at >= $1 AND opened_at < $2 GROUP BY 1, 2 ORDER BY 1",
        lo,
        hi,
    )
    steps = await conn.fetch(
        """
        WITH r AS (SELECT dossier_id, agency, step, min(occurred_at) AS t FROM monitor.events
                   WHERE type = 'handoff.received' AND step IS NOT NULL GROUP BY 1, 2, 3),
             d AS (SELECT dossier_id, agency, step, min(occurred_at) AS t FROM monitor.events
                   WHERE type IN ('step.completed', 'step.rejected') GROUP BY 1, 2, 3)
        SELECT date_trunc('day', d.t AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.t - r.t)) / 3600 AS p50_hours
        FROM r JOIN d USING (dossier_id, agency, step) WHERE d.t >= $1 AND d.t < $2 GROUP BY 1 ORDER BY 1
        """,
        lo,
        hi,
    )
    days: dict[str, dict[str, int]] = {}
    for r in raised:
        days.setdefault(r["day"].isoformat(), {})[r["kind"]] = r["n"]
    return {
        "throughput": [{"day": r["day"].isoformat(), "submitted": r["submitted"], "closed": r["closed"]} for r in flow],
        "alerts": [{"day": d, **kinds} for d, kinds in sorted(days.items())],
        "step_hours": [{"day": r["day"].isoformat(), "p50": round(r["p50_hours"], 2)} for r in steps],
    }


@dataclass(frozen=True)
class LostAlert:
    """An open lost alert, as a redrive needs it: which handoff (`subject`, `key`) of which dossier."""

    id: int
    subject: str
    """`link:SENDER->RECEIVER`."""
    key: str
    """`DOSSIER:handoff:EVENT_ID`."""
    dossier_id: str | None
    opened_at: datetime


async def open_lost_alerts(conn: Conn, ids: list[int] | None = None) -> list[LostAlert]:
    """The open lost alerts (all, or those of `ids`), oldest first: what a redrive acts on."""
    if not await installed(conn):
        return []
    rows = await conn.fetch(
        "SELECT id, subject, key, dossier_id, opened_at FROM monitor.alerts WHERE kind = 'lost' "
        "AND resolved_at IS NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) ORDER BY id",
        ids,
    )
    return [LostAlert(**dict(r)) for r in rows]


WAITS_AT = (
    "CASE WHEN a.subject LIKE 'link:%' THEN split_part(a.subject, '->', 2) "
    "WHEN a.subject LIKE 'step:%' THEN split_part(substr(a.subject, 6), '/', 1) "
    "WHEN a.subject LIKE 'agency:%' THEN substr(a.subject, 8) "
    "WHEN a.subject LIKE 'work:%' THEN split_part(substr(a.subject, 6), '/', 1) "
    "WHEN a.kind = 'contract' THEN split_part(a.detail, '/', 1) ELSE '' END"
)
"""The agency where an incident's dossiers wait: a link's receiver, a step's agency, the agency
itself, the agency whose work topic holds them (an infrastructure incident), the agency whose
event broke the contract; none for a duplicate or a data-quality finding."""


async def open_incident_counts(conn: Conn) -> list[IncidentCount]:
    """Open incidents by kind, severity, agency where they wait and flow, with the earliest
    deadline among them (for the metrics an ops team alerts on)."""
    rows = await conn.fetch(
        f"SELECT a.kind, a.severity, {WAITS_AT} AS agency, coalesce(s.chain, '') AS flow, count(*) AS n, "
        "min(a.due_at) AS oldest_due FROM monitor.alerts a "
        "LEFT JOIN LATERAL (SELECT chain FROM monitor.events e WHERE e.dossier_id = a.dossier_id "
        "AND e.type = 'dossier.submitted' LIMIT 1) s ON true "
        "WHERE a.incident_id IS NULL AND EXISTS (SELECT 1 FROM monitor.alerts f "
        "WHERE (f.id = a.id OR f.incident_id = a.id) AND f.resolved_at IS NULL) "
        "GROUP BY 1, 2, 3, 4"
    )
    return [cast(IncidentCount, dict(r)) for r in rows]


async def installed(conn: Conn) -> bool:
    """Whether the monitor has made its tables (it has run at least once on this database)."""
    return bool(await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL"))


async def event_count(conn: Conn) -> int:
    """How many events the monitor has stored (0 before it ever ran)."""
    if not await installed(conn):
        return 0
    return int(await conn.fetchval("SELECT count(*) FROM monitor.events"))


async def event_log_version(conn: Conn) -> tuple[int, datetime | None]:
    """What changes whenever the event log does: its size and its newest event's time."""
    row = await conn.fetchrow("SELECT count(*), max(occurred_at) FROM monitor.events")
    assert row is not None  # an aggregate answers one row
    return int(row[0]), row[1]


async def newest_alert_id(conn: Conn) -> int:
    """The newest alert's id (0 when there is none): where a live feed starts."""
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM monitor.alerts"))


async def closed_among(conn: Conn, dossier_ids: Collection[str]) -> set[str]:
    """Those of `dossier_ids` whose closing the monitor has read."""
    rows = await conn.fetch(
        "SELECT DISTINCT dossier_id FROM monitor.events WHERE type = 'dossier.closed' AND dossier_id = ANY($1::text[])",
        list(dossier_ids),
    )
    return {r["dossier_id"] for r in rows}


async def alerted_among(conn: Conn, dossier_ids: Collection[str], kind: str | None = None) -> set[str]:
    """Those of `dossier_ids` with an open alert (of `kind`, or of any kind)."""
    rows = await conn.fetch(
        "SELECT DISTINCT dossier_id FROM monitor.alerts WHERE resolved_at IS NULL "
        "AND dossier_id = ANY($1::text[]) AND ($2::text IS NULL OR kind = $2)",
        list(dossier_ids),
        kind,
    )
    return {r["dossier_id"] for r in rows}


async def unrecorded(conn: Conn, event_ids: Collection[UUID]) -> set[UUID]:
    """Those of `event_ids` the monitor has not stored."""
    rows = await conn.fetch(
        "SELECT e FROM unnest($1::uuid[]) e WHERE NOT EXISTS (SELECT 1 FROM monitor.events m WHERE m.event_id = e)",
        list(event_ids),
    )
    return {r["e"] for r in rows}
