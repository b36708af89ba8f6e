"""The shift handover document (dashboard/handover.py): what was opened in the shift, the
officers' actions in it by whom, what stays open, in Vietnamese; nothing from before the shift."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from dashboard.handover import handover
from dashboard.worklog import Entry

START = datetime(2024, 1, 9, 7, 30, tzinfo=VN_TZ)
END = START + timedelta(hours=8)


def _row(i: int, opened: datetime, state: str = "open", assignee: str | None = None) -> dict[str, object]:
    return {
        "id": i,
        "code": f"HS-{i}",
        "kind_vi": "Thất lạc",
        "commune": "Xã Tùng Lộc",
        "where_vi": "Cư trú – Đăng ký thường trú",
        "overdue_vi": "quá hạn 1 ngày làm việc",
        "severity_vi": "Cao",
        "opened_at": opened.isoformat(),
        "state": state,
        "assignee": assignee,
    }


def _entry(action: str, at: datetime, actor: str, incident: int | None, **detail: object) -> Entry:
    """A worklog line as `worklog.between` answers it (the dossier has its own column)."""
    dossier = detail.pop("dossier_id", None)
    return {
        "id": 0,
        "at": at.isoformat(),
        "recorded_at": at.isoformat(),
        "actor": actor,
        "action": action,
        "incident_id": incident,
        "dossier_id": str(dossier) if dossier else None,
        "detail": detail,
    }


def test_a_handover_lists_the_shifts_incidents_actions_by_whom_and_what_stays_open() -> None:
    rows = [
        _row(1, START - timedelta(days=1), assignee="Lê Văn C"),  # from an earlier shift, still open
        _row(2, START + timedelta(hours=1)),  # opened in this shift, still open, nobody on it
        _row(3, START + timedelta(hours=2), state="resolved"),  # opened and over in this shift
    ]
    log = [
        _entry("assign", START + timedelta(hours=1), "Trần Thị B", 1, assignee="Lê Văn C"),
        _entry("acknowledge", START + timedelta(hours=3), "Lê Văn C", 3),
        _entry("redrive", START + timedelta(hours=4), "Lê Văn C", None, dossier_id="d-3", queued=2),
        _entry("note", START + timedelta(hours=5), "Lê Văn C", 1, text="Đã gọi Công an xã"),
    ]
    d = handover(START, END, rows, log, by="Trần Thị B", to="Phạm D")
    assert [r["code"] for r in d["opened"]] == ["HS-2", "HS-3"]
    assert [(r["code"], r["assignee"]) for r in d["still_open"]] == [("HS-1", "Lê Văn C"), ("HS-2", None)]
    assert [(a["by"], a["incident"]["code"]) for a in d["assigned"]] == [("Trần Thị B", "HS-1")]
    assert d["redriven"][0]["detail"]["queued"] == 2
    assert d["redriven"][0]["dossier_id"] == "d-3"
    assert d["counts"] == {"opened": 2, "acknowledged": 1, "redriven": 1, "assigned": 1, "notes": 1, "still_open": 2}
    assert d["summary_vi"] == [
        "Biên bản chuyển ca: từ 07:30 09/01/2024 đến 15:30 09/01/2024",
        "Người bàn giao: Trần Thị B; người nhận: Phạm D",
        "Sự cố phát sinh trong ca: 2",
        "Đã xác nhận: 1; đã gửi lại: 1; đã giao việc: 1; ghi chú: 1",
        "Còn mở, bàn giao cho ca sau: 2, trong đó chưa giao cho ai: 1",
    ]
