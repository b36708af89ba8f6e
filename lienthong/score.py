"""`lienthong score`: the monitor's alerts against the ground truth of the injected faults.

What should have been caught follows from each recorded hit and the product's rules (the link
timeout, the state limits and the link-error thresholds of streams/rules.yaml, the SLAs of the
chain data):
- lost: a handoff dropped, or delivered (late, or after an outage) more than the link timeout
  after it was sent; due at sent + timeout, on that link, for that dossier;
- stuck: a slowed or stalled step that ends after its SLA deadline, or stays in a state past the
  state's limit; due at the first deadline missed;
- link: a link that refuses every transfer (overload) or a payment service that fails every
  payment, failing `min_samples` times within the window; due at that failure;
- agency: an outage longer than the monitor's silence limit (three heartbeats, in sim time);
- duplicate: a handoff delivered twice; due at the second delivery;
- data_quality: an accepted dossier with bad identity data, unless a fault lost it before a
  checking agency saw it.
Faults with nothing to catch (retried transfer errors, reordered events, killed and restarted
processes) are "tolerated": the dossier must still finish, and any alert they cause counts as
explained. An alert is explained when a hit accounts for it (same dossier, or same link or agency
at the time); precision is the share of alerts explained. Detection delay is the sim seconds from
the due time to the alert's `opened_at`, over the lost and stuck alerts that were expected; the
raise lag is how far behind the sim clock the monitor wrote them (`raised_at − opened_at`: the
watermark's safety lag plus any backlog), reported beside it so a slow monitor shows.
Silent losses are accepted dossiers neither finished nor covered by an open alert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts.calendar import WorkingCalendar
from streams.incidents import incident_of
from streams.rules import Rules

KINDS = ("lost", "stuck", "link", "agency", "duplicate", "data_quality")
IDENTITY_BAD_DATA = frozenset({"identity_mismatch", "wrong_sex_or_year"})
LOSING = frozenset({"drop"})
DELAYING = frozenset(
    {"drop", "delay", "outage", "slow", "stall", "error", "transfer_error", "reject", "duplicate", "reorder"}
)
LINK_ERRORS = frozenset({"reject", "transfer_error", "error", "payment_failed"})
PROCESS = frozenset({"kill", "drop_connections"})
RETRY_EVERY = {"reject": timedelta(minutes=20), "transfer_error": timedelta(minutes=30)}
"""How often the senders retried (simulation/faults/inject.py), to rebuild a link's failures."""
BROKER_LOSS_S = 10.0
"""Real seconds before a broker crash whose messages may have been in flight and lost."""
AFTERMATH = 100
"""How many such spans after a crashed process its delays and redeliveries are blamed on it:
restarts, group rejoins and replayed outboxes settle within that (about 17 real minutes)."""
CATCH_UP_S = 30.0
"""Real seconds after a process fault (or after its recorded recovery) during which a restarted
service's backlog may reach its receivers late: measured ~20 s for hotich after the broker
crash on the faults week at speed 25,000 (a restart and its group rejoin, then the burst)."""


@dataclass(frozen=True)
class Expected:
    kind: str
    subject: str
    due: datetime
    fault: str
    dossier_id: str | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Context:
    rules: Rules
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    speed: float = 1.0
    heartbeat_s: float = 1.0
    tick_s: float = 0.5

    @property
    def silence(self) -> timedelta:
        return timedelta(seconds=3 * self.heartbeat_s * self.speed)


def expectations(truth: list[dict[str, Any]], ctx: Context) -> tuple[list[Expected], dict[str, set[str]]]:
    """What the monitor should catch, and the faults each dossier suffered."""
    out: list[Expected] = []
    by_dossier: dict[str, set[str]] = {}
    for t in truth:
        if t["dossier_id"]:
            by_dossier.setdefault(t["dossier_id"], set()).add(t["effect"])
    timeout = ctx.rules.link_timeout
    for t in truth:
        effect, dossier, at, until = t["effect"], t["dossier_id"], t["at"], t["until"]
        if effect == "drop" or (effect in ("delay", "outage") and dossier and until and until - at > timeout):
            out.append(Expected("lost", t["subject"], at + timeout, t["fault"], dossier, until))
        elif effect in ("slow", "stall") and dossier and until:
            deadlines = [t["deadline"]] if t["deadline"] and until > t["deadline"] else []
            limit = ctx.rules.state_limit_working_days.get(t["state"] or "")
            if limit is not None and until > ctx.calendar.deadline(at, limit):
                deadlines.append(ctx.calendar.deadline(at, limit))
            if deadlines:
                out.append(Expected("stuck", t["subject"], min(deadlines), t["fault"], dossier, until))
        elif effect == "duplicate" and dossier:
            out.append(Expected("duplicate", dossier, at, t["fault"], dossier))
        elif effect == "bad_data" and t["fault"] in IDENTITY_BAD_DATA and not by_dossier[dossier] & LOSING:
            out.append(Expected("data_quality", dossier, at, t["fault"], dossier))
        elif effect == "outage" and not dossier and until and until - at > ctx.silence:
            out.append(Expected("agency", t["subject"], at + ctx.silence, t["fault"], None, until))
    out += _link_incidents(truth, ctx)
    return out, by_dossier


