"""Detectors over the stream rather than one dossier's deadlines: failing links, silent agencies,
duplicate deliveries and bad data. Pure: events and sim times in, incidents out; each incident is
opened once and closed when the link or agency recovers.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.alerts import AlertKind
from contracts.envelope import Event
from contracts.event_types import AGENCY_HEARTBEAT, HANDOFF_RECEIVED, LINK_ERROR, STEP_REJECTED
from contracts.identity import IdentityProblem
from contracts.payloads import handoff_received, link_error, step_rejected

LINK = AlertKind.LINK
AGENCY = AlertKind.AGENCY
DUPLICATE = AlertKind.DUPLICATE
DATA_QUALITY = AlertKind.DATA_QUALITY

IDENTITY_CODES = frozenset(p.value for p in IdentityProblem)


@dataclass(frozen=True, slots=True)
class Incident:
    kind: str
    subject: str
    """"link:motcua->lltp", "agency:cutru", or the dossier id."""
    at: datetime
    detail: str
    opened: bool = True
    """False: the incident is over (the link or agency recovered)."""


LATE_HORIZON = timedelta(days=2)
"""How far behind the judged time a transfer may still be read and judged (a broker's crash has
its senders publish again what it lost, behind what came since): samples are kept that long."""


@dataclass
class LinkHealth:
    """Error rate per link over a sliding sim-time window: `link.error` events against
    acknowledged handoffs (handoff.received names the sending agency).

    Judged in event time, like the silence: the monitor reads partitions in no particular order
    (one dossier's retries an hour ahead of another's), so transfers are held until the judged
    time reaches them and then taken oldest first; the incident opens at the transfer that made
    the window fail, wherever the partitions happened to be read. A transfer read after the
    judged time passed it (published again after a broker crash) is judged where it belongs: if
    with it some window failed that no incident covers, the incident opens at that window's
    failing transfer, in the past."""

    window: timedelta = timedelta(hours=1)
    threshold: float = 0.2
    min_samples: int = 3
    _ahead: list[tuple[datetime, str, bool]] = field(default_factory=list)
    """Transfers read but stamped after the judged time, oldest first."""
    _samples: dict[str, list[tuple[datetime, bool]]] = field(default_factory=dict)
    """Each link's transfers judged, in time order, for LATE_HORIZON behind the judged time."""
    _spans: dict[str, list[list[datetime | None]]] = field(default_factory=dict)
    """Each link's incidents: [opened, closed (None: open)], oldest first."""
    _last_error: dict[str, datetime] = field(default_factory=dict)
    _judged: datetime | None = None

    def observe(self, e: Event) -> None:
        if e.type == LINK_ERROR:
            bisect.insort(self._ahead, (e.occurred_at, f"link:{e.agency}->{link_error(e)['to']}", False))
        elif e.type == HANDOFF_RECEIVED:
            bisect.insort(self._ahead, (e.occurred_at, f"link:{handoff_received(e)['from']}->{e.agency}", True))

    def tick(self, now: datetime) -> list[Incident]:
        """Take the transfers up to `now` in order; a degraded link with no failure for a whole
        window has recovered then, even if nothing was acknowledged on it meanwhile (a payment
        service only reports failures)."""
        out: list[Incident] = []
        taken = bisect.bisect_right(self._ahead, now, key=lambda s: s[0])
        for at, link, ok in self._ahead[:taken]:
            out += self._quiet(at)
            out += self._take(at, link, ok)
        del self._ahead[:taken]
        out += self._quiet(now)
        if self._judged is None or now > self._judged:
            self._judged = now
            self._forget(now - LATE_HORIZON)
        return out

    def _open(self, link: str) -> list[datetime | None] | None:
        spans = self._spans.get(link)
        return spans[-1] if spans and spans[-1][1] is None else None

    def _quiet(self, now: datetime, links: list[str] | None = None) -> list[Incident]:
        out = []
        for link in links if links is not None else sorted(self._spans):
            span = self._open(link)
            last = self._last_error.get(link)
            if span is not None and last is not None and now - last > self.window:
                span[1] = last + self.window
                out.append(
                    Incident(LINK, link, last + self.window, "no failed transfer for a whole window", opened=False)
                )
        return out

    def _window(self, samples: list[tuple[datetime, bool]], end: datetime) -> tuple[int, int]:
        """(errors, transfers) in the window ending at `end`."""
        lo = bisect.bisect_left(samples, end - self.window, key=lambda s: s[0])
        hi = bisect.bisect_right(samples, end, key=lambda s: s[0])
        inside = samples[lo:hi]
        return sum(1 for _, good in inside if not good), len(inside)

    def _failing(self, errors: int, total: int) -> bool:
        return total >= self.min_samples and errors / total >= self.threshold

    def _covered(self, link: str, at: datetime) -> bool:
        """Whether an incident already raised on `link` covers a window failing at `at`."""
        return any(
            opened is not None and opened - self.window <= at and (closed is None or at <= closed)
            for opened, closed in self._spans.get(link, [])
        )

    def _take(self, at: datetime, link: str, ok: bool) -> list[Incident]:
        samples = self._samples.setdefault(link, [])
        late = bool(samples) and at < samples[-1][0]
        bisect.insort(samples, (at, ok), key=lambda s: s[0])
        if not ok:
            self._last_error[link] = max(at, self._last_error.get(link, at))
        span = self._open(link)
        if span is not None:
            if late:
                return []  # the open incident covers it
            errors, total = self._window(samples, at)
            if ok and errors / total < self.threshold / 2:
                span[1] = at
                return [Incident(LINK, link, at, "transfers succeed again", opened=False)]
            return []
        # The first window ending at this transfer or a later one (within a window of it) that
        # fails: in time order that is this transfer; read late, it may be one judged before.
        start = bisect.bisect_left(samples, at, key=lambda s: s[0])
        for end, _ in samples[start:]:
            if end > at + self.window:
                break
            errors, total = self._window(samples, end)
            if not self._failing(errors, total):
                continue
            if self._covered(link, end):
                return []
            self._spans.setdefault(link, []).append([end, None])
            out = [Incident(LINK, link, end, f"{errors} of {total} transfers failed in the window")]
            if late and self._judged is not None:
                # Over already, judged by what was read since: closed where it ended.
                out += self._quiet(self._judged, [link])
            return out
        return []

    def _forget(self, before: datetime) -> None:
        for samples in self._samples.values():
            cut = bisect.bisect_left(samples, before, key=lambda s: s[0])
            if cut:
                del samples[:cut]
        for link, spans in self._spans.items():
            self._spans[link] = [sp for sp in spans if sp[1] is None or sp[1] >= before]


