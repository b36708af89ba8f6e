"""`lienthong score`: the monitor's alerts against the ground truth of the injected faults.

What should have been caught follows from each recorded hit and the product's rules (the link
timeout, the state limits and the link-error thresholds of streams/rules.yaml, the SLAs of the
chain data):
- lost: a handoff dropped, or delivered late by its sender, more than the link timeout after it
  was sent; due at sent + timeout, on that link, for that dossier;
- infrastructure: handoffs a receiver's outage kept unread well past the link timeout (the monitor
  holds them under one incident per partition of its work topic, streams/backlog.py); one per
  fault and receiver, due at the first such handoff's sent + timeout. One whose receipt came
  within the monitor's judging lag of its deadline is a (late) lost handoff instead (`_held`);
- stuck: a slowed or stalled step that ends after its SLA deadline, or stays in a state past the
  state's limit; due at the first deadline missed;
- link: a link that refuses every transfer (overload) or a payment service that fails every
  payment, failing `min_samples` times within the window; due at that failure;
- agency: an outage longer than the monitor's silence limit (three heartbeats, in sim time);
- duplicate: a handoff delivered twice; due at the second delivery;
- data_quality: an accepted dossier with bad identity data, unless a fault lost it before a
  checking agency saw it.
Faults with nothing to catch (retried transfer errors, reordered events, killed and restarted
processes) are "tolerated": the dossier must still finish. An alert is explained only by a
recorded fact, under one of the rules of `explain` (a hit on the same dossier, link or agency; a
message the harness recorded in flight at a process fault, by id; the receiver's recorded outage
or measured downtime); no span of time around a fault explains anything by itself.
Precision is the share of alerts explained. Detection delay is the sim seconds from
the due time to the alert's `opened_at`, over the lost and stuck alerts that were expected; the
raise lag is how far behind the sim clock the monitor wrote them (`raised_at − opened_at`: the
watermark's safety lag plus any backlog), reported beside it so a slow monitor shows.
Silent losses are accepted dossiers neither finished nor covered by an open alert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.alerts import PER_DOSSIER_FINDINGS, Effect, Finding
from runtime.settings import Settings
from simulation.faults.truth import Fact
from simulation.scoring.explain import RULES, Why, explain, explained
from simulation.scoring.facts import (
    IDENTITY_BAD_DATA,
    KINDS,
    LOSING,
    MEASURED,
    RETRY_EVERY,
    SHOWN,
    Context,
    plain,
)
from streams.incidents import incident_of


@dataclass(frozen=True)
class Expected:
    kind: str
    subject: str
    due: datetime
    fault: str
    dossier_id: str | None = None
    until: datetime | None = None


def context_of(settings: Settings) -> Context:
    """The context a run's settings give: the monitor's rules, speed, heartbeat, tick and judging lag."""
    from streams.rules import TICK_S, default_rules, judge_lag_s

    return Context(
        default_rules(),
        speed=settings.sim_speed,
        heartbeat_s=settings.heartbeat_s,
        tick_s=TICK_S,
        judge_lag_s=judge_lag_s(settings.sim_max_lag_s),
    )


def latest_waits(truth: list[Fact]) -> list[Fact]:
    """The facts, with a step slowed several times by one fault kept once, as of its last wait:
    a step that waited on a system records each wait until its next try (runtime/tasks.py), and
    the last one says when it went on."""
    last: dict[tuple[str, str, str | None], Fact] = {}
    out: list[Fact] = []
    for t in truth:
        if t.effect != Effect.SLOW or not t.dossier_id or t.until is None:
            out.append(t)
            continue
        key = (t.fault, t.subject, t.dossier_id)
        seen = last.get(key)
        if seen is None or (seen.until is not None and t.until > seen.until):
            last[key] = t
    return out + list(last.values())


def expectations(truth: list[Fact], ctx: Context) -> list[Expected]:
    """What the monitor should catch."""
    truth = latest_waits(truth)
    out: list[Expected] = []
    by_dossier: dict[str, set[str]] = {}
    for t in truth:
        if t.dossier_id:
            by_dossier.setdefault(t.dossier_id, set()).add(t.effect)
    timeout = ctx.rules.link_timeout
    for t in truth:
        effect, dossier, at, until = t.effect, t.dossier_id, t.at, t.until
        if effect == Effect.DROP or (effect == Effect.DELAY and dossier and until and until - at > timeout):
            out.append(Expected("lost", t.subject, at + timeout, t.fault, dossier, until))
        elif effect == Effect.OUTAGE and dossier and until and until - at > timeout:
            out += _held(t, until, ctx)
        elif effect in (Effect.SLOW, Effect.STALL) and dossier and until:
            deadlines = [t.deadline] if t.deadline and until > t.deadline else []
            limit = ctx.rules.state_limit_working_days.get(t.state or "")
            if limit is not None and until > ctx.calendar.deadline(at, limit):
                deadlines.append(ctx.calendar.deadline(at, limit))
            if deadlines:
                out.append(Expected("stuck", t.subject, min(deadlines), t.fault, dossier, until))
        elif effect == Effect.DUPLICATE and dossier:
            out.append(Expected("duplicate", dossier, at, t.fault, dossier))
        elif (
            effect == Effect.BAD_DATA and dossier and t.fault in IDENTITY_BAD_DATA and not by_dossier[dossier] & LOSING
        ):
            out.append(Expected("data_quality", dossier, at, t.fault, dossier))
        elif effect == Effect.OUTAGE and not dossier and until and until - at > ctx.silence:
            out.append(Expected("agency", t.subject, at + ctx.silence, t.fault, None, until))
    out += _link_incidents(truth, ctx)
    return _one_per_receiver(out)


def _held(t: Fact, until: datetime, ctx: Context) -> list[Expected]:
    """A handoff its receiver's outage kept unread past the link timeout. The monitor judges
    deadlines `judging_lag` behind the clock: if the receipt came within that lag of the deadline,
    it reads the receipt first and reports a late lost handoff (resolved at once); if the handoff
    still waited well after (twice the lag: a busy monitor trails more), it holds it under an
    infrastructure incident on the receiver's work topic. In between either may be right, and
    nothing is expected (an alert raised is still judged by `explain`)."""
    due = t.at + ctx.rules.link_timeout
    waited = until - due
    if waited <= ctx.judging_lag - ctx.tick:
        return [Expected("lost", t.subject, due, t.fault, t.dossier_id, until)]
    if waited > 2 * ctx.judging_lag + ctx.tick:
        waits_at = "work:" + t.subject.rpartition("->")[2] + "/"
        return [Expected("infrastructure", waits_at, due, t.fault, None, until)]
    return []


def _one_per_receiver(expected: list[Expected]) -> list[Expected]:
    """The infrastructure incidents expected, one per fault and receiver: from the first handoff
    it held falling due to the last one's release."""
    merged: dict[tuple[str, str], Expected] = {}
    out: list[Expected] = []
    for e in expected:
        if e.kind != "infrastructure":
            out.append(e)
            continue
        seen = merged.get((e.fault, e.subject))
        if seen is None:
            merged[(e.fault, e.subject)] = e
            continue
        until = max((u for u in (seen.until, e.until) if u is not None), default=None)
        merged[(e.fault, e.subject)] = Expected(e.kind, e.subject, min(seen.due, e.due), e.fault, None, until)
    return out + list(merged.values())


