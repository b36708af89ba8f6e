"""The panel's legal deadline: a dossier submitted 05/01, due 19/01 and delivered 21/03 is late
by the working days between, whatever each step's own deadline said (time lost in transit
counted nowhere before); and a 67-day wait between two agencies is marked in the timeline."""

from __future__ import annotations

from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from dashboard.deadline import PanelEvent, deadline, mark_gaps, span_vi
from tests.unit.dashboard.rows import event_row

SUBMITTED = datetime(2024, 1, 5, 9, tzinfo=VN_TZ)
DUE = datetime(2024, 1, 19, 17, tzinfo=VN_TZ)


def events(closed: datetime | None) -> list[PanelEvent]:
    out: list[PanelEvent] = [
        event_row(
            event_id="s",
            type="dossier.submitted",
            occurred_at=SUBMITTED.isoformat(),
            payload={"due_at": DUE.isoformat()},
        ),
        event_row(event_id="h", type="handoff.sent", occurred_at=datetime(2024, 1, 8, 10, tzinfo=VN_TZ).isoformat()),
        event_row(
            event_id="r",
            type="handoff.received",
            occurred_at=datetime(2024, 3, 15, 10, tzinfo=VN_TZ).isoformat(),
            payload={"sent_event_id": "h"},
        ),
    ]
    if closed:
        out.append(event_row(event_id="c", type="dossier.closed", occurred_at=closed.isoformat()))
    return out


def test_a_dossier_delivered_two_months_after_its_deadline_is_late_by_the_working_days_between() -> None:
    found = deadline(
        events(datetime(2024, 3, 21, 10, tzinfo=VN_TZ)), WorkingCalendar(), datetime(2024, 4, 1, tzinfo=VN_TZ)
    )
    assert found is not None
    assert found["due_vi"].endswith("19/01/2024")
    assert found["late"] is True
    # 22/01–21/03 less weekends and Tết (8–14 February 2024): January 8, February 16, March 15.
    assert found["late_working_days"] == 39
    assert found["text_vi"] == "Trả kết quả, trễ 39 ngày làm việc (61 ngày sau hạn)"


def test_an_open_dossier_is_judged_at_the_pages_moment_and_one_in_time_says_so() -> None:
    still = deadline(events(None), WorkingCalendar(), datetime(2024, 1, 22, 9, tzinfo=VN_TZ))
    assert still is not None
    assert still["text_vi"].startswith("Chưa trả kết quả, trễ 1 ngày làm việc")
    on_time = deadline(events(datetime(2024, 1, 18, 9, tzinfo=VN_TZ)), WorkingCalendar(), DUE)
    assert on_time is not None
    assert (on_time["late"], on_time["text_vi"]) == (False, "Trả kết quả, trong hạn")


def test_the_wait_between_two_agencies_is_marked_on_the_receipt() -> None:
    timeline = events(None)
    mark_gaps(timeline)
    assert timeline[2]["gap_vi"] == "Hồ sơ chờ 67 ngày giữa hai cơ quan trước khi được nhận"
    assert "gap_vi" not in timeline[1]
    assert span_vi(3 * 3600) == "3 giờ"
    assert span_vi(50 * 3600) == "2 ngày 2 giờ"


def test_a_certificate_issued_in_time_and_delivered_by_post_after_the_deadline_is_in_time() -> None:
    issued, delivered = datetime(2024, 1, 19, 15, tzinfo=VN_TZ), datetime(2024, 1, 23, 10, tzinfo=VN_TZ)
    posted: list[PanelEvent] = [
        event_row(
            event_id="s",
            type="dossier.submitted",
            occurred_at=SUBMITTED.isoformat(),
            payload={"due_at": DUE.isoformat(), "procedures": ["return_by_post"]},
        ),
        event_row(event_id="i", type="step.completed", step="issue_certificate", occurred_at=issued.isoformat()),
        event_row(event_id="p", type="step.completed", step="return_by_post", occurred_at=delivered.isoformat()),
        event_row(event_id="c", type="dossier.closed", occurred_at=delivered.isoformat()),
    ]
    found = deadline(posted, WorkingCalendar(), datetime(2024, 2, 1, tzinfo=VN_TZ))
    assert found is not None
    assert (found["late"], found["text_vi"]) == (False, "Đã gửi kết quả qua bưu chính, trong hạn")
    # Collected at the desk instead, the same closing is late.
    posted[0]["payload"] = {"due_at": DUE.isoformat()}
    desk = deadline(posted, WorkingCalendar(), datetime(2024, 2, 1, tzinfo=VN_TZ))
    assert desk is not None
    assert desk["late"] is True
