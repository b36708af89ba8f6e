"""The console's funnel, per flow and step, from the monitor's event log: how many dossiers reached
the step (their handoff was received), how many finished it (completed or refused, after they
reached it), how many still wait; the share finished by the step's deadline (the one its agency
set when it started the step, on the working calendar); median and p90 from receipt to finish in
office hours; and a row for dossiers lost between steps (an open lost incident).

An earlier version counted `step.started` as finished: every step showed 100 % on time and a
median of 0 hours (tests/integration/test_dashboard_funnel.py; the faults e2e run compares the
console's numbers with a count written in SQL).
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any, TypedDict

from contracts.calendar import WorkingCalendar
from contracts.chains import Chain
from runtime.conn import Conn

STEPS_SQL = """
WITH r AS (
    SELECT dossier_id, min(chain) AS chain, agency, step, min(occurred_at) AS received
    FROM monitor.events WHERE type = 'handoff.received' AND step IS NOT NULL
    GROUP BY dossier_id, agency, step
), d AS (
    SELECT dossier_id, agency, step,
           min(occurred_at) FILTER (WHERE type IN ('step.completed', 'step.rejected')) AS done,
           bool_or(type = 'step.rejected') AS refused,
           max(payload ->> 'deadline') FILTER (WHERE type = 'step.started') AS deadline
    FROM monitor.events WHERE type IN ('step.completed', 'step.rejected', 'step.started')
    GROUP BY dossier_id, agency, step
)
SELECT r.chain, r.agency, r.step, r.received, d.done, coalesce(d.refused, false) AS refused, d.deadline
FROM r LEFT JOIN d USING (dossier_id, agency, step)
"""
HEADS_SQL = (
    "SELECT chain, count(*) FILTER (WHERE type = 'dossier.submitted') AS submitted, "
    "count(*) FILTER (WHERE type = 'dossier.closed') AS closed "
    "FROM monitor.events WHERE type IN ('dossier.submitted', 'dossier.closed') GROUP BY chain"
)
LEGAL_SQL = """
SELECT s.chain, count(*) AS closed,
       count(*) FILTER (WHERE c.occurred_at <= (s.payload ->> 'due_at')::timestamptz) AS on_time
FROM monitor.events s
JOIN LATERAL (SELECT min(occurred_at) AS occurred_at FROM monitor.events c
              WHERE c.dossier_id = s.dossier_id AND c.type = 'dossier.closed') c ON c.occurred_at IS NOT NULL
WHERE s.type = 'dossier.submitted' AND s.payload ? 'due_at'
GROUP BY s.chain
"""
"""Per flow, the closed dossiers and those closed by their legal deadline (the appointment date
the citizen was given): time lost between agencies counts here, as it counts nowhere per step."""
LOST_SQL = (
    "SELECT s.chain, count(DISTINCT a.dossier_id) AS n FROM monitor.alerts a "
    "JOIN monitor.events s ON s.dossier_id = a.dossier_id AND s.type = 'dossier.submitted' "
    "WHERE a.kind = 'lost' AND a.resolved_at IS NULL GROUP BY s.chain"
)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1], 2)


class StepFunnel(TypedDict):
    step: str
    agency: str
    label_vi: str
    sla_working_days: float
    reached: int
    finished: int
    waiting: int
    refused: int
    on_time: int
    within_sla: float | None
    p50_working_hours: float | None
    p90_working_hours: float | None


class FlowFunnel(TypedDict):
    flow: str
    title_vi: str
    submitted: int
    closed: int
    lost_between_steps: int
    on_time_legal: float | None
    steps: list[StepFunnel]


async def funnel(conn: Conn, chains: dict[str, Chain], calendar: WorkingCalendar) -> list[FlowFunnel]:
    rows = await conn.fetch(STEPS_SQL)
    heads = {h["chain"]: h for h in await conn.fetch(HEADS_SQL)}
    lost = {r["chain"]: r["n"] for r in await conn.fetch(LOST_SQL)}
    legal = {r["chain"]: r for r in await conn.fetch(LEGAL_SQL)}
    by_step: dict[tuple[str, str, str], list[Any]] = {}
    for r in rows:
        by_step.setdefault((r["chain"], r["agency"], r["step"]), []).append(r)
    out: list[FlowFunnel] = []
    for name, chain in chains.items():
        steps: list[StepFunnel] = []
        for step in chain.steps:
            mine = by_step.get((name, step.agency, step.name), [])
            finished = [r for r in mine if r["done"] is not None and r["done"] >= r["received"]]
            with_deadline = [r for r in finished if r["deadline"]]
            on_time = sum(1 for r in with_deadline if r["done"] <= datetime.fromisoformat(r["deadline"]))
            hours = [calendar.working_hours_between(r["received"], r["done"]) for r in finished]
            steps.append(
                {
                    "step": step.name,
                    "agency": step.agency,
                    "label_vi": step.label_vi,
                    "sla_working_days": step.sla_working_days,
                    "reached": len(mine),
                    "finished": len(finished),
                    "waiting": len(mine) - len(finished),
                    "refused": sum(1 for r in finished if r["refused"]),
                    "on_time": on_time,
                    "within_sla": round(on_time / len(with_deadline), 4) if with_deadline else None,
                    "p50_working_hours": _quantile(hours, 0.5),
                    "p90_working_hours": _quantile(hours, 0.9),
                }
            )
        head = heads.get(name)
        out.append(
            {
                "flow": name,
                "title_vi": chain.title_vi,
                "submitted": head["submitted"] if head else 0,
                "closed": head["closed"] if head else 0,
                "lost_between_steps": lost.get(name, 0),
                "on_time_legal": (
                    round(legal[name]["on_time"] / legal[name]["closed"], 4) if legal.get(name) else None
                ),
                "steps": steps,
            }
        )
    return out
