"""The officers' queues of one agency (runtime/staffing.py says who they are): the desk's
register of who took up which dossier when, which is also each officer's promised work. A port with its
PostgreSQL adapter (the agency's own tables, written in the receiving transaction, so a
restarted agency's officers still have their day's work) and a memory one for unit tests.

`assign` takes up a batch's dossiers, oldest receipt first; `by_hour` turns the register into
what a desk looked like hour by hour (arrivals, taken up, still waiting, the wait), which the
agency serves at `GET /queue` and `lienthong run` prints.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect_left, insort
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from runtime.conn import Conn
from runtime.staffing import Desk, Taken, take_up

Key = tuple[str, str]
"""(desk, unit)."""


@dataclass(frozen=True)
class Entry:
    """One line of a desk's register."""

    event_id: str
    dossier_id: str
    desk: str
    unit: str
    officer: int
    received_at: datetime
    taken_at: datetime
    released_at: datetime


Officer = tuple[str, str, int]
"""(desk, unit, officer number)."""


class OfficerStore(Protocol):
    async def busy(self, conn: Conn, keys: set[Key], since: datetime) -> dict[Officer, list[tuple[datetime, datetime]]]:
        """What each officer of these desks' units has promised that ends after `since`: (taken
        up, free again), in time order; held for this transaction alone (another replica of the
        agency waits for it to end). An officer missing has nothing promised."""
        ...

    async def take(self, conn: Conn, entries: list[Entry]) -> None: ...

    async def waiting(self, conn: Conn, keys: set[Key], received_after: datetime, now: datetime) -> list[Entry]:
        """The lines of these desks' units received after `received_after` whose officer has not
        taken them up by `now`, in the order they were taken up."""
        ...

    async def move(self, conn: Conn, entries: list[Entry]) -> None:
        """Lines taken up again: their officer and times, by event id."""
        ...

    async def register(self, conn: Conn) -> list[Entry]:
        """Every line of every desk, in the order they were taken up."""
        ...


@dataclass(frozen=True)
class Pending:
    """A dossier received at a desk, not yet taken up."""

    event_id: str
    dossier_id: str
    desk: Desk
    unit: str
    received_at: datetime
    rng: random.Random


Requeue = Callable[[list[Entry]], Awaitable[list[Pending]]]
"""Of the lines waiting for an officer that a batch's earlier receipts go ahead of, those whose
step may still move (its work not started), as dossiers pending again."""


async def assign(
    store: OfficerStore,
    conn: Conn,
    pending: Sequence[Pending],
    calendar: WorkingCalendar,
    requeue: Requeue | None = None,
    now: datetime | None = None,
) -> dict[str, Taken]:
    """Take up `pending` at their desks, oldest receipt first, each by the officer of its unit free
    soonest: by event id, when and by whom.

    A desk reads its dossiers in no order of time: the partitions of its topic are read apart, and
    at a run's speed one can be hours of sim time behind another. A dossier read late goes ahead of
    those received after it that no officer has taken up by `now` (`requeue` says which may still
    move): they are taken up again behind it, each no earlier than before, and returned too. So a
    desk's queue follows the receipts' times, not the order the partitions happened to be read in."""
    if not pending:
        return {}
    since = min(p.received_at for p in pending)
    keys = {(p.desk.name, p.unit) for p in pending}
    busy = await store.busy(conn, keys, since)
    fresh = {p.event_id for p in pending}
    behind: dict[str, Entry] = {}
    movable: list[Pending] = []
    if requeue is not None and now is not None:
        later = [e for e in await store.waiting(conn, keys, since, now) if e.event_id not in fresh]
        behind = {e.event_id: e for e in later}
        movable = []
        for p in await requeue(later) if later else []:
            e = behind[p.event_id]
            promised = busy.get((e.desk, e.unit, e.officer), [])
            if (e.taken_at, e.released_at) in promised:
                promised.remove((e.taken_at, e.released_at))
                movable.append(p)
    out: dict[str, Taken] = {}
    entries: list[Entry] = []
    moved: list[Entry] = []
    for p in sorted([*pending, *movable], key=lambda p: (p.received_at, p.dossier_id)):
        n = p.desk.officers_at(p.unit)
        officers = [busy.setdefault((p.desk.name, p.unit, i), []) for i in range(n)]
        lo, mode, hi = p.desk.service_minutes
        ready = calendar.begin_work(p.received_at)
        was = behind.get(p.event_id)
        if was is not None:
            # Never earlier than promised: its ground truth (a late plan) was recorded then.
            ready = max(ready, was.taken_at)
        taken = take_up(officers, ready, p.rng.triangular(lo, hi, mode) / 60, calendar, p.desk.hours)
        insort(officers[taken.officer], (taken.at, taken.released_at))
        out[p.event_id] = taken
        line = Entry(
            p.event_id, p.dossier_id, p.desk.name, p.unit, taken.officer, p.received_at, taken.at, taken.released_at
        )
        (moved if was is not None else entries).append(line)
    await store.take(conn, entries)
    await store.move(conn, [e for e in moved if e != behind[e.event_id]])
    return out


