"""Chờ cán bộ tiếp nhận: where dossiers wait to be taken up right now, flow by flow and step by
step, with how long the oldest has waited. A desk with few officers (runtime/staffing.py) backs
up here on a peak day and drains after; a step received after 15:00 waits here overnight."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict

import asyncpg

from contracts.chains import Chain
from dashboard.wording import FLOW_VI, agency_vi, at
from streams import console


class Desk(TypedDict):
    flow_vi: str
    agency_vi: str
    step_vi: str
    waiting: int
    oldest_at: str
    oldest_vi: str
    waited_vi: str


def waited_vi(since: datetime, now: datetime) -> str:
    """How long the oldest has waited, in clock time, as an officer says it."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} phút"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} giờ {rest} phút" if rest else f"{hours} giờ"
    days, hours = divmod(hours, 24)
    return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"


def step_vi(chains: Mapping[str, Chain], chain: str | None, step: str) -> str:
    try:
        return chains[chain or ""].step(step).label_vi
    except KeyError:
        return step


async def waiting(pool: asyncpg.Pool | None, chains: Mapping[str, Chain], now: datetime) -> list[Desk]:
    if pool is None:
        return []
    async with pool.acquire() as conn:
        rows = await console.desks(conn, now)
    return [
        {
            "flow_vi": FLOW_VI.get(r["chain"] or "", r["chain"] or "—"),
            "agency_vi": agency_vi(r["agency"]),
            "step_vi": step_vi(chains, r["chain"], r["step"]),
            "waiting": r["waiting"],
            "oldest_at": r["oldest"].isoformat(),
            "oldest_vi": at(r["oldest"]),
            "waited_vi": waited_vi(r["oldest"], now),
        }
        for r in rows
    ]
