"""Working-day arithmetic for Vietnamese administrative deadlines.

Deadlines count working days: Monday–Friday minus public holidays, plus the Saturdays the
government swaps in (the `holidays` package's VN calendar knows both). Decree 63/2024 rule: a
dossier received after 15:00 counts from the next working day. Decision recorded here: an SLA
of N working days ends at office close (17:00) of the N-th working day, the start day counting
as the first; a fractional N rounds up (half a day is "the same working day").

Work itself happens in office hours, 07:30–17:00 on working days (the lunch break is not
modelled), and starts on the day the deadline counts from: a dossier received after 15:00 is
taken up the next working day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import holidays

from contracts.clock import VN_TZ

OFFICE_OPEN = time(7, 30)
OFFICE_CLOSE = time(17, 0)
CUTOFF = time(15, 0)


@dataclass
class WorkingCalendar:
    """Vietnamese working days; holidays are loaded lazily per year and cached."""

    _cal: holidays.HolidayBase = field(default_factory=lambda: holidays.country_holidays("VN"))
    _working: dict[date, bool] = field(default_factory=dict, repr=False)

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = bool(self._cal.is_working_day(day))
        return known

    def is_holiday(self, day: date) -> bool:
        return day in self._cal

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        d = day + timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def counting_start(self, received: datetime) -> date:
        """The first working day a deadline counts from (after-15:00 rule)."""
        local = received.astimezone(VN_TZ)
        day = local.date()
        if self.is_working_day(day) and local.time() < CUTOFF:
            return day
        return self.next_working_day(day)

    def deadline(self, received: datetime, working_days: float) -> datetime:
        """Office close of the N-th working day counted from `received`."""
        if working_days <= 0:
            raise ValueError(f"an SLA must be positive, got {working_days}")
        day = self.counting_start(received)
        for _ in range(math.ceil(working_days) - 1):
            day = self.next_working_day(day)
        return datetime.combine(day, OFFICE_CLOSE, VN_TZ)

    def begin_work(self, received: datetime) -> datetime:
        """When an office takes up a dossier received at `received`."""
        local = received.astimezone(VN_TZ)
        day = self.counting_start(local)
        opening = datetime.combine(day, OFFICE_OPEN, VN_TZ)
        return max(local, opening) if day == local.date() else opening

    def add_working_hours(
        self, start: datetime, hours: float, opens: time = OFFICE_OPEN, closes: time = OFFICE_CLOSE
    ) -> datetime:
        """The moment `hours` of office time after `start` (which may fall outside office hours);
        `opens`–`closes` narrow the day to an officer's shift."""
        if hours < 0:
            raise ValueError(f"working hours must not be negative, got {hours}")
        t = start.astimezone(VN_TZ)
        if not self.in_office_hours(t, opens, closes):
            day = t.date() if self.is_working_day(t.date()) and t.time() < opens else self.next_working_day(t.date())
            t = datetime.combine(day, opens, VN_TZ)
        remaining = timedelta(hours=hours)
        while True:
            available = datetime.combine(t.date(), closes, VN_TZ) - t
            if remaining <= available:
                return t + remaining
            remaining -= available
            t = datetime.combine(self.next_working_day(t.date()), opens, VN_TZ)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Office hours (07:30–17:00 on working days) inside [start, end]: how long a step took
        as the office counts it, nights, weekends and Tết left out."""
        a, b = start.astimezone(VN_TZ), end.astimezone(VN_TZ)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                lo = max(a, datetime.combine(day, OFFICE_OPEN, VN_TZ))
                hi = min(b, datetime.combine(day, OFFICE_CLOSE, VN_TZ))
                total += max(0.0, (hi - lo).total_seconds())
            day += timedelta(days=1)
        return total / 3600

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in [start, end)."""
        n, d = 0, start
        while d < end:
            n += self.is_working_day(d)
            d += timedelta(days=1)
        return n

    def working_days_overdue(self, due: datetime, until: datetime) -> int:
        """Working days `until` is past `due`: a deadline ends at office close, so a dossier due
        on Monday and still waiting on Thursday morning is 3 working days overdue (Tuesday,
        Wednesday, Thursday), and 0 over a weekend and Tết."""
        if until <= due:
            return 0
        first = due.astimezone(VN_TZ).date() + timedelta(days=1)
        last = until.astimezone(VN_TZ).date() + timedelta(days=1)
        return self.working_days_between(first, last)

    def in_office_hours(self, moment: datetime, opens: time = OFFICE_OPEN, closes: time = OFFICE_CLOSE) -> bool:
        local = moment.astimezone(VN_TZ)
        return self.is_working_day(local.date()) and opens <= local.time() < closes
