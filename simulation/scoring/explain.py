"""Why an alert is right: the recorded fact that explains it, under one named rule (docs/faults.md,
"How `score` judges an alert"). No span of time around a fault explains anything by itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts.alerts import Effect, Finding
from simulation.faults.truth import Fact
from simulation.scoring.facts import DELAYING, LINK_ERRORS, PROCESS, Context, plain


@dataclass(frozen=True)
class Why:
    """The recorded fact that explains an alert, under one named rule."""

    rule: str
    fact: Fact

    def describe(self) -> str:
        f = self.fact
        span = f"{plain(f.at)}" + (f"–{plain(f.until)}" if f.until else "")
        on = f" on {f.dossier_id}" if f.dossier_id else ""
        return f"{self.rule}: {f.fault} ({f.effect} {f.subject}{on}, {span})"


RULES = ("hit", "in_flight", "receiver_outage", "receiver_down", "agency_fault", "receiver_held", "link_errors")
"""How an alert can be explained, each by a recorded fact (docs/faults.md, "How `score` judges an alert")."""


def explain(alert: Finding, truth: list[Fact], ctx: Context) -> Why | None:
    """The first recorded fact that accounts for this alert, or None (a false alert):
    - hit: a fault on the same dossier with an effect that causes it: on that handoff, for a lost
      one; on the step, or on a link into its agency, for a stuck one (anything on the dossier for
      its appointment date);
    - in_flight: the harness recorded, at a process fault, the very message the alert is about (for
      a lost handoff: that handoff, by event id; for a stuck step: a message into its agency or one
      of its own lifecycle events);
    - receiver_outage: a lost handoff sent while its receiver was in an outage window;
    - receiver_down: a lost handoff sent while its receiver (or the broker) was killed and not yet
      back, as the harness measured; a failing link into an agency struck while it failed;
    - agency_fault: a silent agency during its outage or a process fault on it (or the broker),
      up to the silence limit after it was back;
    - receiver_held: an infrastructure incident on an agency's work topic whose span, from its
      opening to when it was raised, meets an outage or a process fault on that agency (or the
      broker), extended by the link timeout after it was back (a handoff sent just before it came
      back falls due then);
    - link_errors: a failing link whose recorded failures fall within the alert's span."""
    kind, dossier = alert.kind, alert.dossier_id
    mine = [t for t in truth if dossier and t.dossier_id == dossier]
    flights = [t for t in mine if t.effect == Effect.IN_FLIGHT]

    def first(rule: str, facts: Iterable[Fact]) -> Why | None:
        return next((Why(rule, t) for t in facts), None)

    if kind == "data_quality":
        return first("hit", (t for t in mine if t.effect == Effect.BAD_DATA))
    if kind == "duplicate":
        return first("hit", (t for t in mine if t.effect == Effect.DUPLICATE)) or first("in_flight", flights)
    if kind == "lost":
        link, sent = alert.subject, _sent(alert, ctx)
        receiver = "agency:" + link.split("->")[-1]
        handoff = (alert.key or "").rpartition("handoff:")[2]  # "<dossier>:handoff:<event id>"
        return (
            first(
                "hit",
                (
                    t
                    for t in mine
                    if t.subject == link
                    and t.effect in (Effect.DROP, Effect.DELAY, Effect.OUTAGE)
                    and (not t.event_id or str(t.event_id) == handoff)
                ),
            )
            or first("in_flight", (t for t in flights if t.subject == link and str(t.event_id) == handoff))
            or first(
                "receiver_outage",
                (t for t in truth if t.effect == Effect.OUTAGE and t.subject == receiver and _within(sent, t)),
            )
            or first(
                "receiver_down",
                (
                    t
                    for t in truth
                    if t.effect in (Effect.KILL, Effect.FREEZE)
                    and t.subject in (receiver, "process:broker")
                    and _within(sent, t)
                ),
            )
        )
    if kind == "stuck":
        where = alert.subject
        causes = DELAYING | {"bad_data"} if where == "dossier" else DELAYING
        return first("hit", (t for t in mine if t.effect in causes and _on_step(where, t))) or first(
            "in_flight", (t for t in flights if _on_step(where, t))
        )
    if kind == "link":
        receiver = "agency:" + alert.subject.split("->")[-1]
        return first(
            "link_errors",
            (t for t in truth if t.subject == alert.subject and t.effect in LINK_ERRORS and _spans(alert, t, ctx)),
        ) or first(
            # Calls into a struck system fail until it is back (a killed or hung population
            # database answers no identity check): the failures open the link's incident.
            "receiver_down",
            (t for t in truth if t.subject == receiver and t.effect in PROCESS and _spans(alert, t, ctx)),
        )
    if kind == "infrastructure":
        # From its first held handoff's judged time to the clock's reading when the broker's
        # positions showed the stall: the positions are read in real time, and a stall the
        # broker's crash caused opens then, whatever handoff it holds (a handoff held an instant
        # before a crash at 16 × the speed was judged 43 sim hours before the clock).
        agency = "agency:" + alert.subject.removeprefix("work:").partition("/")[0]
        raised = alert.raised_at or alert.opened_at
        return first(
            "receiver_held",
            (
                t
                for t in truth
                if t.subject in (agency, "process:broker")
                and t.effect in PROCESS | {Effect.OUTAGE}
                and t.at <= raised
                and alert.opened_at <= (t.until or t.at) + ctx.rules.link_timeout
            ),
        )
    if kind == "agency":
        opened = alert.opened_at
        return first(
            "agency_fault",
            (
                t
                for t in truth
                if t.subject in (alert.subject, "process:broker")
                and t.effect in PROCESS | {Effect.OUTAGE}
                and t.at <= opened <= (t.until or t.at) + ctx.silence
            ),
        )
    return None


def _on_step(where: str, t: Fact) -> bool:
    """Whether fact `t` bears on the step a stuck alert names: the fact is on that step, or on a
    link into its agency, or is one of that agency's own lifecycle events caught in flight. An
    alert on the dossier's appointment date ("dossier") is borne on by anything on the dossier."""
    if where == "dossier":
        return True
    agency = where.removeprefix("step:").partition("/")[0]
    subject: str = t.subject
    return (
        subject == where
        or subject == f"log:{agency}"
        or (subject.startswith("link:") and subject.endswith(f"->{agency}"))
    )


def explained(alert: Finding, truth: list[Fact], ctx: Context) -> bool:
    return explain(alert, truth, ctx) is not None


def _sent(alert: Finding, ctx: Context) -> datetime:
    """When the handoff of a lost alert was sent: its due time less the link timeout."""
    due: datetime | None = alert.due_at
    return due - ctx.rules.link_timeout if due is not None else alert.opened_at


def _within(at: datetime, t: Fact) -> bool:
    end: datetime = t.until or t.at
    return bool(t.at <= at <= end)


def _spans(alert: Finding, t: Fact, ctx: Context) -> bool:
    """Failures (from the fault's first to its last retry) within the link window before the
    alert opened, or while it was open."""
    end = alert.resolved_at
    last: datetime = t.until or t.at
    return bool(alert.opened_at - ctx.rules.link_window <= last and (end is None or t.at <= end))
