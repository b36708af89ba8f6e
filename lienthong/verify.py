"""`lienthong verify`: cross-check every agency's database against the portal.

Each check counts violations; the last stdout line is {"violations": N, "checks": {...}}.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from contracts.topics import AGENCIES

CHECKS: dict[str, str] = {
    # Every completed birth dossier has exactly one ID number, residence registration, BHYT card.
    "birth_completed_without_exactly_one_personal_id": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'birth' AND d.status = 'completed'
        AND (SELECT count(*) FROM hotich.birth_registrations b WHERE b.dossier_id = d.dossier_id) <> 1""",
    "birth_completed_without_exactly_one_residence": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'birth' AND d.status = 'completed'
        AND (SELECT count(*) FROM cutru.residence_registrations r WHERE r.dossier_id = d.dossier_id) <> 1""",
    "birth_completed_without_exactly_one_bhyt_card": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'birth' AND d.status = 'completed'
        AND (SELECT count(*) FROM bhxh.bhyt_cards c WHERE c.dossier_id = d.dossier_id) <> 1""",
    # The ID number each agency used is the one civil status issued.
    "personal_id_disagrees_across_agencies": """
        SELECT count(*) FROM hotich.birth_registrations b
        LEFT JOIN cutru.residence_registrations r USING (dossier_id)
        LEFT JOIN bhxh.bhyt_cards c USING (dossier_id)
        WHERE r.personal_id <> b.personal_id OR c.personal_id <> b.personal_id""",
    "portal_result_disagrees_with_civil_status": """
        SELECT count(*) FROM portal.results p JOIN hotich.birth_registrations b USING (dossier_id)
        WHERE p.outcome = 'completed' AND p.result ? 'personal_id'
        AND p.result->>'personal_id' <> b.personal_id""",
    # Every accepted dossier is completed, rejected with a reason, or in progress.
    "accepted_in_unknown_state": """
        SELECT count(*) FROM portal.dossiers WHERE status NOT IN ('completed', 'rejected', 'in_progress')""",
    "rejected_without_reason": """
        SELECT count(*) FROM portal.dossiers WHERE status = 'rejected' AND coalesce(reason, '') = ''""",
    "completed_missing_results": """
        SELECT count(*) FROM portal.dossiers d WHERE d.status = 'completed' AND EXISTS (
            SELECT 1 FROM unnest(d.expected_results) s WHERE NOT EXISTS (
                SELECT 1 FROM portal.results r WHERE r.dossier_id = d.dossier_id AND r.step = s
                AND r.outcome = 'completed'))""",
    # Effects for dossiers the portal never accepted: something applied work out of nowhere.
    "effects_without_accepted_dossier": """
        SELECT (SELECT count(*) FROM hotich.birth_registrations x WHERE NOT EXISTS
                  (SELECT 1 FROM portal.dossiers d WHERE d.dossier_id = x.dossier_id))
             + (SELECT count(*) FROM cutru.residence_registrations x WHERE NOT EXISTS
                  (SELECT 1 FROM portal.dossiers d WHERE d.dossier_id = x.dossier_id))
             + (SELECT count(*) FROM bhxh.bhyt_cards x WHERE NOT EXISTS
                  (SELECT 1 FROM portal.dossiers d WHERE d.dossier_id = x.dossier_id))""",
    # No event applied twice: each effect's source event is in the consuming agency's inbox,
    # and no step of a dossier completed under two different events.
    "effects_without_inbox_record": """
        SELECT (SELECT count(*) FROM hotich.birth_registrations x WHERE NOT EXISTS
                  (SELECT 1 FROM hotich.inbox i WHERE i.event_id = x.source_event_id))
             + (SELECT count(*) FROM cutru.residence_registrations x WHERE NOT EXISTS
                  (SELECT 1 FROM cutru.inbox i WHERE i.event_id = x.source_event_id))
             + (SELECT count(*) FROM bhxh.bhyt_cards x WHERE NOT EXISTS
                  (SELECT 1 FROM bhxh.inbox i WHERE i.event_id = x.source_event_id))""",
    "steps_completed_twice": """
        SELECT count(*) FROM (SELECT dossier_id, agency, step FROM portal.timeline
        WHERE type = 'step.completed' GROUP BY 1, 2, 3 HAVING count(*) > 1) t""",
}


_TABLE = re.compile(r"\b(" + "|".join(AGENCIES) + r")\.([a-z_]+)\b")


async def verify(database_url: str) -> dict[str, Any]:
    """Run every check whose tables exist. An agency run as an external system has no tables
    here: its checks are listed under `skipped`, not counted as passed."""
    conn = await asyncpg.connect(database_url)
    try:
        checks: dict[str, int] = {}
        skipped: list[str] = []
        for name, sql in CHECKS.items():
            tables = {f"{s}.{t}" for s, t in _TABLE.findall(sql)}
            present = [await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", t) for t in sorted(tables)]
            if all(present):
                checks[name] = int(await conn.fetchval(sql))
            else:
                skipped.append(name)
        totals = dict(await conn.fetch("SELECT status, count(*) FROM portal.dossiers GROUP BY status"))
    finally:
        await conn.close()
    return {
        "violations": sum(checks.values()),
        "checks": checks,
        "skipped": skipped,
        "dossiers": {k: int(v) for k, v in totals.items()},
    }
