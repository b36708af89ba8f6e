"""Đến hạn hôm nay / ngày mai: the dossiers whose legal deadline (the appointment date the citizen
was given) falls on the page's day or on the next working day and that are not finished, most at
risk first (the earliest deadline, then the fewest steps done). The day is the page's moment: the
sim clock in a simulation, standing still once a run settled."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TypedDict

import asyncpg

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from dashboard.wording import FLOW_VI, at
from streams import console
from streams.rows import DueRow


def window(calendar: WorkingCalendar, now: datetime) -> tuple[datetime, datetime, datetime]:
    """[start of today, start of the day after the next working day), and where tomorrow starts."""
    today = now.astimezone(VN_TZ).date()
    start = datetime.combine(today, time.min, VN_TZ)
    tomorrow = calendar.next_working_day(today)
    return (
        start,
        datetime.combine(tomorrow + timedelta(days=1), time.min, VN_TZ),
        datetime.combine(tomorrow, time.min, VN_TZ),
    )


class Due(TypedDict):
    dossier_id: str
    code: str
    flow_vi: str
    commune: str | None
    due_at: str
    due_vi: str
    when: str
    steps_done: int
    late: bool


class DueSoon(TypedDict):
    """Đến hạn hôm nay / ngày mai: each list most at risk first."""

    today: list[Due]
    tomorrow: list[Due]
    tomorrow_day: str


async def due_soon(pool: asyncpg.Pool | None, calendar: WorkingCalendar, now: datetime) -> DueSoon:
    start, end, tomorrow = window(calendar, now)
    rows: list[DueRow] = []
    if pool is not None:
        async with pool.acquire() as conn:
            rows = await console.due_between(conn, start, end)
    out: list[Due] = []
    for r in rows:
        due: datetime = r["due_at"]
        out.append(
            {
                "dossier_id": r["dossier_id"],
                "code": r["code"] or str(r["dossier_id"])[:8].upper(),
                "flow_vi": FLOW_VI.get(r["chain"] or "", r["chain"] or "—"),
                "commune": r["commune"],
                "due_at": due.isoformat(),
                "due_vi": at(due),
                "when": "today" if due < tomorrow else "tomorrow",
                "steps_done": r["steps_done"],
                "late": due < now,
            }
        )
    return {
        "today": [d for d in out if d["when"] == "today"],
        "tomorrow": [d for d in out if d["when"] == "tomorrow"],
        "tomorrow_day": tomorrow.date().isoformat(),
    }