@dataclass
class PgOfficerStore:
    schema: str

    async def busy(self, conn: Conn, keys: set[Key], since: datetime) -> dict[Officer, list[tuple[datetime, datetime]]]:
        # One lock per agency, not per row: an officer with nothing yet has no row to lock.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{self.schema}.officers")
        rows = await self._at_desks(
            conn,
            "q.desk, q.unit, q.officer, q.taken_at, q.released_at",
            keys,
            "q.released_at > $3 ORDER BY q.taken_at",
            since,
        )
        out: dict[Officer, list[tuple[datetime, datetime]]] = {}
        for r in rows:
            out.setdefault((r["desk"], r["unit"], r["officer"]), []).append((r["taken_at"], r["released_at"]))
        return out

    async def take(self, conn: Conn, entries: list[Entry]) -> None:
        if not entries:
            return
        await conn.executemany(
            f"INSERT INTO {self.schema}.queue_log (event_id, dossier_id, desk, unit, officer, received_at, "
            "taken_at, released_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING",
            [
                (
                    uuid.UUID(e.event_id),
                    e.dossier_id,
                    e.desk,
                    e.unit,
                    e.officer,
                    e.received_at,
                    e.taken_at,
                    e.released_at,
                )
                for e in entries
            ],
        )

    async def waiting(self, conn: Conn, keys: set[Key], received_after: datetime, now: datetime) -> list[Entry]:
        where = "q.received_at > $3 AND q.taken_at > $4 ORDER BY q.taken_at, q.event_id"
        return [_entry(r) for r in await self._at_desks(conn, LINE, keys, where, received_after, now)]

    async def _at_desks(self, conn: Conn, columns: str, keys: set[Key], where: str, *args: Any) -> list[Any]:
        """The register's lines of these desks' units that `where` keeps ($1 and $2 are the keys)."""
        rows: list[Any] = await conn.fetch(
            f"SELECT {columns} FROM {self.schema}.queue_log q "
            "JOIN unnest($1::text[], $2::text[]) AS k(desk, unit) ON q.desk = k.desk AND q.unit = k.unit "
            f"WHERE {where}",
            [k[0] for k in keys],
            [k[1] for k in keys],
            *args,
        )
        return rows

    async def move(self, conn: Conn, entries: list[Entry]) -> None:
        if entries:
            await conn.executemany(
                f"UPDATE {self.schema}.queue_log SET officer = $2, taken_at = $3, released_at = $4 WHERE event_id = $1",
                [(uuid.UUID(e.event_id), e.officer, e.taken_at, e.released_at) for e in entries],
            )

    async def register(self, conn: Conn) -> list[Entry]:
        rows = await conn.fetch(f"SELECT {LINE} FROM {self.schema}.queue_log q ORDER BY taken_at, event_id")
        return [_entry(r) for r in rows]


LINE = "q.event_id, q.dossier_id, q.desk, q.unit, q.officer, q.received_at, q.taken_at, q.released_at"


def _entry(r: Any) -> Entry:
    return Entry(**{**dict(r), "event_id": str(r["event_id"])})


