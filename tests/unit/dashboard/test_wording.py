"""The console's Vietnamese: lateness in working days on the VN calendar, the verdict line, the
timeline as sentences."""

from datetime import datetime

from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains
from contracts.clock import VN_TZ
from dashboard.wording import Words, lateness
from tests.unit.dashboard.rows import event_row, incident_row

CAL = WorkingCalendar()
WORDS = Words(load_chains())


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def test_lateness_counts_working_days_after_the_deadline_day() -> None:
    due = at(2024, 1, 15, 17)  # Monday, office close
    assert lateness(CAL, due, at(2024, 1, 18, 10)).working_days == 3  # Tue, Wed, Thu
    assert lateness(CAL, due, at(2024, 1, 18, 10)).text == "quá hạn 3 ngày làm việc"
    assert lateness(CAL, due, at(2024, 1, 15, 20)).text == "quá hạn 3 giờ"
    assert lateness(CAL, due, at(2024, 1, 15, 12)).text == "chưa quá hạn"


def test_lateness_leaves_out_weekends_and_tet() -> None:
    friday = at(2024, 1, 19, 17)
    assert lateness(CAL, friday, at(2024, 1, 21, 12)).working_days == 0  # the weekend
    # Tết 2024: 8–14 February off; due on Wednesday 7 February, still waiting on Thursday 15th.
    assert lateness(CAL, at(2024, 2, 7, 17), at(2024, 2, 15, 9)).working_days == 1


def test_a_stuck_step_reads_as_where_since_when_and_how_late_in_working_days() -> None:
    row = incident_row(
        kind="stuck",
        subject="step:hotich/register_death",
        detail="step not finished by its SLA",
        since="2024-01-17T08:10:00+07:00",
        due_at="2024-01-17T17:00:00+07:00",
    )
    late = lateness(CAL, at(2024, 1, 17, 17), at(2024, 1, 22, 9))
    assert WORDS.verdict(row, late) == (
        "Kẹt tại Hộ tịch – Đăng ký khai tử từ 08:10 17/01/2024, quá hạn 3 ngày làm việc (hạn 1 ngày làm việc)"
    )
    assert WORDS.action(row) == "Đôn đốc Hộ tịch xử lý, báo công dân nếu phải hẹn lại"


def test_a_lost_handoff_waits_at_its_receiver_and_names_its_sender() -> None:
    row = incident_row(
        kind="lost",
        subject="link:hotich->cutru",
        sender="hotich",
        to_agency="cutru",
        to_step="remove_residence",
        sent_at="2024-01-22T13:23:00+07:00",
    )
    assert WORDS.where(row) == ("cutru", "Cư trú – Xóa đăng ký thường trú")
    assert WORDS.verdict(row, None).startswith("Thất lạc khi Hộ tịch chuyển sang Cư trú – Xóa đăng ký thường trú")
    assert "Gửi lại hồ sơ từ Hộ tịch" in WORDS.action(row)
    assert WORDS.action(incident_row(**{**row, "resolved_at": "2024-01-23T00:00:00+07:00"})) == "Không cần xử lý thêm"


def test_an_infrastructure_incident_names_the_queue_why_it_holds_and_how_many_dossiers() -> None:
    row = incident_row(
        kind="infrastructure",
        subject="work:cutru/2",
        detail="the consumers of lt.work.cutru/2 are 1200 messages behind; holding 3 dossiers: A, B, C",
        opened_at="2024-01-22T13:23:00+07:00",
    )
    assert WORDS.where(row) == ("cutru", "Hàng đợi của Cư trú (phân vùng 2)")
    assert WORDS.verdict(row, None) == (
        "Hàng đợi của Cư trú (phân vùng 2) hệ thống nhận chậm 1200 thông điệp từ 13:23 22/01/2024, giữ 3 hồ sơ"
    )
    leaderless = incident_row(**{**row, "detail": "lt.work.cutru/2 has no leader; holding 1 dossiers: A"})
    assert "không có máy chủ Kafka phụ trách" in WORDS.verdict(leaderless, None)
    assert "không gửi lại" in WORDS.action(row)
    assert WORDS.resolved("flowed again: 3 dossiers") == "hàng đợi chạy lại, 3 hồ sơ đã đi tiếp"


def test_every_alert_kind_has_its_vietnamese_name() -> None:
    from contracts.alerts import AlertKind
    from dashboard.wording import KIND_VI

    assert set(KIND_VI) == {k.value for k in AlertKind}


def test_events_read_as_sentences_and_the_state_in_the_portals_labels() -> None:
    events = [
        event_row(type="dossier.submitted", agency="portal", payload={"channel": "online"}),
        event_row(type="handoff.sent", agency="portal", payload={"to": "motcua", "to_step": "intake"}),
        event_row(type="step.state", agency="hotich", step="register_birth", payload={"state": "awaiting_signature"}),
    ]
    assert [WORDS.event(e) for e in events] == [
        "Công dân nộp hồ sơ trực tuyến",
        "Cổng DVC chuyển hồ sơ sang Một cửa – Tiếp nhận hồ sơ một cửa",
        "Hộ tịch: Chờ ký số",
    ]
    assert WORDS.state(events) == "Chờ ký số"
    closed = [
        *events,
        event_row(type="dossier.closed", agency="portal", payload={"outcome": "completed"}),
    ]
    assert WORDS.state(closed) == "Đã trả kết quả"
    assert WORDS.resolved("step.completed (late)") == "bước đã hoàn thành (muộn)"
