"""The detector: follow dossiers, report expectations whose deadline passed while still open.

`Monitor` holds the open dossiers and the deadline index; `observe` folds an event in, `tick`
returns the findings due by a sim time. Each expectation is reported once (it leaves the index
when it surfaces); an event that meets it later is reported as its recovery. An event that meets
an expectation after its deadline, before a tick reported it, is reported as `Late`: the tick
judges conservatively (streams/app.py), and a late event is proof enough. Pure: the faust
worker feeds it events and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.alerts import AlertKind
from contracts.envelope import Event
from contracts.event_types import DOSSIER_CLOSED, HANDOFF_RECEIVED
from streams.deadlines import DeadlineIndex
from streams.tracker import Dossier, Expectation, Tracker


@dataclass(frozen=True, slots=True)
class Finding:
    dossier_id: str
    expectation: Expectation
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class Late:
    """An expectation met after its deadline before any tick reported it: the meeting event's
    own time proves the deadline passed, so it is reported (and resolved) now."""

    dossier_id: str
    expectation: Expectation
    met_at: datetime
    how: str


@dataclass(frozen=True, slots=True)
class Recovery:
    dossier_id: str
    expectation: Expectation
    recovered_at: datetime
    how: str
    """The event type that finally came, or what proved it (a later step ran, the dossier closed)."""
    proven: bool = False
    """Met without its own event: it happened at some time before `recovered_at`, not known when."""


CLOSED_MEMORY = timedelta(days=30)
"""How long a settled dossier is remembered, so a straggler (an event reordered or redelivered
after the dossier closed) is recognised instead of opening a new, phantom dossier."""


@dataclass
class Monitor:
    tracker: Tracker
    dossiers: dict[str, Dossier] = field(default_factory=dict)
    index: DeadlineIndex = field(default_factory=DeadlineIndex)
    closed: dict[str, datetime] = field(default_factory=dict)
    """Settled dossier → when, oldest first."""
    _reported: set[tuple[str, str]] = field(default_factory=set)

    def observe(self, e: Event) -> list[Recovery | Late]:
        if e.dossier_id is None or e.dossier_id in self.closed:
            return []
        d = self.dossiers.get(e.dossier_id)
        if d is None:
            d = self.dossiers[e.dossier_id] = Dossier(e.dossier_id)
        change = self.tracker.apply(d, e)
        for x in change.opened:
            self.index.push(d.dossier_id, x)
        recoveries: list[Recovery | Late] = []
        for x in change.met:
            if (d.dossier_id, x.key) in self._reported:
                self._reported.discard((d.dossier_id, x.key))
                recoveries.append(Recovery(d.dossier_id, x, e.occurred_at, e.type))
            elif e.occurred_at > x.due_at:
                recoveries.append(Late(d.dossier_id, x, e.occurred_at, e.type))
        for x, met_at in change.late:
            # A handoff acknowledged before it was read, or a step that ended before its receipt was.
            how = HANDOFF_RECEIVED if x.kind == AlertKind.LOST else "step ended"
            recoveries.append(Late(d.dossier_id, x, met_at, how))
        closing = e.type == DOSSIER_CLOSED
        for x in change.proven:
            if (d.dossier_id, x.key) in self._reported:
                # Its alert is open: the proof resolves it.
                self._reported.discard((d.dossier_id, x.key))
                recoveries.append(Recovery(d.dossier_id, x, e.occurred_at, change.proof, proven=True))
            elif not closing and x.due_at < e.occurred_at:
                # Overdue and not reported yet: done, but maybe late; its own event (or the
                # dossier's closing) judges it, so it keeps waiting.
                d.pending[x.key] = x
            # Otherwise done in time, or settled with the dossier: nothing to report.
        if d.settled:
            del self.dossiers[d.dossier_id]
            # Remembered from its closing: a straggler that settles it carries an older stamp.
            self.closed[d.dossier_id] = max(e.occurred_at, d.closed_at or e.occurred_at)
        return recoveries

    def drop(self, dossier_ids: set[str]) -> None:
        """Forget these dossiers (their partitions went to another worker, which follows them
        from the stored events now); their deadlines lapse in the index."""
        for d in dossier_ids:
            self.dossiers.pop(d, None)
            self.closed.pop(d, None)
        self._reported = {r for r in self._reported if r[0] not in dossier_ids}

    def tick(self, now: datetime) -> list[Finding]:
        while self.closed:
            oldest = next(iter(self.closed))
            if self.closed[oldest] > now - CLOSED_MEMORY:
                break
            del self.closed[oldest]
        findings = []
        for dossier_id, x in self.index.due(now, self._lookup):
            self._reported.add((dossier_id, x.key))
            findings.append(Finding(dossier_id, x, now))
        return findings

    def _lookup(self, dossier_id: str, key: str) -> Expectation | None:
        d = self.dossiers.get(dossier_id)
        return d.pending.get(key) if d else None
