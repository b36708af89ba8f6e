"""Prometheus metrics of a process, and the `/metrics` route that serves them (text format 0.0.4).

One registry per process (prometheus_client's default): every service, the monitor and the
dashboard expose what they counted. Durations are in sim seconds, the unit deadlines are in.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from contracts.envelope import Event
from contracts.event_types import LINK_ERROR
from contracts.payloads import link_error

EVENTS = Counter("lienthong_events_total", "Lifecycle events written, by writer and type", ["agency", "type"])
HANDOFF_ERRORS = Counter("lienthong_handoff_errors_total", "Failed transfer attempts (link.error), by link", ["link"])
STEP_SECONDS = Histogram(
    "lienthong_step_duration_sim_seconds",
    "Sim time from a step's handoff to its completion or refusal",
    ["agency", "step"],
    buckets=(600, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 3 * 86400, 5 * 86400, 10 * 86400, 20 * 86400),
)
CONSUMER_LAG = Gauge(
    "lienthong_consumer_lag",
    "Messages not yet read, by consumer, topic and partition",
    ["consumer", "topic", "partition"],
)
OPEN_ALERTS = Gauge("lienthong_open_alerts", "The monitor's open alerts, by kind", ["kind"])
OPEN_INCIDENTS = Gauge(
    "lienthong_open_incidents",
    "The monitor's open incidents, by kind, severity, the agency where they wait and the flow",
    ["kind", "severity", "agency", "flow"],
)
OLDEST_OVERDUE = Gauge(
    "lienthong_oldest_overdue_working_days",
    "Working days the oldest open incident is past its deadline, by kind and agency (the monitor's judged time)",
    ["kind", "agency"],
)

INCIDENT_OVERDUE = Gauge(
    "lienthong_incident_overdue_working_days",
    "Each open lost or stuck incident (the most overdue first, at most a few hundred): working days "
    "past its deadline, with what a notification names (the console's words)",
    ["dossier", "code", "commune", "place", "kind", "kind_vi", "severity", "agency", "flow"],
)


def count_events(agency: str, events: Iterable[Event]) -> None:
    for e in events:
        EVENTS.labels(agency, e.type).inc()
        if e.type == LINK_ERROR:
            HANDOFF_ERRORS.labels(f"{e.agency}->{link_error(e)['to']}").inc()


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


async def metrics(_request: web.Request) -> web.Response:
    body, content_type = render()
    return web.Response(body=body, headers={"Content-Type": content_type})


def metrics_route() -> web.RouteDef:
    return web.get("/metrics", metrics)
