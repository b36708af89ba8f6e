"""The monitor's gauges, read at scrape time: open alerts by kind, open incidents by kind,
severity, agency and flow with the oldest overdue in working days (what the shipped Prometheus
rules alert on, deploy/prometheus/), and how far the worker trails each partition."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka.errors import KafkaError

from contracts.alerts import AlertKind
from contracts.calendar import WorkingCalendar
from runtime.metrics import CONSUMER_LAG, OLDEST_OVERDUE, OPEN_ALERTS, OPEN_INCIDENTS
from streams import queries
from streams.rows import IncidentCount


def incident_gauges(incidents: list[IncidentCount], calendar: WorkingCalendar, judged: datetime | None) -> None:
    """Open incidents per label set, and the oldest overdue in working days at the judged time;
    a label set with nothing open any more leaves the scrape (its alert resolves)."""
    OPEN_INCIDENTS.clear()
    OLDEST_OVERDUE.clear()
    oldest: dict[tuple[str, str], int] = {}
    for r in incidents:
        OPEN_INCIDENTS.labels(r["kind"], r["severity"], r["agency"], r["flow"]).set(r["n"])
        if judged is not None and r["oldest_due"] is not None:
            key = (r["kind"], r["agency"])
            oldest[key] = max(oldest.get(key, 0), calendar.working_days_overdue(r["oldest_due"], judged))
    for (kind, agency), days in oldest.items():
        OLDEST_OVERDUE.labels(kind, agency).set(days)


async def refresh(pool: asyncpg.Pool | None, consumer: Any, calendar: WorkingCalendar, judged: datetime | None) -> None:
    if pool is not None:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT kind, count(*) AS n FROM monitor.alerts WHERE resolved_at IS NULL GROUP BY kind"
            )
            incidents = await queries.open_incident_counts(conn)
        counts = {r["kind"]: r["n"] for r in rows}
        for kind in AlertKind:
            OPEN_ALERTS.labels(kind).set(counts.get(kind, 0))
        incident_gauges(incidents, calendar, judged)
    tps = sorted(consumer.assignment())
    if not tps:
        return
    with contextlib.suppress(KafkaError, TimeoutError, AssertionError):
        ends = await consumer.highwaters(*tps)
        for tp in tps:
            read = consumer._read_offset.get(tp)
            lag = ends[tp] - (read + 1 if read is not None else 0)
            CONSUMER_LAG.labels("monitor", tp.topic, str(tp.partition)).set(max(0, lag))
