"""The monitor's vocabulary, typed: the kinds of alert it raises, their severities, and the
effects a fault (or the harness) records in the ground truth. String enums, so they compare equal
to the text stored in PostgreSQL and sent as JSON, and a misspelt kind fails type checking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlertKind(StrEnum):
    LOST = "lost"
    """A handoff sent and not received within the link timeout."""
    STUCK = "stuck"
    """A step, an intermediate state or the appointment date past its deadline."""
    LINK = "link"
    """A link failing transfers past its threshold within its window."""
    AGENCY = "agency"
    """An agency silent past three heartbeats."""
    DUPLICATE = "duplicate"
    """One handoff delivered twice."""
    DATA_QUALITY = "data_quality"
    """A dossier refused for its identity data."""
    CONTRACT = "contract"
    """An agency's step.completed without the result fields its chain declares for the step (a
    system's bug, not the citizen's)."""
    INFRASTRUCTURE = "infrastructure"
    """Handoffs past their link timeout that wait behind a partition with no leader or a consumer
    group that has not read them (streams/backlog.py): one incident per partition."""


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY: dict[AlertKind, Severity] = {
    AlertKind.LOST: Severity.HIGH,
    AlertKind.STUCK: Severity.MEDIUM,
    AlertKind.LINK: Severity.HIGH,
    AlertKind.AGENCY: Severity.HIGH,
    AlertKind.DUPLICATE: Severity.LOW,
    AlertKind.DATA_QUALITY: Severity.LOW,
    AlertKind.CONTRACT: Severity.MEDIUM,
    AlertKind.INFRASTRUCTURE: Severity.HIGH,
}


PER_DOSSIER_FINDINGS = frozenset({AlertKind.DUPLICATE, AlertKind.DATA_QUALITY, AlertKind.CONTRACT})
"""Findings whose subject is the dossier itself (not a link, an agency or a step's deadline)."""


class Effect(StrEnum):
    """What a recorded fact did: a fault's effect, or what the harness measured at a process fault."""

    OUTAGE = "outage"
    TRANSFER_ERROR = "transfer_error"
    PAYMENT_FAILED = "payment_failed"
    SLOW = "slow"
    ERROR = "error"
    DROP = "drop"
    DELAY = "delay"
    REJECT = "reject"
    STALL = "stall"
    DUPLICATE = "duplicate"
    REORDER = "reorder"
    KILL = "kill"
    FREEZE = "freeze"
    """A process stopped (SIGSTOP) for some real seconds, then resumed: a hung process."""
    DROP_CONNECTIONS = "drop_connections"
    BAD_DATA = "bad_data"
    """Bad identity data the workload planted."""
    IN_FLIGHT = "in_flight"
    """A message the harness found in flight at a process fault (measured, not a fault)."""


@dataclass(frozen=True)
class Finding:
    """One finding of the monitor (a row of its alerts table): what it judged, about what, when,
    and how it ended. Findings of one dossier that share a cause form an incident
    (streams/incidents.py), whose head has no `incident_id`."""

    id: int
    kind: AlertKind
    severity: Severity
    subject: str
    """`link:hotich->cutru`, `step:hotich/register_birth`, `agency:bhxh`, `work:cutru/3`, `dossier`…"""
    dossier_id: str | None
    opened_at: datetime
    """The judged sim time that proved it."""
    due_at: datetime | None = None
    raised_at: datetime | None = None
    """The sim clock when the monitor wrote it."""
    resolved_at: datetime | None = None
    resolved_how: str | None = None
    key: str = ""
    detail: str = ""
    incident_id: int | None = None

    @property
    def incident(self) -> int:
        """The incident it belongs to: its head's id."""
        return self.incident_id or self.id
