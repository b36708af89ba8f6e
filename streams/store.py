"""The monitor's PostgreSQL adapter: its event log (evidence, dedupe, restart) and its alerts."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from importlib import resources
from typing import cast

from contracts.alerts import SEVERITY, AlertKind, Finding, Severity
from contracts.envelope import Event
from runtime.conn import Conn
from streams.incidents import GROUPED, IncidentDoc, incidents
from streams.queries import jsonable
from streams.rows import RaisedAlert

DDL = resources.files("streams").joinpath("schema.sql").read_text(encoding="utf-8")


async def apply_schema(conn: Conn) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('lienthong.schema.monitor'))")
        await conn.execute(DDL)


Row = tuple[Event, int, int]
"""An event with the partition and offset it was read at."""


async def record(conn: Conn, batch: list[Row]) -> tuple[list[Row], list[Event], list[Row]]:
    """Store (event, partition, offset) rows; return (new rows, duplicates, redeliveries). A
    conflict at the same partition and offset is a redelivery (after a restart, or read again by
    the worker that took the partition over), not a duplicate."""
    rows: list[tuple[Event, int, int]] = []
    again: list[tuple[Event, int, int]] = []
    firsts: set[str] = set()
    for e, p, o in batch:
        if e.dossier_id is None:
            continue
        # The same event twice within one batch: the first is the event, the rest are copies.
        (again if e.event_id in firsts else rows).append((e, p, o))
        firsts.add(e.event_id)
    if not rows:
        return [], [], []
    inserted = {
        str(r["event_id"])
        for r in await conn.fetch(
            "INSERT INTO monitor.events (event_id, dossier_id, type, agency, step, occurred_at, payload, partition, "
            '"offset", chain) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], '
            "$6::timestamptz[], $7::jsonb[], $8::int[], $9::bigint[], $10::text[]) ON CONFLICT (event_id) DO NOTHING "
            "RETURNING event_id",
            [uuid.UUID(e.event_id) for e, _, _ in rows],
            [e.dossier_id for e, _, _ in rows],
            [e.type for e, _, _ in rows],
            [e.agency for e, _, _ in rows],
            [e.step for e, _, _ in rows],
            [e.occurred_at for e, _, _ in rows],
            [json.dumps(e.payload, ensure_ascii=False) for e, _, _ in rows],
            [p for _, p, _ in rows],
            [o for _, _, o in rows],
            [e.chain for e, _, _ in rows],
        )
    }
    new = [(e, p, o) for e, p, o in rows if e.event_id in inserted]
    seen = [(e, p, o) for e, p, o in [*rows, *again] if e.event_id not in inserted]
    duplicates_in_batch = [e for e, _, _ in again if e.event_id in inserted]
    duplicates: list[Event] = []
    if seen:
        known = {
            str(r["event_id"]): (r["partition"], r["offset"])
            for r in await conn.fetch(
                'SELECT event_id, partition, "offset" FROM monitor.events WHERE event_id = ANY($1::uuid[])',
                [uuid.UUID(e.event_id) for e, _, _ in seen],
            )
        }
        duplicates = [e for e, p, o in seen if known.get(e.event_id) != (p, o)]
    redelivered = [(e, p, o) for e, p, o in seen if known.get(e.event_id) == (p, o)]
    return new, duplicates + duplicates_in_batch, redelivered


async def stored_offsets(conn: Conn, partitions: list[int]) -> dict[int, int]:
    """The highest offset stored per partition: what a worker taking them over finds in the
    store (an event read past it is news to that worker even if another stored it since)."""
    rows = await conn.fetch(
        'SELECT partition, max("offset") AS o FROM monitor.events WHERE partition = ANY($1::int[]) GROUP BY partition',
        partitions,
    )
    return {r["partition"]: r["o"] for r in rows}


async def open_events(conn: Conn, partitions: list[int] | None = None) -> list[tuple[Event, int, int]]:
    """Every stored event (with its partition and offset) of dossiers the monitor still follows
    on these partitions (None: all), in the order it read them (a dossier's events share a
    partition), to rebuild its state after a restart or when it takes partitions over."""
    rows = await conn.fetch(
        'SELECT event_id, dossier_id, chain, type, agency, step, occurred_at, payload, partition, "offset" '
        "FROM monitor.events WHERE open AND ($1::int[] IS NULL OR partition = ANY($1::int[])) "
        'ORDER BY partition, "offset"',
        partitions,
    )
    return [
        (
            Event(
                event_id=str(r["event_id"]),
                dossier_id=r["dossier_id"],
                chain=r["chain"],
                type=r["type"],
                agency=r["agency"],
                step=r["step"],
                occurred_at=r["occurred_at"],
                attempt=1,
                trace_id="",
                payload=json.loads(r["payload"]),
            ),
            r["partition"],
            r["offset"],
        )
        for r in rows
    ]


async def closed_dossiers(
    conn: Conn, since: datetime, partitions: list[int] | None = None
) -> list[tuple[str, datetime]]:
    """Dossiers settled since `since` (by their last event) on these partitions (None: all),
    oldest first: what the monitor remembers as closed after a restart."""
    rows = await conn.fetch(
        "SELECT dossier_id, max(occurred_at) AS at FROM monitor.events WHERE NOT open "
        "AND ($2::int[] IS NULL OR partition = ANY($2::int[])) GROUP BY dossier_id "
        "HAVING max(occurred_at) > $1 ORDER BY at",
        since,
        partitions,
    )
    return [(r["dossier_id"], r["at"]) for r in rows]


async def forget(conn: Conn, dossier_ids: list[str]) -> None:
    if dossier_ids:
        await conn.execute("UPDATE monitor.events SET open = false WHERE dossier_id = ANY($1::text[])", dossier_ids)


async def open_alert(  # noqa: PLR0913 (a finding's columns, keyword-only)
    conn: Conn,
    *,
    kind: str,
    subject: str,
    key: str,
    detail: str,
    opened_at: datetime,
    raised_at: datetime | None = None,
    dossier_id: str | None = None,
    due_at: datetime | None = None,
) -> RaisedAlert | None:
    """Insert a finding with its evidence (the dossier's timeline up to now); None if it exists.
    A lost or stuck finding joins its dossier's incident that was open at the finding's
    `opened_at` (streams/incidents.py): open in sim time, not merely when the monitor got round
    to it. The monitor reads events up to the watermark's lag ahead of the time it judges, so
    whether an earlier finding's resolution was already read depended on the machine's pace,
    and the same dossier made one alert in one run and two in the next. The incident's head is
    touched so the live feed shows it again."""
    head = None
    if dossier_id and kind in GROUPED:
        head = await conn.fetchval(
            "SELECT coalesce(incident_id, id) FROM monitor.alerts WHERE dossier_id = $1 "
            "AND kind = ANY($2::text[]) AND key <> $3 AND opened_at <= $4 "
            "AND (resolved_at IS NULL OR resolved_at > $4) ORDER BY opened_at, id LIMIT 1",
            dossier_id,
            list(GROUPED),
            key,
            opened_at,
        )
    evidence: list[dict[str, str | None]] = []
    if dossier_id:
        evidence = [
            {
                "type": r["type"],
                "agency": r["agency"],
                "step": r["step"],
                "occurred_at": r["occurred_at"].isoformat(),
            }
            for r in await conn.fetch(
                "SELECT type, agency, step, occurred_at FROM monitor.events WHERE dossier_id = $1 "
                "AND occurred_at <= $2 ORDER BY occurred_at",
                dossier_id,
                opened_at,
            )
        ]
    row = await conn.fetchrow(
        "INSERT INTO monitor.alerts (kind, severity, subject, dossier_id, key, detail, due_at, opened_at, evidence, "
        "raised_at, incident_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (kind, subject, key) DO NOTHING "
        "RETURNING id, kind, severity, subject, dossier_id, detail, due_at, opened_at, raised_at, incident_id",
        kind,
        SEVERITY[AlertKind(kind)],
        subject,
        dossier_id,
        key,
        detail,
        due_at,
        opened_at,
        json.dumps(evidence, ensure_ascii=False),
        raised_at or opened_at,
        head,
    )
    if row and head is not None:
        await conn.execute("UPDATE monitor.alerts SET changed_at = clock_timestamp() WHERE id = $1", head)
    return cast(RaisedAlert, jsonable(row)) if row else None


async def resolve(conn: Conn, *, kind: str, subject: str, key: str | None, at: datetime, how: str) -> None:
    """Close the open finding(s): one key, or every open one of the subject."""
    heads = await conn.fetch(
        "UPDATE monitor.alerts SET resolved_at = $4, resolved_how = $5, changed_at = clock_timestamp() "
        "WHERE kind = $1 AND subject = $2 "
        "AND ($3::text IS NULL OR key = $3) AND resolved_at IS NULL RETURNING incident_id",
        kind,
        subject,
        key,
        at,
        how,
    )
    await _touch(conn, [r["incident_id"] for r in heads if r["incident_id"] is not None])


async def _touch(conn: Conn, heads: list[int]) -> None:
    """Mark incidents changed (a finding of theirs closed): the live feed sends them again."""
    if heads:
        await conn.execute(
            "UPDATE monitor.alerts SET changed_at = clock_timestamp() WHERE id = ANY($1::bigint[])", sorted(set(heads))
        )


async def close_with_dossiers(conn: Conn, settled: dict[str, datetime]) -> None:
    """Close every alert still open on a dossier that settled: duplicates and data-quality
    findings, which nothing later "recovers", and any stuck or lost alert the tracker's proof
    did not reach (one raised before a restart, whose expectation the rebuilt tracker never
    reported). A settled dossier has nothing left to act on."""
    if settled:
        await conn.execute(
            "UPDATE monitor.alerts a SET resolved_at = s.at, resolved_how = 'dossier settled', "
            "changed_at = clock_timestamp() "
            "FROM unnest($1::text[], $2::timestamptz[]) AS s(dossier_id, at) "
            "WHERE a.dossier_id = s.dossier_id AND a.resolved_at IS NULL",
            list(settled),
            list(settled.values()),
        )


async def findings(conn: Conn, only_open: bool = False) -> list[Finding]:
    """Every finding (row of monitor.alerts), oldest first; `only_open`: those of incidents with
    a finding still open (all their findings, closed ones too)."""
    rows = await conn.fetch(
        "SELECT id, kind, severity, subject, dossier_id, key, detail, due_at, opened_at, raised_at, resolved_at, "
        "resolved_how, incident_id FROM monitor.alerts WHERE NOT $1 OR coalesce(incident_id, id) IN "
        "(SELECT coalesce(incident_id, id) FROM monitor.alerts WHERE resolved_at IS NULL) ORDER BY id",
        only_open,
    )
    return [Finding(**{**dict(r), "kind": AlertKind(r["kind"]), "severity": Severity(r["severity"])}) for r in rows]


async def alerts(conn: Conn, only_open: bool = False) -> list[IncidentDoc]:
    """The alerts an operator sees: incidents, each with its findings (streams/incidents.py),
    in the order they opened."""
    grouped = incidents(await findings(conn, only_open))
    grouped.sort(key=lambda a: (datetime.fromisoformat(a["opened_at"]), a["id"]))
    return grouped