def _link_incidents(truth: list[Fact], ctx: Context) -> list[Expected]:
    """Links that fail every transfer for a while: rebuild their failures, and expect an incident
    wherever `min_samples` of them fall within one window."""
    failures: dict[str, list[tuple[datetime, str]]] = {}
    for t in truth:
        if not t.dossier_id or t.effect not in (Effect.REJECT, Effect.PAYMENT_FAILED):
            continue
        times = [t.at]
        if t.effect == Effect.REJECT and t.until:
            step = RETRY_EVERY[Effect.REJECT]
            while times[-1] + step < t.until:
                times.append(times[-1] + step)
        failures.setdefault(t.subject, []).extend((x, t.fault) for x in times)
    out = []
    window, need = ctx.rules.link_window, ctx.rules.link_min_samples
    for link, fails in failures.items():
        fails.sort()
        open_until: datetime | None = None
        for i, (at, fault) in enumerate(fails):
            if open_until is not None and at - open_until <= window:
                open_until = at
                continue
            open_until = None
            recent = [x for x, _ in fails[max(0, i - need + 1) : i + 1] if at - x <= window]
            if len(recent) >= need:
                out.append(Expected("link", link, at, fault, None, None))
                open_until = at
    return out


def matches(e: Expected, alert: Finding, ctx: Context) -> bool:
    if alert.kind != e.kind:
        return False
    if e.kind in ("lost", "stuck"):
        return bool(alert.dossier_id == e.dossier_id and alert.subject == e.subject)
    if e.kind in PER_DOSSIER_FINDINGS:
        return bool(alert.dossier_id == e.dossier_id)
    window = ctx.rules.link_window
    if e.kind == "infrastructure":
        # Any partition of the receiver's work topic, open while the handoffs were held.
        end = (e.until or e.due) + window
        return bool(alert.subject.startswith(e.subject) and e.due - window <= alert.opened_at <= end)
    if alert.subject != e.subject or e.due < alert.opened_at - window:
        return False
    return alert.resolved_at is None or e.due <= alert.resolved_at + window