@dataclass
class AgencySilence:
    """An agency is silent when, at a judged time, its last heartbeat is older than `limit`;
    the silence counts from `limit` after that heartbeat.

    Judged in event time: heartbeats are read ahead of the judged time (up to the watermark's
    lag), so each is held until the judged time reaches its stamp; a silence that began and
    ended between two judged times is still reported, opened at the moment it began to count."""

    limit: timedelta
    _last: dict[str, datetime] = field(default_factory=dict)
    """Agency → its newest heartbeat at or before the judged time."""
    _ahead: dict[str, list[datetime]] = field(default_factory=dict)
    """Agency → heartbeats read but stamped after the judged time, oldest first."""
    _silent: set[str] = field(default_factory=set)
    _interrupted: dict[str, datetime | None] = field(default_factory=dict)
    """Agencies whose heartbeats the broker lost (`interrupted`), with their newest beat read
    before the loss: no gap is judged from there up to the next beat read."""

    def observe(self, e: Event) -> None:
        if e.type == AGENCY_HEARTBEAT:
            bisect.insort(self._ahead.setdefault(e.agency, []), e.occurred_at)

    def forget(self, agencies: set[str]) -> None:
        """Stop judging these agencies: their heartbeats' partition went to another worker."""
        for agency in agencies:
            self._last.pop(agency, None)
            self._ahead.pop(agency, None)
            self._silent.discard(agency)
            self._interrupted.pop(agency, None)

    def interrupted(self, agencies: set[str]) -> None:
        """The broker lost the log that held these agencies' heartbeats (a crash of the embedded
        broker), with the beats this worker had not read yet: the gap up to the next beat read
        says nothing of the agencies, so it is not judged. A silence already open stays open, and
        closes at that beat. The beats read before the loss and not judged yet are judged as
        usual: the gap is the one after the newest of them (taken as the first one after the loss,
        the flag hid the gap across it: false silences after a crash of the embedded broker)."""
        newest = self.newest()
        for agency in agencies:
            # Found again before a beat of the new log was judged (the monitor may see one loss
            # twice: a late acknowledgement of the old log puts its read position above the new
            # end once more), the pardon still counts from the newest beat read before the first:
            # one taken from beats of the new log would judge the gap across the loss.
            if agency not in self._interrupted:
                self._interrupted[agency] = newest.get(agency)

    def newest(self) -> dict[str, datetime]:
        """Each agency's newest heartbeat read, judged or not (what a dashboard shows)."""
        out = dict(self._last)
        for agency, ahead in self._ahead.items():
            if ahead:
                out[agency] = max(ahead[-1], out.get(agency, ahead[-1]))
        return out

    def tick(self, now: datetime) -> list[Incident]:
        out = []
        for agency, ahead in self._ahead.items():
            subject = f"agency:{agency}"
            last = self._last.get(agency)
            while ahead and ahead[0] <= now:
                beat = ahead.pop(0)
                if agency in self._interrupted:
                    before = self._interrupted[agency]
                    if before is None or beat > before:
                        del self._interrupted[agency]
                        last = None
                if last is not None and beat - last > self.limit and agency not in self._silent:
                    out.append(Incident(AGENCY, subject, last + self.limit, f"no heartbeat since {last.isoformat()}"))
                    self._silent.add(agency)
                if agency in self._silent:
                    self._silent.discard(agency)
                    out.append(Incident(AGENCY, subject, beat, "heartbeats again", opened=False))
                last = beat
            if last is None:
                continue
            self._last[agency] = last
            if agency not in self._silent and agency not in self._interrupted and now - last > self.limit:
                # Opened where the silence began to count, not where a (possibly late) judged
                # time noticed it: the watermark may jump after a broker outage.
                self._silent.add(agency)
                out.append(Incident(AGENCY, subject, last + self.limit, f"no heartbeat since {last.isoformat()}"))
        return out


@dataclass
class Duplicates:
    """The same lifecycle event delivered again (a re-published outbox row). Remembers the
    event ids of open dossiers only, as 8-byte hashes, and forgets a dossier once it settles."""

    _seen: dict[str, set[int]] = field(default_factory=dict)

    def observe(self, e: Event) -> Incident | None:
        if e.dossier_id is None:
            return None
        seen = self._seen.setdefault(e.dossier_id, set())
        h = hash(e.event_id)
        if h in seen:
            return Incident(DUPLICATE, e.dossier_id, e.occurred_at, f"{e.type} from {e.agency} delivered twice")
        seen.add(h)
        return None

    def forget(self, dossier_id: str) -> None:
        self._seen.pop(dossier_id, None)


def data_quality(e: Event) -> Incident | None:
    """A refusal for invalid or mismatched identity data (docs/domain.md's data-quality failures)."""
    if e.type != STEP_REJECTED or not e.dossier_id:
        return None
    p = step_rejected(e)
    code = p.get("code")
    if code in IDENTITY_CODES:
        return Incident(DATA_QUALITY, e.dossier_id, e.occurred_at, f"{code}: {p['reason']}")
    return None
