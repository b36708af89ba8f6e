"""Whole rows of the monitor's read API for the console's pure tests: the read API answers every
column (streams/rows.py), so a test names only those it is about and the rest are empty."""

from __future__ import annotations

from typing import Any, cast

from streams.rows import EventRow, IncidentRow

INCIDENT_COLUMNS = (
    *("id", "kind", "severity", "subject", "dossier_id", "detail", "due_at", "opened_at", "raised_at"),
    *("resolved_at", "resolved_how", "findings", "acknowledged_at", "acknowledged_by", "flow", "commune"),
    *("code", "sender", "to_agency", "to_step", "sent_at", "at_agency", "at_step", "since", "closed"),
    "appointment_at",
)


def incident_row(**fields: Any) -> IncidentRow:
    unknown = set(fields) - set(INCIDENT_COLUMNS)
    assert not unknown, f"not a column of the read API: {unknown}"
    base: dict[str, Any] = dict.fromkeys(INCIDENT_COLUMNS)
    base.update(id=0, severity="medium", subject="", detail="", opened_at="2024-01-01T00:00:00+07:00", findings=1)
    return cast(IncidentRow, {**base, **fields})


def event_row(**fields: Any) -> EventRow:
    base: dict[str, Any] = {
        "event_id": "",
        "type": "",
        "agency": "portal",
        "step": None,
        "occurred_at": "2024-01-01T00:00:00+07:00",
        "payload": {},
    }
    unknown = set(fields) - set(base)
    assert not unknown, f"not a column of the read API: {unknown}"
    return cast(EventRow, {**base, **fields})
