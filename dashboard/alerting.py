"""The console's side of notifications: each open lost or stuck incident as one Prometheus series,
`lienthong_incident_overdue_working_days`, labelled with what an officer reads in the queue (the
dossier's code, its commune, where it waits in Vietnamese, the kind) and valued at the working
days it is overdue. The shipped rule `LienthongDossierOverdue` turns each into an alert, which
Alertmanager groups by flow and agency, inhibits behind an outage, and sends (docs/operations.md).

Why here and not in the monitor: the console owns the words (dashboard/wording.py) and the
lateness in working days the queue shows; a notification must say the same. The series are
bounded (`LIMIT`, most overdue first) so that a storm cannot flood Prometheus: past it, the
aggregate alerts by agency still count every dossier."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.alerts import AlertKind
from dashboard.workqueue import QueueRow
from runtime.metrics import INCIDENT_OVERDUE

LIMIT = 300
"""Series at most: the most overdue open incidents."""
NOTIFIED = (AlertKind.LOST, AlertKind.STUCK)


def export(rows: Sequence[QueueRow]) -> int:
    """Replace the series with the queue's open lost and stuck incidents; how many were set."""
    INCIDENT_OVERDUE.clear()
    chosen = [r for r in rows if r["state"] != "resolved" and r["kind"] in NOTIFIED and r["dossier_id"]]
    chosen.sort(key=lambda r: r["overdue_s"] or 0.0, reverse=True)
    for r in chosen[:LIMIT]:
        INCIDENT_OVERDUE.labels(
            dossier=r["dossier_id"] or "",
            code=r["code"] or "",
            commune=r["commune"] or "",
            place=r["where_vi"],
            kind=r["kind"],
            kind_vi=r["kind_vi"],
            severity=r["severity"],
            agency=r["agency"] or "",
            flow=r["flow"] or "",
        ).set(max(0, r["overdue_days"] or 0))
    return min(len(chosen), LIMIT)
