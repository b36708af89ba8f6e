"""Views by district and commune: for each district, then each of its communes, the open
incidents by kind and the unfinished dossiers past or within their legal deadline (the
appointment date the citizen was given); then one commune's overdue dossiers against their
deadlines, most overdue first. Pure shaping of what streams/console.py reads; a district is "—"
for dossiers filed from 1 July 2025 (no districts)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

import asyncpg

from contracts.calendar import WorkingCalendar
from dashboard.wording import FLOW_VI, at, lateness
from streams import console
from streams.rows import AreaRow, OverdueRow

NO_DISTRICT = "—"


class CommuneView(TypedDict):
    commune: str | None
    overdue: int
    in_progress: int
    open_by_kind: dict[str, int]
    open: int


class DistrictView(TypedDict):
    district: str
    overdue: int
    in_progress: int
    open_by_kind: dict[str, int]
    communes: list[CommuneView]
    open: int


class OverdueView(TypedDict):
    dossier_id: str
    code: str
    flow_vi: str
    submitted_vi: str
    due_vi: str
    overdue_days: int
    overdue_vi: str


class Areas(TypedDict):
    districts: list[DistrictView]
    commune: str | None
    overdue: list[OverdueView]


def overview(rows: list[AreaRow]) -> list[DistrictView]:
    """Districts (with their totals) each holding their communes, in name order."""
    districts: dict[str, DistrictView] = {}
    for r in rows:
        name = r["district"] or NO_DISTRICT
        d = districts.setdefault(
            name, {"district": name, "overdue": 0, "in_progress": 0, "open_by_kind": {}, "communes": [], "open": 0}
        )
        by_kind = {k: int(v) for k, v in (r["open_by_kind"] or {}).items()}
        d["communes"].append(
            {
                "commune": r["commune"],
                "overdue": int(r["overdue"]),
                "in_progress": int(r["in_progress"]),
                "open_by_kind": by_kind,
                "open": sum(by_kind.values()),
            }
        )
        d["overdue"] += int(r["overdue"])
        d["in_progress"] += int(r["in_progress"])
        for k, v in by_kind.items():
            d["open_by_kind"][k] = d["open_by_kind"].get(k, 0) + v
    for d in districts.values():
        d["open"] = sum(d["open_by_kind"].values())
    return [districts[k] for k in sorted(districts, key=lambda n: (n == NO_DISTRICT, n))]


def overdue_list(rows: list[OverdueRow], calendar: WorkingCalendar, now: datetime) -> list[OverdueView]:
    """A commune's overdue dossiers, each with its deadline and lateness in working days."""
    out: list[OverdueView] = []
    for r in rows:
        late = lateness(calendar, r["due_at"], now)
        out.append(
            {
                "dossier_id": r["dossier_id"],
                "code": r["code"] or str(r["dossier_id"])[:8].upper(),
                "flow_vi": FLOW_VI.get(r["chain"] or "", r["chain"] or "—"),
                "submitted_vi": at(r["submitted_at"]),
                "due_vi": at(r["due_at"]),
                "overdue_days": late.working_days,
                "overdue_vi": late.text,
            }
        )
    out.sort(key=lambda d: -d["overdue_days"])
    return out


async def answer(pool: asyncpg.Pool | None, calendar: WorkingCalendar, now: datetime, commune: str) -> Areas:
    """The API's answer: every district with its communes, and `commune`'s overdue dossiers."""
    if pool is None:
        return {"districts": [], "commune": commune or None, "overdue": []}
    async with pool.acquire() as conn:
        listed = overview(await console.areas(conn, now))
        overdue = await console.overdue_in(conn, commune, now) if commune else []
    return {"districts": listed, "commune": commune or None, "overdue": overdue_list(overdue, calendar, now)}
