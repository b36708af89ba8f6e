"""The event envelope every message uses, its payload schemas, and parsing at the edges."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from contracts.chains import CHAIN_NAMES
from contracts.errors import ContractError, Problem
from contracts.event_types import (
    AGENCY_HEARTBEAT,
    ALL,
    CLOCK_MARK,
    DOSSIER_CLOSED,
    DOSSIER_SUBMITTED,
    HANDOFF_RECEIVED,
    HANDOFF_SENT,
    LINK_ERROR,
    RESULT_SYNCED,
    STEP_COMPLETED,
    STEP_REJECTED,
    STEP_STARTED,
    STEP_STATE,
)
from contracts.states import DossierState
from contracts.topics import AGENCIES
from contracts.validation import Schema, compile_schema

SCHEMA_VERSION = 1
MAX_EVENT_BYTES = 256 * 1024
"""The largest message the contract accepts: a handoff with its whole dossier is a few kilobytes;
anything far larger is refused (dead-lettered) rather than parsed."""

EVENT_TYPES: tuple[str, ...] = ALL
DOSSIERLESS_TYPES = frozenset({AGENCY_HEARTBEAT, CLOCK_MARK})
SOURCES: tuple[str, ...] = (*AGENCIES, "monitor")
"""Who may emit events: the agencies, and the monitor (its clock marks only)."""

_ROUTE: Schema = {
    "type": "object",
    "required": ["agency", "step"],
    "properties": {"agency": {"type": "string", "enum": list(AGENCIES)}, "step": {"type": "string"}},
}
_OUTCOME: Schema = {"type": "string", "enum": ["completed", "rejected"]}

PAYLOAD_SCHEMAS: dict[str, Schema] = {
    DOSSIER_SUBMITTED: {
        "type": "object",
        "required": ["channel", "procedures", "area"],
        "properties": {
            "channel": {"type": "string", "enum": ["online", "vneid", "in_person"]},
            "procedures": {"type": "array", "items": {"type": "string"}},
            "area": {"type": "object"},
            "fee_bearing": {"type": "boolean"},
            "paid_online": {"type": "boolean"},
            "paid_on": {"type": "string", "enum": ["national", "provincial"]},
            "exempt_reason": {
                "type": "string",
                "description": "why a dossier of a fee-bearing procedure bears no fee (contracts/dossiers.py)",
            },
            "return_by_post": {"type": "boolean"},
            "needs_verification": {"type": "boolean"},
            "expected_results": {"type": "array", "items": {"type": "string"}},
            "due_at": {
                "type": "string",
                "format": "date-time",
                "description": "the appointment date: the chain's group SLA counted in working days",
            },
        },
    },
    HANDOFF_SENT: {
        "description": "On an agency's work topic it carries the dossier and earlier results; "
        "the copy on the dossier-events topic carries only the routing fields.",
        "type": "object",
        "required": ["to", "to_step"],
        "properties": {
            "to": {"type": "string", "enum": list(AGENCIES)},
            "to_step": {"type": "string", "minLength": 1},
            "dossier": {"type": "object"},
            "results": {"type": "object"},
            "next": {"type": "array", "items": _ROUTE},
            "outcome": _OUTCOME,
            "reason": {"type": "string"},
            "code": {"type": "string"},
            "via": {"type": "string", "description": "integration bus the handoff travels on"},
            "delivered_at": {
                "type": "string",
                "format": "date-time",
                "description": "when a delayed link delivers it, if later than it was sent; the receiver "
                "records its receipt then",
            },
        },
    },
    HANDOFF_RECEIVED: {
        "type": "object",
        "required": ["from", "sent_event_id"],
        "properties": {"from": {"type": "string"}, "sent_event_id": {"type": "string", "format": "uuid"}},
    },
    STEP_STARTED: {
        "type": "object",
        "properties": {
            "deadline": {"type": "string", "format": "date-time", "description": "the step's SLA, sim time"}
        },
    },
    STEP_STATE: {
        "type": "object",
        "required": ["state"],
        "properties": {"state": {"type": "string", "enum": [s.value for s in DossierState]}},
    },
    STEP_COMPLETED: {"type": "object", "properties": {"result": {"type": "object"}}},
    STEP_REJECTED: {
        "type": "object",
        "required": ["reason"],
        "properties": {
            "reason": {"type": "string", "minLength": 1},
            "code": {"type": "string", "description": "machine-readable kind, e.g. identity_mismatch"},
        },
    },
    LINK_ERROR: {
        "type": "object",
        "required": ["to", "error"],
        "properties": {"to": {"type": "string"}, "error": {"type": "string"}},
    },
    RESULT_SYNCED: {"type": "object", "required": ["outcome"], "properties": {"outcome": _OUTCOME}},
    DOSSIER_CLOSED: {
        "type": "object",
        "required": ["outcome"],
        "properties": {"outcome": _OUTCOME, "reason": {"type": "string"}},
    },
    CLOCK_MARK: {
        "description": "The monitor's punctuation, written to every partition of the dossier-events topic: "
        "once it reads a mark back, it has read everything produced to that partition before it. Other "
        "consumers ignore it.",
        "type": "object",
        "required": ["partition"],
        "properties": {"partition": {"type": "integer", "minimum": 0}},
    },
    AGENCY_HEARTBEAT: {
        "type": "object",
        "required": ["seq"],
        "properties": {"seq": {"type": "integer", "minimum": 0}, "instance": {"type": "string"}},
    },
}

ENVELOPE_SCHEMA: Schema = {
    "type": "object",
    "required": [
        "event_id",
        "dossier_id",
        "chain",
        "type",
        "agency",
        "step",
        "occurred_at",
        "attempt",
        "trace_id",
        "payload",
    ],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"type": "integer", "enum": [SCHEMA_VERSION]},
        "event_id": {"type": "string", "format": "uuid"},
        "dossier_id": {"type": ["string", "null"], "minLength": 1},
        "chain": {"type": ["string", "null"], "enum": [*CHAIN_NAMES, None]},
        "type": {"type": "string", "enum": list(EVENT_TYPES)},
        "agency": {"type": "string", "enum": list(SOURCES)},
        "step": {"type": ["string", "null"]},
        "occurred_at": {"type": "string", "format": "date-time", "description": "sim time"},
        "attempt": {"type": "integer", "minimum": 1},
        "trace_id": {"type": "string", "minLength": 1},
        "payload": {"type": "object"},
    },
}


@dataclass(frozen=True)
class Event:
    event_id: str
    dossier_id: str | None
    chain: str | None
    type: str
    agency: str
    step: str | None
    occurred_at: datetime
    attempt: int
    trace_id: str
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "event_id": self.event_id,
            "dossier_id": self.dossier_id,
            "chain": self.chain,
            "type": self.type,
            "agency": self.agency,
            "step": self.step,
            "occurred_at": self.occurred_at.isoformat(),
            "attempt": self.attempt,
            "trace_id": self.trace_id,
            "payload": self.payload,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @property
    def key(self) -> bytes:
        """Partition key: the dossier, or the agency for dossier-less events."""
        return (self.dossier_id or self.agency).encode()

    def for_lifecycle(self) -> Event:
        """The copy for the shared dossier-events topic: routing only, no personal data."""
        if self.type != HANDOFF_SENT:
            return self
        slim = {k: v for k, v in self.payload.items() if k not in ("dossier", "results")}
        return replace(self, payload=slim)


def new_event(  # noqa: PLR0913 (the envelope's fields, keyword-only past the three every event has)
    type: str,
    agency: str,
    occurred_at: datetime,
    *,
    dossier_id: str | None,
    chain: str | None,
    step: str | None = None,
    payload: dict[str, Any] | None = None,
    trace_id: str | None = None,
    attempt: int = 1,
) -> Event:
    event = Event(
        event_id=str(uuid.uuid4()),
        dossier_id=dossier_id,
        chain=chain,
        type=type,
        agency=agency,
        step=step,
        occurred_at=occurred_at,
        attempt=attempt,
        trace_id=trace_id or uuid.uuid4().hex,
        payload=payload or {},
    )
    check(event.to_dict())
    return event


_CHECK_ENVELOPE = compile_schema(ENVELOPE_SCHEMA)
_CHECK_PAYLOAD = {t: compile_schema(s) for t, s in PAYLOAD_SCHEMAS.items()}


def check(doc: Any) -> None:
    """Raise ContractError listing every problem of an event document."""
    problems = _CHECK_ENVELOPE(doc, "$")
    if not problems:
        if doc["dossier_id"] is None and doc["type"] not in DOSSIERLESS_TYPES:
            problems.append(Problem("$.dossier_id", f"is required for {doc['type']}"))
        problems.extend(_CHECK_PAYLOAD[doc["type"]](doc["payload"], "$.payload"))
    if problems:
        raise ContractError(problems)


def parse_event(raw: bytes | str) -> Event:
    """Decode and validate one message; ContractError says why it was refused."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_EVENT_BYTES:
        raise ContractError([Problem("$", f"{size} bytes: larger than the contract's limit of {MAX_EVENT_BYTES}")])
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError([Problem("$", f"not valid JSON: {exc}")]) from exc
    check(doc)
    return Event(
        event_id=doc["event_id"],
        dossier_id=doc["dossier_id"],
        chain=doc["chain"],
        type=doc["type"],
        agency=doc["agency"],
        step=doc["step"],
        occurred_at=datetime.fromisoformat(doc["occurred_at"]),
        attempt=doc["attempt"],
        trace_id=doc["trace_id"],
        payload=doc["payload"],
    )