def _link_incidents(truth: list[dict[str, Any]], ctx: Context) -> list[Expected]:
    """Links that fail every transfer for a while: rebuild their failures, and expect an incident
    wherever `min_samples` of them fall within one window."""
    failures: dict[str, list[tuple[datetime, str]]] = {}
    for t in truth:
        if not t["dossier_id"] or t["effect"] not in ("reject", "payment_failed"):
            continue
        times = [t["at"]]
        if t["effect"] == "reject" and t["until"]:
            step = RETRY_EVERY["reject"]
            while times[-1] + step < t["until"]:
                times.append(times[-1] + step)
        failures.setdefault(t["subject"], []).extend((x, t["fault"]) for x in times)
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


def explained(
    alert: dict[str, Any], truth: list[dict[str, Any]], by_dossier: dict[str, set[str]], ctx: Context
) -> bool:
    """Whether some injected fault accounts for this alert."""
    kind, dossier = alert["kind"], alert["dossier_id"]
    effects = by_dossier.get(dossier or "", set())
    lag = timedelta(seconds=BROKER_LOSS_S * ctx.speed)
    # A broker crash's effect lasts until every consumer rejoined (recorded as its `until`).
    broker_kills = [(t["at"], t["until"] or t["at"]) for t in truth if t["subject"] == "process:broker"]
    if kind == "data_quality":
        return "bad_data" in effects
    if kind == "duplicate":
        return "duplicate" in effects or bool(_near(alert["opened_at"], _process_times(truth), lag))
    if kind == "lost":
        sent = alert["due_at"] - ctx.rules.link_timeout if alert["due_at"] else alert["opened_at"]
        if any(
            t["dossier_id"] == dossier
            and t["subject"] == alert["subject"]
            and t["effect"] in ("drop", "delay", "outage")
            for t in truth
        ):
            return True
        # A receiver in an outage acknowledges what was sent to it meanwhile only when it is back.
        receiver = "agency:" + alert["subject"].split("->")[-1]
        if any(
            t["effect"] == "outage"
            and t["subject"] == receiver
            and t["at"] - lag <= sent <= (t["until"] or t["at"]) + lag
            for t in truth
        ):
            return True
        # A crashed receiver (or broker) leaves what was sent to it meanwhile unacknowledged.
        crashes = [(t["at"], t["at"]) for t in truth if t["effect"] in PROCESS and t["subject"] == receiver]
        if any(at - lag <= sent <= back + lag for at, back in [*broker_kills, *crashes]):
            return True
        # After any process fault a restarted service catches up in a burst, and its receivers
        # acknowledge late for a while: late, not lost (the alert closed), within the catch-up.
        catch_up = timedelta(seconds=CATCH_UP_S * ctx.speed)
        ends = [t["until"] or t["at"] for t in truth if t["effect"] in PROCESS]
        return alert["resolved_at"] is not None and any(end - lag <= sent <= end + catch_up for end in ends)
    if kind == "stuck":
        return bool(effects & (DELAYING | {"bad_data"})) or bool(_near(alert["opened_at"], _process_times(truth), lag))
    if kind == "link":
        return any(t["subject"] == alert["subject"] and t["effect"] in LINK_ERRORS for t in truth)
    if kind == "agency":
        agency = alert["subject"]
        return any(
            (t["subject"] in (agency, "process:broker") and t["effect"] in (PROCESS | {"outage"})) for t in truth
        )
    return False


def _process_times(truth: list[dict[str, Any]]) -> list[datetime]:
    return [t["at"] for t in truth if t["effect"] in PROCESS]


def _near(at: datetime, times: Iterable[datetime], lag: timedelta) -> list[datetime]:
    return [t for t in times if t - lag <= at <= t + AFTERMATH * lag]


