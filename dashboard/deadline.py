"""A dossier against its legal deadline, for the side panel: the appointment date the citizen was
given and how late the dossier is against it (finished late, or still open past it), and the gaps
in its timeline, the time a dossier waited between two agencies, which no step's deadline counts.
Pure: the events come from the monitor's log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from contracts.calendar import WorkingCalendar
from contracts.chains import load_chains, posting_steps
from contracts.dossiers import POSTAL_PROCEDURE
from dashboard.wording import Words, at, text
from streams.rows import EventRow

GAP_S = 3600.0
"""A wait between a handoff and its receipt worth marking in the timeline (longer than an hour)."""

POSTING = frozenset(posting_steps(load_chains()))
"""Steps after which a certificate goes to the post: it is resolved then."""


class PanelEvent(EventRow, total=False):
    """An event as the dossier panel shows it: in words, with its place and local time, and the
    wait before it when it was a long one."""

    text_vi: str
    agency_vi: str
    at_vi: str
    gap_vi: str


def panel_event(e: EventRow, words: Words) -> PanelEvent:
    """An event in words, with its place and its local time."""
    return {
        "event_id": e["event_id"],
        "type": e["type"],
        "agency": e["agency"],
        "step": e["step"],
        "occurred_at": e["occurred_at"],
        "payload": e["payload"],
        "text_vi": words.event(e),
        "agency_vi": words.step(e["agency"], None),
        "at_vi": at(e["occurred_at"]),
    }


class Deadline(TypedDict):
    due_at: str
    due_vi: str
    late: bool
    late_working_days: int
    text_vi: str


def _when(e: EventRow) -> datetime:
    return datetime.fromisoformat(e["occurred_at"])


def span_vi(seconds: float) -> str:
    """A wait in words: "3 giờ", "2 ngày 4 giờ", "67 ngày"."""
    hours = int(seconds // 3600)
    days, hours = divmod(hours, 24)
    if days >= 7:
        return f"{days} ngày"
    return f"{days} ngày {hours} giờ" if days and hours else f"{days} ngày" if days else f"{max(hours, 1)} giờ"


def deadline(events: Sequence[EventRow], calendar: WorkingCalendar, now: datetime) -> Deadline | None:
    """The appointment date and the lateness against it ("đúng hạn", or "trễ N ngày làm việc" with
    the calendar span), at the dossier's closing or, still open, at `now`; None without one."""
    submitted = next((e for e in events if e["type"] == "dossier.submitted"), None)
    due_text = text(submitted["payload"].get("due_at")) if submitted else None
    if not due_text:
        return None
    due = datetime.fromisoformat(due_text)
    assert submitted is not None
    procedures = submitted["payload"].get("procedures")
    posted = isinstance(procedures, list) and POSTAL_PROCEDURE in procedures
    # A certificate sent by post is resolved when issued: the post's delivery is not the office's time.
    issued = next((e for e in events if posted and e["type"] == "step.completed" and e["step"] in POSTING), None)
    closed = issued or next((e for e in events if e["type"] == "dossier.closed"), None)
    until = _when(closed) if closed else now
    days = calendar.working_days_overdue(due, until)
    late = until > due
    said = "Đã gửi kết quả qua bưu chính" if issued else "Trả kết quả" if closed else "Chưa trả kết quả"
    verdict = said + (
        f", trễ {days} ngày làm việc ({span_vi((until - due).total_seconds())} sau hạn)" if late else ", trong hạn"
    )
    return {"due_at": due.isoformat(), "due_vi": at(due), "late": late, "late_working_days": days, "text_vi": verdict}


def mark_gaps(events: list[PanelEvent]) -> None:
    """Give each receipt that came more than `GAP_S` after its handoff a `gap_vi`: how long the
    dossier waited between the two agencies."""
    sent = {str(e["event_id"]): e for e in events if e["type"] == "handoff.sent"}
    for e in events:
        if e["type"] != "handoff.received":
            continue
        handoff = sent.get(str(e["payload"].get("sent_event_id")))
        if handoff is None:
            continue
        waited = (_when(e) - _when(handoff)).total_seconds()
        if waited > GAP_S:
            e["gap_vi"] = f"Hồ sơ chờ {span_vi(waited)} giữa hai cơ quan trước khi được nhận"
