"""How the run summary counts each bad-data dossier: refused, refused but the result lost on the
way to the portal, held by a fault before the check, or finished without a refusal."""

from __future__ import annotations

from datetime import datetime

from contracts.clock import VN_TZ
from simulation.run import Final, summarise
from simulation.workload.plan import Planned
from simulation.workload.profiles import load

AT = datetime(2024, 1, 8, 9, tzinfo=VN_TZ)


def planned(dossier_id: str | None, status: int) -> Planned:
    return Planned(AT, "birth", {}, bad="identity_mismatch", status=status, dossier_id=dossier_id)


def test_a_refusal_whose_result_never_reached_the_portal_counts_as_refused() -> None:
    """A demo run counted 1 of 77 identity_mismatch dossiers as not refused. The count read only
    the portal's status, so a dossier civil status had refused with a reason, whose result a
    fault (result-not-synced) then dropped on its way back, looked like one never refused; and a
    dossier a fault held before the check looked the same as one accepted wrongly."""
    profile = load("smoke")
    plans = [
        planned("refused-at-portal", 422),
        planned("rejected", 202),
        planned("result-lost", 202),
        planned("held-before-check", 202),
        planned("accepted-wrongly", 202),
    ]
    final = {
        "rejected": Final("rejected", "hotich"),
        "result-lost": Final("in_progress", "hotich"),
        "held-before-check": Final("in_progress", None),
        "accepted-wrongly": Final("completed", None),
    }
    _, bad = summarise(profile, plans, {}, final)
    assert bad == {
        "identity_mismatch": {
            "injected": 5,
            "refused": 3,
            "result_not_delivered": 1,
            "in_progress": 1,
            "not_refused": 1,
        }
    }
