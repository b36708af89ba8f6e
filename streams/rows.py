"""The shapes the monitor's read API answers with (streams/queries.py, streams/console.py): one
TypedDict per answer, so the console, the operator's tools and the harness read named fields that
mypy checks. Times are ISO 8601 strings where a row goes to a browser as it is (`jsonable`), and
`datetime`s where the caller computes with them."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict


class AlertHead(TypedDict):
    """What every answer about a finding or an incident carries first (JSON)."""

    id: int
    kind: str
    severity: str
    subject: str
    dossier_id: str | None
    detail: str
    due_at: str | None
    opened_at: str
    raised_at: str | None


class AlertRow(AlertHead):
    """An incident: its head finding, with what its findings say together."""

    resolved_at: str | None
    resolved_how: str | None
    findings: int
    acknowledged_at: str | None
    acknowledged_by: str | None
    flow: str | None
    commune: str | None


class AlertChange(AlertRow):
    changed_at: str


class IncidentRow(AlertRow):
    """An incident with its dossier's context, as the console's queue and panel need it."""

    code: str | None
    sender: str | None
    to_agency: str | None
    to_step: str | None
    sent_at: str | None
    at_agency: str | None
    at_step: str | None
    since: str | None
    closed: str | None
    appointment_at: str | None


class Acknowledged(TypedDict):
    id: int
    kind: str
    subject: str
    acknowledged_at: str
    acknowledged_by: str


class AlertEnds(TypedDict):
    id: int
    resolved_at: str | None
    resolved_how: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None


class EventRow(TypedDict):
    """One lifecycle event, its payload without personal data."""

    event_id: str
    type: str
    agency: str
    step: str | None
    occurred_at: str
    payload: dict[str, object]


class Timeline(TypedDict):
    dossier_id: str
    events: list[EventRow]
    alerts: list[AlertRow]


class DossierView(TypedDict):
    dossier_id: str
    code: str | None
    events: list[EventRow]
    incidents: list[IncidentRow]


class AgencyHealth(TypedDict):
    agency: str
    completed: int
    refused: int
    last_event: str


class LinkHealthRow(TypedDict):
    link: str
    sent: int
    errors: int
    error_rate: float | None
    backlog: int


class Health(TypedDict):
    agencies: list[AgencyHealth]
    links: list[LinkHealthRow]
    window_hours: float
    until: str


class Found(TypedDict):
    dossier_id: str
    code: str | None


class Described(TypedDict):
    dossier_id: str
    chain: str | None
    commune: str | None
    code: str | None
    closed: str | None


class DueRow(TypedDict):
    dossier_id: str
    chain: str | None
    commune: str | None
    due_at: datetime
    code: str | None
    steps_done: int


class DeskRow(TypedDict):
    chain: str | None
    agency: str
    step: str
    waiting: int
    oldest: datetime


class AreaRow(TypedDict):
    district: str | None
    commune: str | None
    overdue: int
    in_progress: int
    open_by_kind: dict[str, int]


class OverdueRow(TypedDict):
    dossier_id: str
    chain: str | None
    due_at: datetime
    submitted_at: datetime
    code: str | None


class IncidentCount(TypedDict):
    kind: str
    severity: str
    agency: str
    flow: str
    n: int
    oldest_due: datetime | None


class ThroughputDay(TypedDict):
    day: str
    submitted: int
    closed: int


class StepHoursDay(TypedDict):
    day: str
    p50: float


class Series(TypedDict):
    """Per sim day: dossiers submitted and closed, incidents opened by kind (`day` and one count
    per kind), the median step time in hours."""

    throughput: list[ThroughputDay]
    alerts: list[dict[str, str | int]]
    step_hours: list[StepHoursDay]


class RaisedAlert(AlertHead):
    """A finding as the monitor publishes it on its alerts topic when it opens (JSON)."""

    incident_id: int | None
