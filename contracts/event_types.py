"""The lifecycle event types, a constant each: code names `HANDOFF_SENT`, so a typo fails at
import instead of becoming an event type nothing ever matches. The payload each one carries is
in `contracts/envelope.py` (`PAYLOAD_SCHEMAS`)."""

from __future__ import annotations

DOSSIER_SUBMITTED = "dossier.submitted"
HANDOFF_SENT = "handoff.sent"
HANDOFF_RECEIVED = "handoff.received"
STEP_STARTED = "step.started"
STEP_STATE = "step.state"
STEP_COMPLETED = "step.completed"
STEP_REJECTED = "step.rejected"
LINK_ERROR = "link.error"
RESULT_SYNCED = "result.synced"
DOSSIER_CLOSED = "dossier.closed"
AGENCY_HEARTBEAT = "agency.heartbeat"
CLOCK_MARK = "clock.mark"

ALL: tuple[str, ...] = (
    DOSSIER_SUBMITTED,
    HANDOFF_SENT,
    HANDOFF_RECEIVED,
    STEP_STARTED,
    STEP_STATE,
    STEP_COMPLETED,
    STEP_REJECTED,
    LINK_ERROR,
    RESULT_SYNCED,
    DOSSIER_CLOSED,
    AGENCY_HEARTBEAT,
    CLOCK_MARK,
)
