"""The dossier panel's verdict line is the queue's: a dossier with an open duplicate incident
(found first) and an open stuck one five working days late showed the duplicate in its panel,
while the queue's row, which an officer had clicked, said it was stuck."""

from __future__ import annotations

from typing import Any

from dashboard.workqueue import headline


def row(verdict: str, state: str, days: int | None, severity: str, opened: str) -> dict[str, Any]:
    return {
        "verdict_vi": verdict,
        "state": state,
        "overdue_days": days,
        "overdue_s": None if days is None else days * 86400.0,
        "severity": severity,
        "opened_at": opened,
    }


def test_the_panel_names_the_most_overdue_open_incident_not_the_first_found() -> None:
    duplicate = row("Thông điệp bị gửi trùng", "open", None, "low", "2024-01-09T04:57:00+00:00")
    stuck = row("Kẹt tại UBND xã, quá hạn 5 ngày làm việc", "open", 5, "medium", "2024-01-10T01:00:00+00:00")
    assert headline([duplicate, stuck]) == stuck["verdict_vi"]
    assert headline([stuck, duplicate]) == stuck["verdict_vi"]


def test_with_nothing_open_the_panel_names_the_newest_incident_and_without_any_none() -> None:
    old = row("Thất lạc khi chuyển", "resolved", 2, "high", "2024-01-09T01:00:00+00:00")
    new = row("Kẹt tại Công an xã", "resolved", 1, "medium", "2024-01-11T01:00:00+00:00")
    assert headline([old, new]) == new["verdict_vi"]
    assert headline([]) is None