def matches(e: Expected, alert: dict[str, Any], ctx: Context) -> bool:
    if alert["kind"] != e.kind:
        return False
    if e.kind in ("lost", "stuck"):
        return bool(alert["dossier_id"] == e.dossier_id and alert["subject"] == e.subject)
    if e.kind in ("duplicate", "data_quality"):
        return bool(alert["dossier_id"] == e.dossier_id)
    window = ctx.rules.link_window
    if alert["subject"] != e.subject or e.due < alert["opened_at"] - window:
        return False
    return alert["resolved_at"] is None or e.due <= alert["resolved_at"] + window


def score(
    truth: list[dict[str, Any]], alerts: list[dict[str, Any]], unfinished: list[str], ctx: Context
) -> dict[str, Any]:
    expected, by_dossier = expectations(truth, ctx)
    by_key: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for a in alerts:
        by_key.setdefault((a["kind"], a["dossier_id"]), []).append(a)
    caught: dict[str, list[bool]] = {k: [] for k in KINDS}
    delays: list[float] = []
    raise_lags: list[float] = []
    by_fault: dict[str, dict[str, int]] = {}
    for e in expected:
        pool = by_key.get((e.kind, e.dossier_id), []) if e.dossier_id else by_key.get((e.kind, None), [])
        hit = min((a for a in pool if matches(e, a, ctx)), key=lambda a: a["opened_at"], default=None)
        caught[e.kind].append(hit is not None)
        f = by_fault.setdefault(e.fault, {"hits": 0, "expected": 0, "caught": 0})
        f["expected"] += 1
        f["caught"] += hit is not None
        if hit is not None and e.kind in ("lost", "stuck"):
            delays.append((hit["opened_at"] - e.due).total_seconds())
            if hit.get("raised_at") is not None:
                raise_lags.append((hit["raised_at"] - hit["opened_at"]).total_seconds())
    for t in truth:
        by_fault.setdefault(t["fault"], {"hits": 0, "expected": 0, "caught": 0})["hits"] += 1
    unexplained = [a for a in alerts if not explained(a, truth, by_dossier, ctx)]
    covered = {a["dossier_id"] for a in alerts if a["resolved_at"] is None and a["dossier_id"]}
    silent = [d for d in unfinished if d not in covered]
    grouped = Counter(incident_of(a) for a in alerts)
    return {
        "recall": {k: (round(sum(v) / len(v), 4) if v else None) for k, v in caught.items()},
        "precision": round(1 - len(unexplained) / len(alerts), 4) if alerts else None,
        "detection_delay_s": {"p50": _percentile(delays, 50), "p99": _percentile(delays, 99)},
        "tick_s": ctx.tick_s * ctx.speed,
        "raise_lag_s": {"p50": _percentile(raise_lags, 50), "p99": _percentile(raise_lags, 99)},
        "silent_losses": len(silent),
        "expected": {k: len(v) for k, v in caught.items()},
        "alerts": len(alerts),
        "false_alerts": {k: sum(1 for a in unexplained if a["kind"] == k) for k in KINDS},
        "incidents": len(grouped),
        "findings_per_incident": {
            "mean": round(len(alerts) / len(grouped), 2) if grouped else None,
            "max": max(grouped.values(), default=None),
        },
        "unexplained_alerts": [
            {k: _plain(a[k]) for k in ("id", "kind", "subject", "dossier_id", "opened_at")} for a in unexplained[:20]
        ],
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
        "silent": silent[:20],
        "by_fault": dict(sorted(by_fault.items())),
    }


def _zip_caught(expected: list[Expected], caught: dict[str, list[bool]]) -> Iterable[tuple[Expected, bool]]:
    positions = dict.fromkeys(KINDS, 0)
    for e in expected:
        yield e, caught[e.kind][positions[e.kind]]
        positions[e.kind] += 1


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[idx], 1)


def _plain(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


async def collect(database_url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Ground truth, every alert, and the accepted dossiers not finished."""
    import asyncpg

    from simulation.faults import truth
    from streams import store

    conn = await asyncpg.connect(database_url)
    try:
        facts = await truth.read(conn)
        alerts: list[dict[str, Any]] = []
        if await conn.fetchval("SELECT to_regclass('monitor.alerts') IS NOT NULL"):
            alerts = await store.findings(conn)
        unfinished = [
            r["dossier_id"]
            for r in await conn.fetch("SELECT dossier_id FROM portal.dossiers WHERE status = 'in_progress'")
        ]
    finally:
        await conn.close()
    return facts, alerts, unfinished


async def monitored(database_url: str) -> int:
    """How many lifecycle events the monitor stored: 0 when no run was watched."""
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        if not await conn.fetchval("SELECT to_regclass('monitor.events') IS NOT NULL"):
            return 0
        return int(await conn.fetchval("SELECT count(*) FROM monitor.events"))
    finally:
        await conn.close()
