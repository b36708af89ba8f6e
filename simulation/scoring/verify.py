"""`lienthong verify`: cross-check every agency's database against the portal.

Each check counts violations; the last stdout line is {"violations": N, "checks": {...}}.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from contracts.dossiers import STANDALONE_PROCEDURE
from contracts.topics import AGENCIES

CHECKS: dict[str, str] = {
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
    # Death chain: the chosen burial payment once per death, and none unchosen.
    "burial_paid_more_than_once_per_death": """
        SELECT count(*) FROM (SELECT personal_id FROM (
            SELECT personal_id FROM bhxh.burial_payments UNION ALL SELECT personal_id FROM btxh.burial_payments
        ) p GROUP BY personal_id HAVING count(*) > 1) t""",
    "burial_paid_without_being_chosen": """
        SELECT (SELECT count(*) FROM bhxh.burial_payments p JOIN portal.dossiers d USING (dossier_id)
                WHERE NOT 'burial_allowance' = ANY(d.procedures))
             + (SELECT count(*) FROM btxh.burial_payments p JOIN portal.dossiers d USING (dossier_id)
                WHERE NOT 'burial_support' = ANY(d.procedures))""",
    # Judicial record: no certificate for a refused request.
    "lltp_certificate_for_refused_request": """
        SELECT count(*) FROM lltp.certificates c JOIN portal.dossiers d USING (dossier_id)
        WHERE d.status = 'rejected'""",
    # Marriage: one marriage at a time per person, and none for a refused request.
    "married_twice": """
        SELECT count(*) FROM (SELECT p FROM (
            SELECT applicant_id AS p FROM hotich.marriages UNION ALL SELECT partner_id FROM hotich.marriages
        ) x GROUP BY p HAVING count(*) > 1) t""",
    "marriage_for_refused_request": """
        SELECT count(*) FROM hotich.marriages m JOIN portal.dossiers d USING (dossier_id)
        WHERE d.status = 'rejected'""",
    "steps_completed_twice": """
        SELECT count(*) FROM (SELECT dossier_id, agency, step FROM portal.timeline
        WHERE type = 'step.completed' GROUP BY 1, 2, 3 HAVING count(*) > 1) t""",
}


EXACTLY_ONE: tuple[tuple[str, str, str, str | None], ...] = (
    # (chain, what, effect table, procedure that asks for it: None when every linked dossier does)
    ("birth", "personal_id", "hotich.birth_registrations", None),
    ("birth", "residence", "cutru.residence_registrations", None),
    ("birth", "bhyt_card", "bhxh.bhyt_cards", None),
    ("death", "death_record", "hotich.death_registrations", None),
    ("death", "residence_removal", "cutru.residence_removals", None),
    ("death", "burial_allowance", "bhxh.burial_payments", "burial_allowance"),
    ("death", "burial_support", "btxh.burial_payments", "burial_support"),
    ("death", "survivor_benefit", "bhxh.survivor_benefits", "survivor_benefit"),
    ("lltp", "certificate", "lltp.certificates", None),
    ("lltp", "postal_item", "motcua.postal_items", "return_by_post"),
    ("marriage", "marital_confirmation", "hotich.marital_confirmations", None),
    ("marriage", "marriage", "hotich.marriages", None),
)
"""Each completed dossier of `chain` has exactly one row in the effect table (when it chose the
procedure); a standalone registration only its civil-status record."""
REGISTRATIONS = {"hotich.birth_registrations", "hotich.death_registrations"}

for _chain, _what, _table, _procedure in EXACTLY_ONE:
    _chosen = f"AND '{_procedure}' = ANY(d.procedures)" if _procedure else ""
    if _table not in REGISTRATIONS:
        _chosen += f" AND NOT '{STANDALONE_PROCEDURE}' = ANY(d.procedures)"
    CHECKS[f"{_chain}_completed_without_exactly_one_{_what}"] = f"""
        SELECT count(*) FROM portal.dossiers d WHERE d.chain = '{_chain}' AND d.status = 'completed' {_chosen}
        AND (SELECT count(*) FROM {_table} x WHERE x.dossier_id = d.dossier_id) <> 1"""
# A standalone registration goes no further than civil status.
CHECKS["standalone_registration_went_further"] = f"""
    SELECT (SELECT count(*) FROM cutru.residence_registrations x JOIN portal.dossiers d USING (dossier_id)
            WHERE '{STANDALONE_PROCEDURE}' = ANY(d.procedures))
         + (SELECT count(*) FROM bhxh.bhyt_cards x JOIN portal.dossiers d USING (dossier_id)
            WHERE '{STANDALONE_PROCEDURE}' = ANY(d.procedures))
         + (SELECT count(*) FROM cutru.residence_removals x JOIN portal.dossiers d USING (dossier_id)
            WHERE '{STANDALONE_PROCEDURE}' = ANY(d.procedures))"""

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
    "motcua.postal_items",
    "hotich.marital_confirmations",
    "hotich.marriages",
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
