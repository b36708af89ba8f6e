"""Each dossier's open expectations, from its lifecycle events: pure, no broker, no clock.

An expectation is an event that must come by a deadline (sim time):
- `lost` — a handoff sent must be acknowledged (handoff.received) within the link timeout;
- `stuck` — a received step must complete or be refused by its SLA deadline (working days from
  the chain data, counted from receipt); an intermediate state must be left within its limit;
  the dossier must close by its appointment date (`due_at` of dossier.submitted).
`apply` folds one event into a dossier and says which expectations it opened and which it met;
the detector (streams/detect.py) reports those whose deadline passed while still open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from contracts.alerts import AlertKind
from contracts.calendar import WorkingCalendar
from contracts.chains import Chain, Step
from contracts.envelope import Event
from contracts.event_types import (
    DOSSIER_CLOSED,
    DOSSIER_SUBMITTED,
    HANDOFF_RECEIVED,
    HANDOFF_SENT,
    STEP_COMPLETED,
    STEP_REJECTED,
    STEP_STATE,
)
from contracts.payloads import dossier_submitted, handoff_received, handoff_sent, step_state
from streams.rules import Rules

LOST = AlertKind.LOST
STUCK = AlertKind.STUCK


@dataclass(frozen=True, slots=True)
class Expectation:
    key: str
    """Unique within the dossier: what is awaited."""
    kind: str
    due_at: datetime
    opened_at: datetime
    subject: str
    """Where: "link:motcua->hotich", "step:hotich/register_birth", "dossier"."""
    detail: str


@dataclass(slots=True)
class Dossier:
    dossier_id: str
    chain: str | None = None
    needs_verification: bool = False
    procedures: tuple[str, ...] = ()
    closed: bool = False
    closed_at: datetime | None = None
    pending: dict[str, Expectation] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    """Steps ("agency:step") known done: completed, refused, or proven by a later step. A copy of
    their receipt or state read afterwards (a crash replay publishes the sender's outbox again)
    opens no new deadline."""
    ended_at: dict[str, datetime] = field(default_factory=dict)
    """When each step of `finished` was completed or refused, where its own event said so."""
    early: dict[str, datetime] = field(default_factory=dict)
    """Handoffs acknowledged before their handoff.sent arrived, with when (the two come from
    different producers, so the topic may carry them in either order; after a broker crash the
    sender's copy is published again, after receipts written meanwhile)."""

    @property
    def settled(self) -> bool:
        """Closed with nothing left to wait for: the tracker can forget it. A receipt whose
        handoff.sent has not been read yet keeps it: that handoff may still prove late (after a
        broker crash, its copy from the sender's outbox can come after the dossier closed)."""
        return self.closed and not self.pending and not self.early


@dataclass(frozen=True, slots=True)
class Change:
    opened: tuple[Expectation, ...] = ()
    met: tuple[Expectation, ...] = ()
    late: tuple[tuple[Expectation, datetime], ...] = ()
    """Expectations never opened because they were already met, but met after their deadline
    (a receipt read before its handoff, that came later than the link timeout), with when."""
    proven: tuple[Expectation, ...] = ()
    """Expectations met without their own event: a later step ran, or the dossier closed, so
    what they awaited happened, at a time the monitor never read (it missed those events)."""
    proof: str = ""
    """What proved them: "a later step ran: cutru/register_residence", "dossier closed"."""


@dataclass(frozen=True)
class Tracker:
    """The pure fold: rules, chains and calendar in; no state of its own."""

    chains: Mapping[str, Chain]
    rules: Rules
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def apply(self, d: Dossier, e: Event) -> Change:
        fold = _Fold(self, d, e)
        handler = _HANDLERS.get(e.type)
        early = handler(fold) if handler is not None else None
        if early is not None:
            return early
        for earlier in self._earlier(d, e):
            d.finished.add(f"{earlier.agency}:{earlier.name}")
            fold.prove(f"step:{earlier.agency}:{earlier.name}")
            fold.prove(f"state:{earlier.agency}:{earlier.name}")
        return fold.change(f"a later step ran: {e.agency}/{e.step}" if fold.proven else "")

    def _earlier(self, d: Dossier, e: Event) -> list[Step]:
        """The steps the chain runs before the event's step (its `after`, and theirs): a later
        step ran, so they were done."""
        step = self._step(d, e)
        chain = self.chains.get(d.chain or e.chain or "")
        out: list[Step] = []
        while step is not None and step.after and chain is not None:
            try:
                step = chain.step(step.after)
            except KeyError:
                break
            out.append(step)
        return out

    def _step(self, d: Dossier, e: Event) -> Step | None:
        chain = self.chains.get(d.chain or e.chain or "")
        if chain is None or e.step is None:
            return None
        try:
            return chain.step(e.step)
        except KeyError:
            return None  # the portal's result step: the handoff's acknowledgement is all we await


@dataclass
class _Fold:
    """One event folded into one dossier: what it opened, met and proved."""

    tracker: Tracker
    d: Dossier
    e: Event
    opened: list[Expectation] = field(default_factory=list)
    met: list[Expectation] = field(default_factory=list)
    proven: list[Expectation] = field(default_factory=list)

    def _take(self, prefix: str) -> list[Expectation]:
        keys = [k for k in self.d.pending if k == prefix or k.startswith(prefix + ":")]
        return [self.d.pending.pop(k) for k in keys]

    def meet(self, prefix: str) -> None:
        self.met += self._take(prefix)

    def prove(self, prefix: str) -> None:
        """Meet, without their own event, what `prefix` awaits (the detector decides what that
        says: streams/detect.py)."""
        self.proven += self._take(prefix)

    def expect(self, x: Expectation) -> None:
        # The portal closes a dossier only once every result came back: once closed it awaits
        # nothing new, whatever copy a crash replay brings afterwards (a submission, a receipt).
        if self.d.closed:
            return
        if x.key not in self.d.pending:
            self.d.pending[x.key] = x
            self.opened.append(x)

    def change(self, proof: str) -> Change:
        return Change(tuple(self.opened), tuple(self.met), proven=tuple(self.proven), proof=proof)

    @property
    def step_done(self) -> bool:
        return f"{self.e.agency}:{self.e.step}" in self.d.finished

    def submitted(self) -> Change | None:
        d, e = self.d, self.e
        d.chain = e.chain
        submitted = dossier_submitted(e)
        d.needs_verification = bool(submitted.get("needs_verification"))
        d.procedures = tuple(submitted.get("procedures") or ())
        if submitted.get("due_at"):
            due = datetime.fromisoformat(submitted["due_at"])
            self.expect(
                Expectation("dossier", STUCK, due, e.occurred_at, "dossier", "not closed by its appointment date")
            )
        return None

    def sent(self) -> Change | None:
        e, t = self.e, self.e.occurred_at
        sent = handoff_sent(e)
        link = f"link:{e.agency}->{sent['to']}"
        detail = f"{sent['to']}/{sent['to_step']} never acknowledged the handoff"
        x = Expectation(f"handoff:{e.event_id}", LOST, t + self.tracker.rules.link_timeout, t, link, detail)
        received = self.d.early.pop(e.event_id, None)
        if received is not None:
            return Change(late=((x, received),) if received > x.due_at else ())
        self.expect(x)
        return None

    def received(self) -> Change | None:
        d, e, t = self.d, self.e, self.e.occurred_at
        sent_event_id = handoff_received(e)["sent_event_id"]
        if f"handoff:{sent_event_id}" in d.pending:
            self.meet(f"handoff:{sent_event_id}")
        else:
            d.early[sent_event_id] = t
        step = self.tracker._step(d, e)
        if step is None:
            return None
        due = self.tracker.calendar.deadline(t, step.sla(d.needs_verification))
        where = f"step:{e.agency}/{e.step}"
        x = Expectation(f"step:{e.agency}:{e.step}", STUCK, due, t, where, "step not finished by its SLA")
        if not self.step_done:
            self.expect(x)
            return None
        # The step's end was read before its receipt (after a broker crash the sender's outbox
        # publishes the receipt again, behind what came since): late all the same if it ended
        # after the deadline the receipt sets.
        ended = d.ended_at.get(f"{e.agency}:{e.step}")
        if ended is not None and ended > due:
            return Change(late=((x, ended),))
        return None

    def state(self) -> Change | None:
        e, t = self.e, self.e.occurred_at
        self.meet(f"state:{e.agency}:{e.step}")
        state = step_state(e)["state"]
        limit = self.tracker.rules.state_limit_working_days.get(state)
        if limit is not None and not self.step_done:
            due = self.tracker.calendar.deadline(t, limit)
            where = f"step:{e.agency}/{e.step}"
            self.expect(Expectation(f"state:{e.agency}:{e.step}:{state}", STUCK, due, t, where, f"{state} too long"))
        return None

    def ended(self) -> Change | None:
        d, e = self.d, self.e
        d.finished.add(f"{e.agency}:{e.step}")
        d.ended_at.setdefault(f"{e.agency}:{e.step}", e.occurred_at)
        self.meet(f"step:{e.agency}:{e.step}")
        self.meet(f"state:{e.agency}:{e.step}")
        chain = self.tracker.chains.get(d.chain or e.chain or "")
        if chain is not None and e.step is not None and chain.made_by(e.step, d.procedures):
            # The certificate is issued: its appointment date is met; the post delivers it after.
            self.meet("dossier")
        return None

    def closed(self) -> Change | None:
        self.d.closed = True
        self.d.closed_at = self.e.occurred_at
        self.meet("dossier")
        # The portal closes a dossier only once every result came back: nothing it still awaited
        # can be missing (the monitor missed those events, around a broker crash).
        for key in list(self.d.pending):
            self.prove(key)
        return self.change("dossier closed")


_HANDLERS: dict[str, Callable[[_Fold], Change | None]] = {
    DOSSIER_SUBMITTED: _Fold.submitted,
    HANDOFF_SENT: _Fold.sent,
    HANDOFF_RECEIVED: _Fold.received,
    STEP_STATE: _Fold.state,
    STEP_COMPLETED: _Fold.ended,
    STEP_REJECTED: _Fold.ended,
    DOSSIER_CLOSED: _Fold.closed,
}
"""What each lifecycle event does to a dossier's expectations (None: go on to what a later step
proves; a Change: that is all)."""
