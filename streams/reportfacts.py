"""The statistics report's read of the monitor's event log: each dossier's submission, its first
closing and, for a result sent by post, when it was made."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runtime.conn import Conn

REPORT_FACTS = """
SELECT s.dossier_id, s.chain, s.occurred_at AS submitted_at, s.payload AS submitted,
       c.occurred_at AS closed_at, c.payload ->> 'outcome' AS outcome, r.occurred_at AS posted_at,
       q.received_at AS intake_received_at, q.taken_at AS intake_taken_at
FROM monitor.events s
LEFT JOIN LATERAL (
    SELECT occurred_at, payload FROM monitor.events c
    WHERE c.dossier_id = s.dossier_id AND c.type = 'dossier.closed'
    ORDER BY occurred_at LIMIT 1
) c ON true
LEFT JOIN LATERAL (
    SELECT occurred_at FROM monitor.events r
    WHERE r.dossier_id = s.dossier_id AND r.type = 'step.completed' AND r.step = ANY($3::text[])
      AND s.payload -> 'procedures' ? $2
    ORDER BY occurred_at LIMIT 1
) r ON true
LEFT JOIN LATERAL (
    SELECT min(occurred_at) FILTER (WHERE type = 'handoff.received') AS received_at,
           min(occurred_at) FILTER (WHERE type = 'step.started') AS taken_at
    FROM monitor.events q
    WHERE q.dossier_id = s.dossier_id AND q.step = ANY($4::text[]) AND q.type IN ('handoff.received', 'step.started')
) q ON true
WHERE s.type = 'dossier.submitted' AND s.occurred_at < $1
"""


async def submissions(
    conn: Conn, before: datetime, postal_procedure: str, resolving_steps: list[str], first_steps: list[str]
) -> tuple[list[Any], datetime | None]:
    """Each dossier submitted before `before` with its first closing and, for one that chose
    `postal_procedure`, when a step that resolves it before the post (`resolving_steps`) completed,
    and when its chain's first step (`first_steps`: the one-stop intake) received it and an officer
    took it up (the report's facts); and the newest event's time (the report's cut-off)."""
    rows = await conn.fetch(REPORT_FACTS, before, postal_procedure, resolving_steps, first_steps)
    cutoff = await conn.fetchval("SELECT max(occurred_at) FROM monitor.events")
    return list(rows), cutoff
