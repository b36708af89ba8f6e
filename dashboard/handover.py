"""The shift handover ("chuyển ca"): what happened in a shift and what the next officer takes
over. Pure: the console's incidents (as the queue shows them) and its worklog between two
moments in, the handover document out, in Vietnamese."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dashboard.wording import at as shown_at


def _in(moment: str | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start < datetime.fromisoformat(moment) <= end


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "code": r.get("code"),
        "kind_vi": r.get("kind_vi"),
        "commune": r.get("commune"),
        "where_vi": r.get("where_vi"),
        "overdue_vi": r.get("overdue_vi"),
        "severity_vi": r.get("severity_vi"),
        "assignee": r.get("assignee"),
    }


def handover(
    start: datetime,
    end: datetime,
    rows: list[dict[str, Any]],
    log: list[dict[str, Any]],
    *,
    by: str,
    to: str | None = None,
) -> dict[str, Any]:
    """The shift from `start` to `end`: incidents opened in it, the officers' actions in it (by
    whom), and every incident still open, most overdue first (the order of `rows`)."""
    incidents = {r["id"]: r for r in rows}

    def acted(action: str) -> list[dict[str, Any]]:
        out = []
        for entry in log:
            if entry["action"] != action:
                continue
            found = incidents.get(entry.get("incident_id") or -1)
            out.append(
                {
                    "at": entry["at"],
                    "at_vi": shown_at(entry["at"]),
                    "by": entry["actor"],
                    "incident": _brief(found) if found else None,
                    "dossier_id": entry.get("dossier_id"),
                    "detail": entry.get("detail") or {},
                }
            )
        return out

    opened = [_brief(r) for r in rows if _in(r.get("opened_at"), start, end)]
    still_open = [_brief(r) for r in rows if r["state"] != "resolved"]
    sections = {
        "opened": opened,
        "acknowledged": acted("acknowledge"),
        "redriven": acted("redrive"),
        "assigned": acted("assign"),
        "notes": acted("note"),
        "still_open": still_open,
    }
    lines = [
        f"Biên bản chuyển ca: từ {shown_at(start)} đến {shown_at(end)}",
        f"Người bàn giao: {by}" + (f"; người nhận: {to}" if to else ""),
        f"Sự cố phát sinh trong ca: {len(opened)}",
        f"Đã xác nhận: {len(sections['acknowledged'])}; đã gửi lại: {len(sections['redriven'])}; "
        f"đã giao việc: {len(sections['assigned'])}; ghi chú: {len(sections['notes'])}",
        f"Còn mở, bàn giao cho ca sau: {len(still_open)}"
        + (f", trong đó chưa giao cho ai: {sum(1 for r in still_open if not r['assignee'])}" if still_open else ""),
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": by,
        "to_officer": to,
        "summary_vi": lines,
        "counts": {k: len(v) for k, v in sections.items()},
        **sections,
    }
