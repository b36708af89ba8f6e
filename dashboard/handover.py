"""The shift handover ("chuyển ca"): what happened in a shift and what the next officer takes
over. Pure: the console's incidents (as the queue shows them) and its worklog between two
moments in, the handover document out, in Vietnamese."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from dashboard.wording import at as shown_at
from dashboard.worklog import Entry
from dashboard.workqueue import QueueRow


class Brief(TypedDict):
    """An incident as a handover lists it."""

    id: int
    code: str | None
    kind_vi: str
    commune: str | None
    where_vi: str
    overdue_vi: str
    severity_vi: str
    assignee: str | None


class Act(TypedDict):
    """An officer's action in the shift."""

    at: str
    at_vi: str
    by: str
    incident: Brief | None
    dossier_id: str | None
    detail: dict[str, object]


# The handover document ("biên bản chuyển ca"); functional form, since one key is `from`.
Handover = TypedDict(
    "Handover",
    {
        "from": str,
        "to": str,
        "by": str,
        "to_officer": str | None,
        "summary_vi": list[str],
        "counts": dict[str, int],
        "opened": list[Brief],
        "acknowledged": list[Act],
        "redriven": list[Act],
        "assigned": list[Act],
        "notes": list[Act],
        "still_open": list[Brief],
    },
)


def _in(moment: str | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start < datetime.fromisoformat(moment) <= end


def _brief(r: QueueRow) -> Brief:
    return {
        "id": r["id"],
        "code": r["code"],
        "kind_vi": r["kind_vi"],
        "commune": r["commune"],
        "where_vi": r["where_vi"],
        "overdue_vi": r["overdue_vi"],
        "severity_vi": r["severity_vi"],
        "assignee": r.get("assignee"),
    }


def handover(
    start: datetime,
    end: datetime,
    rows: Sequence[QueueRow],
    log: Sequence[Entry],
    *,
    by: str,
    to: str | None = None,
) -> Handover:
    """The shift from `start` to `end`: incidents opened in it, the officers' actions in it (by
    whom), and every incident still open, most overdue first (the order of `rows`)."""
    incidents = {r["id"]: r for r in rows}

    def acted(action: str) -> list[Act]:
        out: list[Act] = []
        for entry in log:
            if entry["action"] != action:
                continue
            found = incidents.get(entry["incident_id"] or -1)
            out.append(
                {
                    "at": entry["at"],
                    "at_vi": shown_at(entry["at"]),
                    "by": entry["actor"],
                    "incident": _brief(found) if found else None,
                    "dossier_id": entry["dossier_id"],
                    "detail": entry["detail"],
                }
            )
        return out

    opened = [_brief(r) for r in rows if _in(r["opened_at"], start, end)]
    still_open = [_brief(r) for r in rows if r["state"] != "resolved"]
    acknowledged, redriven, assigned, notes = acted("acknowledge"), acted("redrive"), acted("assign"), acted("note")
    lines = [
        f"Biên bản chuyển ca: từ {shown_at(start)} đến {shown_at(end)}",
        f"Người bàn giao: {by}" + (f"; người nhận: {to}" if to else ""),
        f"Sự cố phát sinh trong ca: {len(opened)}",
        f"Đã xác nhận: {len(acknowledged)}; đã gửi lại: {len(redriven)}; "
        f"đã giao việc: {len(assigned)}; ghi chú: {len(notes)}",
        f"Còn mở, bàn giao cho ca sau: {len(still_open)}"
        + (f", trong đó chưa giao cho ai: {sum(1 for r in still_open if not r['assignee'])}" if still_open else ""),
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": by,
        "to_officer": to,
        "summary_vi": lines,
        "counts": {
            "opened": len(opened),
            "acknowledged": len(acknowledged),
            "redriven": len(redriven),
            "assigned": len(assigned),
            "notes": len(notes),
            "still_open": len(still_open),
        },
        "opened": opened,
        "acknowledged": acknowledged,
        "redriven": redriven,
        "assigned": assigned,
        "notes": notes,
        "still_open": still_open,
    }
