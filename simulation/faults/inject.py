"""Which faults hit what, and how: pure decisions from the scenario, the run's period and a key.

Every decision is a function of (fault, key), so each process decides alone and the same run
replays the same faults: a rate fault hits the event ids whose seeded draw falls under its rate;
a window fault hits everything inside its window of sim time. The runtime (runtime)
applies the decisions; the ground truth (simulation/faults/truth.py) records each hit.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from contracts.calendar import WorkingCalendar
from contracts.clock import VN_TZ
from contracts.envelope import Event
from simulation.faults.catalogue import Fault

TRANSFER_RETRY = timedelta(minutes=30)
"""How often an official retries a failed transfer (docs/domain.md: "officials retry many times")."""
REJECT_RETRY = timedelta(minutes=20)
"""How often a sender retries a link that refuses transfers (disk full)."""
DUPLICATE_AFTER = timedelta(minutes=10)
"""When a duplicated handoff is delivered the second time."""
REORDER_REAL_S = 1.0
"""Real seconds a reordered handoff.sent is held back, so the receiver's acknowledgement overtakes
it; well inside the lag the monitor allows for (streams/app.py), so it must raise nothing."""
OFFICE_HOURS_PER_DAY = 9.5


CALENDAR = WorkingCalendar()


@dataclass(frozen=True)
class Period:
    """The run's period in sim time: window faults are placed in it (simulation/faults/catalogue.py
    says how a window is written)."""

    start: datetime
    days: float

    def window(self, f: Fault) -> tuple[datetime, datetime]:
        w = f.window
        assert w is not None
        if w.start is not None:
            opens = datetime.combine(w.start, time(0, 0), VN_TZ)
        else:
            opens = self.start + timedelta(days=self.days * (w.at or 0.0))
        if w.to is not None:
            return opens, datetime.combine(w.to + timedelta(days=1), time(0, 0), VN_TZ)
        if w.working_days is not None:
            # The opening day counts if it is a working day; the window ends with the N-th one.
            day = opens.astimezone(VN_TZ).date()
            last = day if CALENDAR.is_working_day(day) else CALENDAR.next_working_day(day)
            for _ in range(w.working_days - 1):
                last = CALENDAR.next_working_day(last)
            return opens, datetime.combine(last + timedelta(days=1), time(0, 0), VN_TZ)
        return opens, opens + timedelta(days=w.days or 0.0)


def commune_of(handoff: Event) -> str | None:
    """The commune a handoff's dossier was submitted in (the portal puts the area in the dossier
    every agency passes on); None for a dossier without one (an external portal's)."""
    dossier = handoff.payload.get("dossier")
    area = dossier.get("area") if isinstance(dossier, dict) else None
    commune = area.get("commune") if isinstance(area, dict) else None
    return commune if isinstance(commune, str) else None


def channel_of(handoff: Event) -> str | None:
    """The channel a handoff's dossier came through (online, vneid, in_person); None if unknown."""
    dossier = handoff.payload.get("dossier")
    channel = dossier.get("channel") if isinstance(dossier, dict) else None
    return channel if isinstance(channel, str) else None


def in_channels(f: Fault, channel: str | None) -> bool:
    """Whether a dossier of `channel` is among those fault `f` may hit (all, without a channel
    narrowing)."""
    return f.channels is None or channel in f.channels


def in_communes(f: Fault, commune: str | None) -> bool:
    """Whether a dossier of `commune` is among those fault `f` may hit (all, without a commune
    narrowing; a dossier whose commune is unknown is outside a narrowed fault)."""
    if f.communes is None and f.commune_share is None:
        return True
    if commune is None:
        return False
    if f.communes is not None:
        return commune in f.communes
    assert f.commune_share is not None
    return random.Random(f"{f.name}/commune/{commune}").random() < f.commune_share


def unknown_communes(faults: Iterable[Fault], known: Iterable[str]) -> list[tuple[str, str]]:
    """(fault, commune) for every commune a fault narrows to that is not among `known` (the
    communes of the run's province in force during its period): a misspelt commune would
    otherwise silently hit nothing."""
    names = set(known)
    return [(f.name, c) for f in faults for c in sorted(f.communes or ()) if c not in names]


@dataclass(frozen=True)
class Hit:
    """One fault applied to one thing: what the ground truth records."""

    fault: str
    effect: str
    subject: str
    """"link:motcua->hotich", "step:hotich/register_birth", "agency:portal"."""
    at: datetime
    until: datetime | None = None
    """When the effect ended (delivered, completed); None: it never ends by itself."""
    deadline: datetime | None = None
    """A contract deadline the effect may miss (the step's SLA), if it has one."""
    state: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class HandoffPlan:
    """How one handoff travels under the faults that hit it."""

    sent_at: datetime
    """When the transfer finally went through: the handoff.sent event's time."""
    errors: tuple[tuple[datetime, str], ...] = ()
    """Failed attempts before that: (time, error) → link.error events."""
    work: tuple[datetime, ...] | None = None
    """When the work message is delivered: None = at once; () = never; two times = twice."""
    lifecycle: tuple[datetime, ...] | None = None
    """When the handoff.sent event is published: None = at once."""
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class Hold:
    """A stall keeps the dossier in `state`: until a window ends (when it reached the state while
    the window was open), or for `extra_hours` more office time. Called as the platform's
    `runtime.schedule.Waits`."""

    state: str
    opens: datetime | None = None
    until: datetime | None = None
    extra_hours: float = 0.0

    def __call__(self, state: str, entered: datetime, calendar: WorkingCalendar) -> datetime | None:
        if state != self.state:
            return None
        if self.until is not None and self.opens is not None:
            return self.until if self.opens <= entered < self.until else None
        return calendar.add_working_hours(entered, self.extra_hours) if self.extra_hours > 0 else None


@dataclass(frozen=True)
class StepPlan:
    """How one step's office work goes under the faults that hit it."""

    extra_hours: float = 0.0
    hold: Hold | None = None
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class Injector:
    faults: tuple[Fault, ...]
    period: Period
    speed: float = 1.0
    scenario: str = "custom"
    _by_link: dict[tuple[str, str], tuple[Fault, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_link: dict[tuple[str, str], list[Fault]] = {}
        for f in self.faults:
            if f.link:
                by_link.setdefault(f.link, []).append(f)
            elif f.target.get("agency") and f.effect == "error":
                # An erroring agency fails the transfers sent to it: every link into it.
                by_link.setdefault(("*", f.target["agency"]), []).append(f)
        object.__setattr__(self, "_by_link", {k: tuple(v) for k, v in by_link.items()})

    @property
    def empty(self) -> bool:
        return not self.faults

    def hits(self, f: Fault, key: str, at: datetime) -> bool:
        """Whether fault `f` hits the thing named `key` happening at sim time `at`."""
        if f.rate is not None:
            return _draw(f, key) < f.rate
        start, end = self.period.window(f)
        return start <= at < end

    def agency_faults(self, agency: str, effect: str) -> list[Fault]:
        return [f for f in self.faults if f.target.get("agency") == agency and f.effect == effect]

    def agency_fault(self, agency: str, effect: str, at: datetime) -> Fault | None:
        """The window fault of `effect` on `agency` in force at `at` (an outage, a payment failure)."""
        for f in self.faults:
            if f.target.get("agency") == agency and f.effect == effect and f.window and self.hits(f, "", at):
                return f
        return None

    def handoff(
        self,
        sender: str,
        receiver: str,
        key: str,
        now: datetime,
        commune: str | None = None,
        channel: str | None = None,
    ) -> HandoffPlan | None:
        """The faults on link sender→receiver that hit the handoff named `key` (a dossier and its
        link) of a dossier from `commune` through `channel`; None when none does."""
        candidates = self._by_link.get((sender, receiver), ()) + self._by_link.get(("*", receiver), ())
        hit = [f for f in candidates if in_communes(f, commune) and in_channels(f, channel) and self.hits(f, key, now)]
        if not hit:
            return None
        travel = _Travel(f"link:{sender}->{receiver}", receiver, now)
        for f in sorted(hit, key=lambda f: _ORDER.index(f.effect)):
            travel.apply(f, key, self)
        return travel.plan()

    def step(
        self,
        agency: str,
        states: tuple[str, ...],
        key: str,
        received_at: datetime,
        commune: str | None = None,
        channel: str | None = None,
        step: str | None = None,
    ) -> StepPlan | None:
        """The faults on `agency`'s office work that hit this step (named `step`) of a dossier
        from `commune` through `channel`; None when none does."""
        extra = 0.0
        hold: Hold | None = None
        hit: list[Fault] = []
        for f in self.faults:
            if f.target.get("agency") != agency or f.effect not in ("slow", "stall"):
                continue
            if f.effect == "stall" and f.params["state"] not in states:
                continue
            if not in_communes(f, commune) or not in_channels(f, channel):
                continue
            if f.steps is not None and step not in f.steps:
                continue
            if f.window is not None and f.effect == "stall":
                # A window stall holds whatever reaches the state while the window is open; the
                # runtime checks that against the planned time of the state.
                opens, ends = self.period.window(f)
                hold = Hold(f.params["state"], opens=opens, until=ends)
                hit.append(f)
                continue
            if not self.hits(f, key, received_at):
                continue
            rng = random.Random(f"{f.name}/{key}/params")
            if f.effect == "slow":
                lo, hi = f.params.get("extra_hours", (0, 0))
                extra += rng.uniform(float(lo), float(hi))
            else:
                lo, hi = f.params.get("extra_days", (1, 1))
                hold = Hold(f.params["state"], extra_hours=rng.uniform(float(lo), float(hi)) * OFFICE_HOURS_PER_DAY)
            hit.append(f)
        if not hit:
            return None
        return StepPlan(extra, hold, tuple(hit))

    def window_of(self, f: Fault) -> tuple[datetime, datetime]:
        return self.period.window(f)

    def answer(self, agency: str, key: str, at: datetime) -> tuple[datetime, Fault | None]:
        """When `agency` (the population database) answers the question named `key` asked at
        `at`, and the slow fault that made it late, if any: `extra_hours` of office time later."""
        for f in self.faults:
            if f.target.get("agency") == agency and f.effect == "slow" and self.hits(f, key, at):
                lo, hi = f.params.get("extra_hours", (0, 0))
                extra = random.Random(f"{f.name}/{key}/params").uniform(float(lo), float(hi))
                return CALENDAR.add_working_hours(at, extra), f
        return at, None

    def synced(self, agency: str, key: str, at: datetime) -> tuple[datetime, Fault | None]:
        """When a record `agency` took at `at` (named `key`: its dossier) can be found, and the
        fault that kept it unsynchronised, if any: `delay_working_days` later."""
        for f in self.faults:
            if f.target.get("agency") == agency and f.effect == "unsynced" and self.hits(f, key, at):
                return _delayed(f, at, random.Random(f"{f.name}/{key}/params")), f
        return at, None


_ORDER = ("reject", "transfer_error", "error", "drop", "delay", "duplicate", "reorder")
CALENDAR = WorkingCalendar()


def _delayed(f: Fault, at: datetime, rng: random.Random) -> datetime:
    """When a delayed handoff arrives: `delay_days` calendar days later, or `delay_working_days`
    working days later on the Vietnamese calendar (as the reports count: "1 - 2 ngày"), office
    hours by office hours, so a handoff delayed a working day on a Friday afternoon arrives on
    Monday afternoon."""
    if "delay_working_days" in f.params:
        lo, hi = f.params["delay_working_days"]
        return CALENDAR.add_working_hours(at, rng.uniform(float(lo), float(hi)) * OFFICE_HOURS_PER_DAY)
    lo, hi = f.params.get("delay_days", (1, 1))
    return at + timedelta(days=rng.uniform(float(lo), float(hi)))


@dataclass
class _Travel:
    """One handoff's journey as the faults that hit it shape it, effect by effect (in `_ORDER`)."""

    link: str
    receiver: str
    at: datetime
    """When the transfer goes through (after failed attempts)."""
    errors: list[tuple[datetime, str]] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    work: tuple[datetime, ...] | None = None
    lifecycle: tuple[datetime, ...] | None = None

    def apply(self, f: Fault, key: str, injector: Injector) -> None:
        rng = random.Random(f"{f.name}/{key}/params")
        if f.effect == "reject":
            _, end = injector.period.window(f)
            first = self.at
            while self.at < end:
                self.errors.append((self.at, "receiver refuses transfers (server disk full)"))
                self.at += REJECT_RETRY
            self.hits.append(
                Hit(f.name, f.effect, self.link, first, self.at, detail=f"{len(self.errors)} refused attempts")
            )
        elif f.effect in ("transfer_error", "error"):
            self._errors(f, rng)
        elif f.effect == "drop":
            self.work = ()
            self.hits.append(Hit(f.name, f.effect, self.link, self.at, None, detail="handoff never delivered"))
        elif f.effect == "delay" and self.work != ():
            late = _delayed(f, self.at, rng)
            self.work = (late,)
            self.hits.append(Hit(f.name, f.effect, self.link, self.at, late, detail="handoff delivered late"))
        elif f.effect == "duplicate" and self.work != ():
            again = self.at + DUPLICATE_AFTER
            self.work = (self.at, again)
            self.lifecycle = (self.at, again)
            self.hits.append(Hit(f.name, f.effect, self.link, again, again, detail="handoff delivered twice"))
        elif f.effect == "reorder" and self.lifecycle is None:
            self.lifecycle = (self.at + timedelta(seconds=REORDER_REAL_S * injector.speed),)
            detail = "handoff.sent after its receipt"
            self.hits.append(Hit(f.name, f.effect, self.link, self.at, self.lifecycle[0], detail=detail))

    def _errors(self, f: Fault, rng: random.Random) -> None:
        first = self.at
        if f.effect == "transfer_error":
            lo, hi = f.params.get("retries", (1, 1))
            for _ in range(rng.randint(int(lo), int(hi))):
                self.errors.append((self.at, f"transfer via {self.receiver} failed (integration bus error)"))
                self.at += TRANSFER_RETRY
        else:
            lo, hi = f.params.get("retry_hours", (1, 1))
            self.errors.append((self.at, f"{self.receiver} answered with an error"))
            self.at += timedelta(hours=rng.uniform(float(lo), float(hi)))
        self.hits.append(Hit(f.name, f.effect, self.link, first, self.at, detail=f"{len(self.errors)} failed attempts"))

    def plan(self) -> HandoffPlan:
        work = self.work
        if work is not None and work != () and work[0] < self.at:
            work = (self.at, *work[1:])
        return HandoffPlan(self.at, tuple(self.errors), work, self.lifecycle, tuple(self.hits))


def _draw(f: Fault, key: str) -> float:
    return random.Random(f"{f.name}/{key}").random()
