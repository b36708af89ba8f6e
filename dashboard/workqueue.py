"""The console's work queue ("Việc cần làm"): one row per incident, most overdue first.

Pure. The incidents come from the monitor (streams/console.py) with their dossier's context; this
module words them (dashboard/wording.py), measures lateness in working days at the clock's
moment (the run's end once it settled), filters, counts every filter's values, sorts by any
column and cuts a page. The agency filter matches where an incident waits, so a dossier-level
incident (its appointment date passed) is found under the agency that holds the dossier, and a
link under both of its ends. The commune filter folds diacritics and case ("xa viet tien" finds
"Xã Việt Tiến").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from contracts.calendar import WorkingCalendar
from dashboard.wording import FLOW_VI, KIND_VI, LINK, SEVERITY_RANK, SEVERITY_VI, Lateness, Words, lateness
from streams.rows import IncidentRow

SORTS = ("overdue", "severity", "code", "kind", "flow", "commune", "where", "opened")
STATES = ("open", "resolved", "all")
PAGE_SIZES = (10, 25, 50, 100)
FACETS = ("kind", "flow", "agency", "commune", "severity")


def fold(text: str) -> str:
    """Lower case without diacritics (đ too): how an officer types a commune's name."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold().strip()


@dataclass(frozen=True)
class Query:
    state: str = "open"
    kind: str | None = None
    flow: str | None = None
    agency: str | None = None
    commune: str | None = None
    severity: str | None = None
    sort: str = "overdue"
    descending: bool = True
    page: int = 1
    size: int = 25

    @classmethod
    def parse(cls, q: dict[str, str]) -> Query:
        """From the request's query string; a bad value raises ValueError with a Vietnamese reason."""
        state = q.get("state") or "open"
        if state not in STATES:
            raise ValueError(f"state phải là một trong {', '.join(STATES)}")
        sort = q.get("sort") or "overdue"
        if sort not in SORTS:
            raise ValueError(f"sort phải là một trong {', '.join(SORTS)}")
        kind = q.get("kind") or None
        if kind and kind not in KIND_VI:
            raise ValueError(f"kind phải là một trong {', '.join(KIND_VI)}")
        try:
            page = int(q.get("page") or 1)
            size = int(q.get("size") or 25)
        except ValueError:
            raise ValueError("page và size phải là số nguyên") from None
        if page < 1 or size not in PAGE_SIZES:
            raise ValueError(f"page phải từ 1; size là một trong {', '.join(map(str, PAGE_SIZES))}")
        return cls(
            state=state,
            kind=kind,
            flow=q.get("flow") or None,
            agency=q.get("agency") or None,
            commune=q.get("commune") or None,
            severity=q.get("severity") or None,
            sort=sort,
            descending=(q.get("dir") or "desc") != "asc",
            page=page,
            size=size,
        )


class QueueRow(TypedDict):
    """An incident as the queue shows it (and the export, the handover and the alert gauges read)."""

    id: int
    dossier_id: str | None
    code: str | None
    kind: str
    kind_vi: str
    flow: str | None
    flow_vi: str
    commune: str | None
    agency: str | None
    agencies: list[str]
    where_vi: str
    overdue_days: int | None
    overdue_s: float | None
    overdue_vi: str
    severity: str
    severity_vi: str
    verdict_vi: str
    action_vi: str
    state: str
    resolved_vi: str
    findings: int
    opened_at: str
    due_at: str | None
    acknowledged_by: str | None
    assignee: NotRequired[str | None]


class Page(TypedDict):
    rows: list[QueueRow]
    total: int
    page: int
    size: int
    pages: int
    counts: dict[str, dict[str, int]]


