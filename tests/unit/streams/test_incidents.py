"""Grouping findings into incidents (streams/incidents.py): pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.alerts import AlertKind, Finding, Severity
from contracts.clock import VN_TZ
from streams.incidents import incident_of, incidents

T0 = datetime(2024, 1, 8, 8, 0, tzinfo=VN_TZ)


def finding(id_: int, kind: str, severity: str, *, head: int | None = None, closed_h: float | None = None) -> Finding:
    return Finding(
        id=id_,
        kind=AlertKind(kind),
        severity=Severity(severity),
        subject=f"s{id_}",
        dossier_id="D-1",
        due_at=T0,
        opened_at=T0 + timedelta(hours=id_),
        resolved_at=None if closed_h is None else T0 + timedelta(hours=closed_h),
        resolved_how=None if closed_h is None else f"how {id_}",
        incident_id=head,
    )


def test_an_incident_stays_open_while_any_finding_is_open_and_takes_the_worst_severity() -> None:
    rows = [
        finding(5, "stuck", "medium", closed_h=30),
        finding(7, "lost", "high", head=5),
        finding(9, "duplicate", "low"),
    ]
    got = incidents(rows)
    assert [(i["id"], i["kind"], i["severity"], len(i["findings"])) for i in got] == [
        (5, "stuck", "high", 2),
        (9, "duplicate", "low", 1),
    ]
    assert got[0]["resolved_at"] is None
    assert [f["id"] for f in got[0]["findings"]] == [5, 7]
    assert "incident_id" not in got[0]


def test_an_incident_closes_when_its_last_finding_closes_and_says_how() -> None:
    rows = [finding(7, "lost", "high", head=5, closed_h=40), finding(5, "stuck", "medium", closed_h=30)]
    (only,) = incidents(rows)
    assert only["resolved_at"] == (T0 + timedelta(hours=40)).isoformat()
    assert only["resolved_how"] == "how 7"
    assert only["opened_at"] == (T0 + timedelta(hours=5)).isoformat()  # the head's


def test_a_head_has_no_incident_id_and_a_member_names_its_head() -> None:
    assert incident_of(finding(3, "lost", "high")) == 3
    assert incident_of(finding(4, "stuck", "medium", head=3)) == 3
