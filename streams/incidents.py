"""One alert per incident: the findings of one dossier that share a cause, grouped. Pure.

A dossier that stalls or loses a handoff misses several deadlines in turn: the handoff's
acknowledgement, the step's SLA, a state's limit, the appointment date. For an operator that is one
problem. The monitor records every finding (each is scored against the ground truth on its own),
and a lost or stuck finding raised while its dossier already has one open joins that one's
incident (`incident_id`, the first finding's id) instead of starting another. What an operator sees
(`lienthong alerts`, the dashboard) is the incident: its first finding, the most severe level among
its findings, all of them listed, open while any of them is open.

Duplicates and data-quality findings have causes of their own (a redelivery, the citizen's data)
and stand alone, as do link and agency alerts, which concern no single dossier.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypedDict

from contracts.alerts import Finding
from streams.rows import AlertHead

GROUPED = frozenset({"lost", "stuck"})
"""Finding kinds that join their dossier's open incident."""
RANK = {"low": 0, "medium": 1, "high": 2}


class FindingDoc(TypedDict):
    """One finding of an incident, as an operator reads it (JSON)."""

    id: int
    kind: str
    subject: str
    detail: str
    due_at: str | None
    opened_at: str
    resolved_at: str | None
    resolved_how: str | None


class IncidentDoc(AlertHead):
    """An incident: its head finding's fields, the worst severity, and every finding (JSON)."""

    key: str
    resolved_at: str | None
    resolved_how: str | None
    findings: list[FindingDoc]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _finding(m: Finding) -> FindingDoc:
    return {
        "id": m.id,
        "kind": m.kind,
        "subject": m.subject,
        "detail": m.detail,
        "due_at": _iso(m.due_at),
        "opened_at": m.opened_at.isoformat(),
        "resolved_at": _iso(m.resolved_at),
        "resolved_how": m.resolved_how,
    }


def incident_of(finding: Finding) -> int:
    """The incident a finding belongs to: its head's id (a head has no `incident_id`)."""
    return finding.incident


def incidents(findings: Iterable[Finding]) -> list[IncidentDoc]:
    """Group findings into incidents, in the order of their heads: what an operator reads (JSON).

    An incident carries its head's fields; `severity` is the highest of its findings;
    `resolved_at` is when the last finding closed (None while any is open) and `resolved_how`
    how that one closed; `findings` lists them all, oldest first."""
    groups: dict[int, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: f.id):
        groups.setdefault(f.incident, []).append(f)
    out: list[IncidentDoc] = []
    for head_id, members in groups.items():
        head = next((m for m in members if m.id == head_id), members[0])
        still_open = [m for m in members if m.resolved_at is None]
        last = None if still_open else max(members, key=lambda m: m.resolved_at or m.opened_at)
        out.append(
            {
                "id": head_id,
                "kind": head.kind,
                "severity": max((m.severity for m in members), key=lambda s: RANK.get(s, 0)),
                "subject": head.subject,
                "dossier_id": head.dossier_id,
                "key": head.key,
                "detail": head.detail,
                "due_at": _iso(head.due_at),
                "opened_at": head.opened_at.isoformat(),
                "raised_at": _iso(head.raised_at),
                "resolved_at": None if last is None else _iso(last.resolved_at),
                "resolved_how": None if last is None else last.resolved_how,
                "findings": [_finding(m) for m in members],
            }
        )
    return out