@dataclass
class MemoryOfficerStore:
    """The same contract in memory, for unit tests of the agency's loop."""

    lines: list[Entry] = field(default_factory=list)

    async def busy(self, conn: Conn, keys: set[Key], since: datetime) -> dict[Officer, list[tuple[datetime, datetime]]]:
        out: dict[Officer, list[tuple[datetime, datetime]]] = {}
        for e in sorted(self.lines, key=lambda e: e.taken_at):
            if (e.desk, e.unit) in keys and e.released_at > since:
                out.setdefault((e.desk, e.unit, e.officer), []).append((e.taken_at, e.released_at))
        return out

    async def take(self, conn: Conn, entries: list[Entry]) -> None:
        known = {e.event_id for e in self.lines}
        self.lines += [e for e in entries if e.event_id not in known]

    async def waiting(self, conn: Conn, keys: set[Key], received_after: datetime, now: datetime) -> list[Entry]:
        return [
            e
            for e in await self.register(conn)
            if (e.desk, e.unit) in keys and e.received_at > received_after and e.taken_at > now
        ]

    async def move(self, conn: Conn, entries: list[Entry]) -> None:
        again = {e.event_id: e for e in entries}
        self.lines = [again.get(e.event_id, e) for e in self.lines]

    async def register(self, conn: Conn) -> list[Entry]:
        return sorted(self.lines, key=lambda e: (e.taken_at, e.event_id))


def _hour(at: datetime) -> datetime:
    return at.astimezone(VN_TZ).replace(minute=0, second=0, microsecond=0)


def by_hour(entries: Iterable[Entry], working: Callable[[datetime], bool]) -> dict[str, list[dict[str, Any]]]:
    """Per desk, hour by hour (local time) from its first receipt to its last take-up: dossiers
    received, taken up, still waiting at the hour's end, and the wait (clock minutes from receipt
    to take-up) of those taken up in the hour, mean and longest. Hours outside `working` (nights,
    weekends) are left out unless a dossier arrived or was taken up in them."""
    desks: dict[str, list[Entry]] = {}
    for e in entries:
        desks.setdefault(e.desk, []).append(e)
    out: dict[str, list[dict[str, Any]]] = {}
    for desk, lines in sorted(desks.items()):
        first = _hour(min(e.received_at for e in lines))
        last = _hour(max(e.taken_at for e in lines))
        received_at = sorted(e.received_at for e in lines)
        taken_at = sorted(e.taken_at for e in lines)
        arrived: dict[datetime, int] = {}
        taken: dict[datetime, list[float]] = {}
        for e in lines:
            arrived[_hour(e.received_at)] = arrived.get(_hour(e.received_at), 0) + 1
            taken.setdefault(_hour(e.taken_at), []).append((e.taken_at - e.received_at).total_seconds() / 60)
        rows = []
        hour = first
        while hour <= last:
            end = hour + timedelta(hours=1)
            if working(hour) or hour in arrived or hour in taken:
                waits = taken.get(hour, [])
                rows.append(
                    {
                        "hour": hour.isoformat(),
                        "received": arrived.get(hour, 0),
                        "taken_up": len(waits),
                        # Received before the hour's end and not taken up by then (taken ≥ received).
                        "waiting": bisect_left(received_at, end) - bisect_left(taken_at, end),
                        "wait_mean_min": round(sum(waits) / len(waits), 1) if waits else None,
                        "wait_max_min": round(max(waits), 1) if waits else None,
                    }
                )
            hour = end
        out[desk] = rows
    return out


def outline(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A desk's day in four figures, from its `by_hour` rows: the most dossiers waiting at an
    hour's end and that hour, the first hour after it that ended with none waiting (None: the
    queue had not drained when the register ends), and the longest wait."""
    if not rows:
        return {"peak_waiting": 0, "peak_at": None, "drained_at": None, "wait_max_min": None}
    top = max(range(len(rows)), key=lambda i: (rows[i]["waiting"], -i))
    drained = next((r["hour"] for r in rows[top:] if r["waiting"] == 0), None)
    waits = [r["wait_max_min"] for r in rows if r["wait_max_min"] is not None]
    return {
        "peak_waiting": rows[top]["waiting"],
        "peak_at": rows[top]["hour"],
        "drained_at": drained,
        "wait_max_min": max(waits, default=None),
    }
