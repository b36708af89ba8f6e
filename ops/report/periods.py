"""Reporting periods: calendar periods, the official cut-off convention, explicit ranges; all in
Vietnam time, the end exclusive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from contracts.clock import VN_TZ


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime
    """Exclusive; both in Vietnam time."""
    name_vi: str = ""
    """How the period is called in the title (its label if empty; an explicit range has none)."""
    explicit: bool = False

    @property
    def title_vi(self) -> str:
        last = (self.end - timedelta(days=1)).date()
        span = f"từ {self.start.date():%d/%m/%Y} đến {last:%d/%m/%Y}"
        if self.explicit:
            return f"Kỳ báo cáo {span}"
        return f"Kỳ báo cáo {self.name_vi or self.label} ({span})"


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])|H([12])|W(\d{2})))?$")


def parse_period(text: str, cutoff: int | None = None) -> Period:
    """`2024-01` (month), `2024-Q1`, `2024-H1`, `2024` (year), `2024-W05` (ISO week).

    With `cutoff` D, a month, quarter, half or year closes on day D of its last month and opens the
    day after day D of the month before its first: the official periodic reports' convention
    (Decree 09/2019/NĐ-CP counts a monthly report from the 15th of the previous month to the 14th,
    `cutoff=14`; other reports close on other days). `2024-01` with cutoff 14 is 15/12/2023 to
    14/01/2024."""
    m = _PERIOD.match(text.strip().upper())
    if not m:
        raise ValueError(f"period {text!r}: expected YYYY, YYYY-MM, YYYY-Qn, YYYY-Hn or YYYY-Wnn")
    year = int(m[1])
    if m[2]:
        month = int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r}: month {month} does not exist")
        start, end = date(year, month, 1), _months_later(date(year, month, 1), 1)
    elif m[3]:
        start = date(year, 3 * int(m[3]) - 2, 1)
        end = _months_later(start, 3)
    elif m[4]:
        start = date(year, 6 * int(m[4]) - 5, 1)
        end = _months_later(start, 6)
    elif m[5]:
        if cutoff is not None:
            raise ValueError(f"period {text!r}: a cut-off day applies to months, quarters, halves and years, not weeks")
        try:
            start = date.fromisocalendar(year, int(m[5]), 1)
        except ValueError as exc:
            raise ValueError(f"period {text!r}: {exc}") from None
        end = start + timedelta(days=7)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    label = text.strip().upper()
    name = _name_vi(m)
    if cutoff is None:
        return Period(label, _at(start), _at(end), name)
    if not 1 <= cutoff <= 28:
        raise ValueError(f"cut-off day {cutoff}: expected 1–28 (a day every month has)")
    # The period closes on day `cutoff` of its last month: [cutoff+1 of the month before, cutoff+1 of the last].
    first = _months_later(start, -1).replace(day=cutoff + 1)
    after = _months_later(end, -1).replace(day=cutoff + 1)
    return Period(f"{label}-cutoff{cutoff}", _at(first), _at(after), f"{name}, chốt số liệu ngày {cutoff}")


QUARTERS_VI = ("I", "II", "III", "IV")


def _name_vi(m: re.Match[str]) -> str:
    """As a Vietnamese report names its period: "tháng 01/2024", "quý I/2024", "6 tháng đầu năm
    2024", "tuần 05/2024", "năm 2024"; never the ISO label."""
    year = m[1]
    if m[2]:
        return f"tháng {m[2]}/{year}"
    if m[3]:
        return f"quý {QUARTERS_VI[int(m[3]) - 1]}/{year}"
    if m[4]:
        return f"6 tháng {'đầu' if m[4] == '1' else 'cuối'} năm {year}"
    if m[5]:
        return f"tuần {m[5]}/{year}"
    return f"năm {year}"


def parse_range(first: str, last: str) -> Period:
    """Any range of days, both ends included (`--from 2023-12-14 --to 2024-01-13`)."""
    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise ValueError(f"--from/--to: expected YYYY-MM-DD ({exc})") from None
    if b < a:
        raise ValueError(f"--to {last} is before --from {first}")
    return Period(f"{a.isoformat()}_{b.isoformat()}", _at(a), _at(b + timedelta(days=1)), explicit=True)


def _months_later(d: date, months: int) -> date:
    """The first day of the month `months` after `d`'s (before it, if negative)."""
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=VN_TZ)