def row(words: Words, calendar: WorkingCalendar, r: IncidentRow, now: datetime) -> QueueRow:
    """An incident as the queue shows it."""
    due = datetime.fromisoformat(d) if (d := r["due_at"]) else None
    until = datetime.fromisoformat(e) if (e := r["resolved_at"]) else now
    late: Lateness | None = lateness(calendar, due, until) if due else None
    agency, where = words.where(r)
    subject = r["subject"]
    agencies = {agency} if agency else set()
    if m := LINK.match(subject):
        agencies |= {m["a"], m["b"]}
    state = "resolved" if r.get("resolved_at") else ("acknowledged" if r.get("acknowledged_at") else "open")
    return {
        "id": r["id"],
        "dossier_id": r["dossier_id"],
        "code": r["code"] or (r["dossier_id"][:8].upper() if r["dossier_id"] else None),
        "kind": r["kind"],
        "kind_vi": KIND_VI.get(r["kind"], r["kind"]),
        "flow": r["flow"],
        "flow_vi": FLOW_VI.get(r["flow"] or "", ""),
        "commune": r["commune"],
        "agency": agency,
        "agencies": sorted(agencies),
        "where_vi": where,
        "overdue_days": late.working_days if late else None,
        "overdue_s": late.seconds if late else None,
        "overdue_vi": late.text if late else "—",
        "severity": r["severity"],
        "severity_vi": SEVERITY_VI.get(r["severity"], r["severity"]),
        "verdict_vi": words.verdict(r, late),
        "action_vi": words.action(r),
        "state": state,
        "resolved_vi": words.resolved(r["resolved_how"]),
        "findings": r["findings"],
        "opened_at": r["opened_at"],
        "due_at": r["due_at"],
        "acknowledged_by": r["acknowledged_by"],
    }


FACET_VALUES: dict[str, Callable[[QueueRow], list[str | None]]] = {
    "kind": lambda r: [r["kind"]],
    "flow": lambda r: [r["flow"]],
    "agency": lambda r: list(r["agencies"]),
    "commune": lambda r: [r["commune"]],
    "severity": lambda r: [r["severity"]],
}
"""What each filter of the queue counts a row under."""


def _matches(r: QueueRow, q: Query, skip: str | None = None) -> bool:
    if q.state != "all" and (r["state"] == "resolved") != (q.state == "resolved"):
        return False
    checks = {
        "kind": q.kind is None or r["kind"] == q.kind,
        "flow": q.flow is None or r["flow"] == q.flow,
        "agency": q.agency is None or q.agency in r["agencies"],
        "commune": q.commune is None or fold(q.commune) == fold(r["commune"] or ""),
        "severity": q.severity is None or r["severity"] == q.severity,
    }
    return all(ok for name, ok in checks.items() if name != skip)


def _key(sort: str) -> Callable[[QueueRow], Any]:
    def overdue(r: QueueRow) -> tuple[Any, ...]:
        # Those with a deadline by how late; then the rest by severity and age.
        late = r["overdue_s"] if r["overdue_s"] is not None else float("-inf")
        return (r["overdue_days"] or 0, late, SEVERITY_RANK.get(r["severity"], 0), -_ts(r["opened_at"]))

    keys: dict[str, Callable[[QueueRow], Any]] = {
        "overdue": overdue,
        "severity": lambda r: (SEVERITY_RANK.get(r["severity"], 0), *overdue(r)),
        "code": lambda r: r["code"] or "",
        "kind": lambda r: r["kind_vi"],
        "flow": lambda r: r["flow_vi"],
        "commune": lambda r: fold(r["commune"] or ""),
        "where": lambda r: fold(r["where_vi"]),
        "opened": lambda r: _ts(r["opened_at"]),
    }
    return keys[sort]


def _ts(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


def select(rows: list[QueueRow], q: Query) -> Page:
    """The page asked for, the total it was cut from, and per filter the count of each value
    (counted with every other filter applied, so a number says what choosing it would show)."""
    chosen = [r for r in rows if _matches(r, q)]
    chosen.sort(key=_key(q.sort), reverse=q.descending)
    counts: dict[str, dict[str, int]] = {}
    for facet in FACETS:
        tally: dict[str, int] = {}
        for r in rows:
            if not _matches(r, q, skip=facet):
                continue
            for v in FACET_VALUES[facet](r):
                if v:
                    tally[v] = tally.get(v, 0) + 1
        counts[facet] = dict(sorted(tally.items()))
    states = {s: sum(1 for r in rows if _matches(r, Query(**{**q.__dict__, "state": s}))) for s in STATES}
    start = (q.page - 1) * q.size
    return {
        "rows": chosen[start : start + q.size],
        "total": len(chosen),
        "page": q.page,
        "size": q.size,
        "pages": max(1, -(-len(chosen) // q.size)),
        "counts": {**counts, "state": states},
    }


def headline(rows: list[QueueRow]) -> str | None:
    """A dossier's verdict line in its panel: its most urgent open incident, in the queue's own
    order (so the panel says what the queue's row said), else its newest; None without any."""
    if not rows:
        return None
    still_open = [r for r in rows if r["state"] != "resolved"]
    if still_open:
        verdict: str = max(still_open, key=_key("overdue"))["verdict_vi"]
        return verdict
    newest: str = max(rows, key=lambda r: _ts(r["opened_at"]))["verdict_vi"]
    return newest