def score(truth: list[Fact], alerts: list[Finding], unfinished: list[str], ctx: Context) -> dict[str, Any]:
    expected = expectations(truth, ctx)
    by_key: dict[tuple[str, str | None], list[Finding]] = {}
    for a in alerts:
        by_key.setdefault((a.kind, a.dossier_id), []).append(a)
    caught: dict[str, list[bool]] = {k: [] for k in KINDS}
    delays: list[float] = []
    raise_lags: list[float] = []
    by_fault: dict[str, dict[str, int]] = {}
    for e in expected:
        pool = by_key.get((e.kind, e.dossier_id), []) if e.dossier_id else by_key.get((e.kind, None), [])
        hit = min((a for a in pool if matches(e, a, ctx)), key=lambda a: a.opened_at, default=None)
        caught[e.kind].append(hit is not None)
        f = by_fault.setdefault(e.fault, {"hits": 0, "expected": 0, "caught": 0})
        f["expected"] += 1
        f["caught"] += hit is not None
        if hit is not None and e.kind in ("lost", "stuck"):
            delays.append((hit.opened_at - e.due).total_seconds())
            if hit.raised_at is not None:
                raise_lags.append((hit.raised_at - hit.opened_at).total_seconds())
    for t in truth:
        f = by_fault.setdefault(t.fault, {"hits": 0, "expected": 0, "caught": 0})
        if t.effect in MEASURED:
            f["in_flight"] = f.get("in_flight", 0) + 1
        else:
            f["hits"] += 1
    whys = [(a, explain(a, truth, ctx)) for a in alerts]
    unexplained = [a for a, why in whys if why is None]
    figures = tally(caught, alerts, unexplained, unfinished)
    grouped = Counter(incident_of(a) for a in alerts)
    return {
        **figures,
        "detection_delay_s": {"p50": _percentile(delays, 50), "p99": _percentile(delays, 99)},
        "tick_s": ctx.tick_s * ctx.speed,
        "raise_lag_s": {"p50": _percentile(raise_lags, 50), "p99": _percentile(raise_lags, 99)},
        "explained_by": {r: sum(1 for _, why in whys if why is not None and why.rule == r) for r in RULES},
        "explanations": [
            {"id": a.id, "kind": a.kind, "dossier_id": a.dossier_id, "why": why.describe()}
            for a, why in whys
            if why is not None
        ],
        "findings_per_incident": {
            "mean": round(len(alerts) / len(grouped), 2) if grouped else None,
            "max": max(grouped.values(), default=None),
        },
        "missed": [
            {
                "kind": e.kind,
                "subject": e.subject,
                "dossier_id": e.dossier_id,
                "fault": e.fault,
                "due": e.due.isoformat(),
            }
            for e, ok in _zip_caught(expected, caught)
            if not ok
        ][:20],
        "by_fault": dict(sorted(by_fault.items())),
    }


def tally(
    caught: dict[str, list[bool]],
    alerts: list[Finding],
    unexplained: list[Finding],
    unfinished: list[str],
) -> dict[str, Any]:
    """The figures every way of scoring gives: recall per kind (`caught`: one bool per expected
    case), precision, false alerts, incidents, and the silent losses (accepted dossiers neither
    finished nor under an open alert)."""
    covered = {a.dossier_id for a in alerts if a.resolved_at is None and a.dossier_id}
    silent = [d for d in unfinished if d not in covered]
    return {
        "recall": {k: (round(sum(v) / len(v), 4) if v else None) for k, v in caught.items()},
        "precision": round(1 - len(unexplained) / len(alerts), 4) if alerts else None,
        "silent_losses": len(silent),
        "silent": silent[:20],
        "incidents": len({incident_of(a) for a in alerts}),
        "expected": {k: len(v) for k, v in caught.items()},
        "alerts": len(alerts),
        "false_alerts": {k: sum(1 for a in unexplained if a.kind == k) for k in KINDS},
        "unexplained_alerts": [{k: plain(getattr(a, k)) for k in SHOWN} for a in unexplained[:20]],
    }


def _zip_caught(expected: list[Expected], caught: dict[str, list[bool]]) -> Iterable[tuple[Expected, bool]]:
    positions: dict[str, int] = dict.fromkeys(KINDS, 0)
    for e in expected:
        yield e, caught[e.kind][positions[e.kind]]
        positions[e.kind] += 1


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[idx], 1)


async def collect(database_url: str) -> tuple[list[Fact], list[Finding], list[str]]:
    """Ground truth, every alert, and the accepted dossiers not finished."""
    import asyncpg

    from services.portal import queries as portal
    from simulation.faults import truth
    from streams import queries, store

    conn = await asyncpg.connect(database_url)
    try:
        facts = await truth.read(conn)
        alerts: list[Finding] = []
        if await queries.installed(conn):
            alerts = await store.findings(conn)
        unfinished = await portal.in_progress(conn)
    finally:
        await conn.close()
    return facts, alerts, unfinished


async def monitored(database_url: str) -> int:
    """How many lifecycle events the monitor stored: 0 when no run was watched."""
    import asyncpg

    from streams import queries

    conn = await asyncpg.connect(database_url)
    try:
        return await queries.event_count(conn)
    finally:
        await conn.close()


__all__ = [
    "KINDS",
    "RULES",
    "Context",
    "Expected",
    "Why",
    "collect",
    "expectations",
    "explain",
    "explained",
    "matches",
    "plain",
    "score",
    "tally",
]
