"""Views by district and commune (dashboard/areas.py): districts hold their communes with the
totals summed, dossiers filed after the reform (no district) last; a commune's overdue dossiers
most overdue first, lateness in working days on the Vietnamese calendar."""

from __future__ import annotations

from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from dashboard.areas import NO_DISTRICT, overdue_list, overview


def test_districts_sum_their_communes_and_the_reforms_communes_come_last() -> None:
    rows = [
        {
            "district": "Huyện Can Lộc",
            "commune": "Xã Tùng Lộc",
            "overdue": 2,
            "in_progress": 5,
            "open_by_kind": {"lost": 1},
        },
        {
            "district": "Huyện Can Lộc",
            "commune": "Xã Vượng Lộc",
            "overdue": 0,
            "in_progress": 1,
            "open_by_kind": {"lost": 2, "stuck": 1},
        },
        {"district": None, "commune": "Phường Thành Sen", "overdue": 1, "in_progress": 0, "open_by_kind": {}},
        {"district": "Huyện Đức Thọ", "commune": "Xã Tùng Ảnh", "overdue": 0, "in_progress": 3, "open_by_kind": {}},
    ]
    listed = overview(rows)
    assert [d["district"] for d in listed] == ["Huyện Can Lộc", "Huyện Đức Thọ", NO_DISTRICT]
    can_loc = listed[0]
    assert (can_loc["overdue"], can_loc["in_progress"], can_loc["open"]) == (2, 6, 4)
    assert can_loc["open_by_kind"] == {"lost": 3, "stuck": 1}
    assert [c["commune"] for c in can_loc["communes"]] == ["Xã Tùng Lộc", "Xã Vượng Lộc"]


def test_a_communes_overdue_dossiers_are_most_overdue_first_in_working_days() -> None:
    now = datetime(2024, 1, 12, 9, 0, tzinfo=VN_TZ)  # a Friday
    rows = [
        {
            "dossier_id": "a" * 8,
            "chain": "birth",
            "code": None,
            "submitted_at": datetime(2024, 1, 8, 9, tzinfo=VN_TZ),
            "due_at": datetime(2024, 1, 11, 17, tzinfo=VN_TZ),
        },
        {
            "dossier_id": "b" * 8,
            "chain": "lltp",
            "code": "000.00.11.H27-240102-0001",
            "submitted_at": datetime(2024, 1, 2, 9, tzinfo=VN_TZ),
            "due_at": datetime(2024, 1, 9, 17, tzinfo=VN_TZ),
        },
    ]
    listed = overdue_list(rows, WorkingCalendar(), now)
    assert [(d["code"], d["overdue_days"]) for d in listed] == [("000.00.11.H27-240102-0001", 3), ("AAAAAAAA", 1)]
    assert listed[0]["overdue_vi"] == "quá hạn 3 ngày làm việc"
    assert listed[0]["due_vi"] == "17:00 09/01/2024"
    assert listed[0]["flow_vi"] == "Lý lịch tư pháp"
