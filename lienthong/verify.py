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
    # Death chain: one death record and one residence removal; the chosen burial payment once.
    "death_completed_without_exactly_one_death_record": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'death' AND d.status = 'completed'
        AND (SELECT count(*) FROM hotich.death_registrations r WHERE r.dossier_id = d.dossier_id) <> 1""",
    "death_completed_without_exactly_one_residence_removal": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'death' AND d.status = 'completed'
        AND (SELECT count(*) FROM cutru.residence_removals r WHERE r.dossier_id = d.dossier_id) <> 1""",
    "death_completed_without_its_burial_allowance": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'death' AND d.status = 'completed'
        AND 'burial_allowance' = ANY(d.procedures)
        AND (SELECT count(*) FROM bhxh.burial_payments p WHERE p.dossier_id = d.dossier_id) <> 1""",
    "death_completed_without_its_burial_support": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'death' AND d.status = 'completed'
        AND 'burial_support' = ANY(d.procedures)
        AND (SELECT count(*) FROM btxh.burial_payments p WHERE p.dossier_id = d.dossier_id) <> 1""",
    "burial_paid_more_than_once_per_death": """
        SELECT count(*) FROM (SELECT personal_id FROM (
            SELECT personal_id FROM bhxh.burial_payments UNION ALL SELECT personal_id FROM btxh.burial_payments
        ) p GROUP BY personal_id HAVING count(*) > 1) t""",
    "burial_paid_without_being_chosen": """
        SELECT (SELECT count(*) FROM bhxh.burial_payments p JOIN portal.dossiers d USING (dossier_id)
                WHERE NOT 'burial_allowance' = ANY(d.procedures))
             + (SELECT count(*) FROM btxh.burial_payments p JOIN portal.dossiers d USING (dossier_id)
                WHERE NOT 'burial_support' = ANY(d.procedures))""",
    # Judicial record: one certificate per completed request, none for a refused one.
    "lltp_completed_without_exactly_one_certificate": """
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = 'lltp' AND d.status = 'completed'
        AND (SELECT count(*) FROM lltp.certificates c WHERE c.dossier_id = d.dossier_id) <> 1""",
    "lltp_certificate_for_refused_request": """
        SELECT count(*) FROM lltp.certificates c JOIN portal.dossiers d USING (dossier_id)
        WHERE d.status = 'rejected'""",
    "steps_completed_twice": """
        SELECT count(*) FROM (SELECT dossier_id, agency, step FROM portal.timeline
        WHERE type = 'step.completed' GROUP BY 1, 2, 3 HAVING count(*) > 1) t""",
}


EFFECT_TABLES: tuple[str, ...] = (
    "hotich.birth_registrations",
    "hotich.death_registrations",
    "cutru.residence_registrations",
    "cutru.residence_removals",
    "bhxh.bhyt_cards",
    "bhxh.burial_payments",
    "bhxh.survivor_benefits",
    "btxh.burial_payments",
    "lltp.certificates",
)
"""Tables of effects that must happen once, for an accepted dossier, from an event in the inbox."""

for _table in EFFECT_TABLES:
    _schema = _table.split(".")[0]
    # Work applied out of nowhere: an effect for a dossier the portal never accepted.
    CHECKS[f"effect_without_accepted_dossier:{_table}"] = f"""
        SELECT count(*) FROM {_table} x WHERE NOT EXISTS
            (SELECT 1 FROM portal.dossiers d WHERE d.dossier_id = x.dossier_id)"""
    # No event applied twice: each effect's source event is in the consuming agency's inbox.
    CHECKS[f"effect_without_inbox_record:{_table}"] = f"""
        SELECT count(*) FROM {_table} x WHERE NOT EXISTS
            (SELECT 1 FROM {_schema}.inbox i WHERE i.event_id = x.source_event_id)"""

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
