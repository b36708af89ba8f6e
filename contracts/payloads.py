"""One typed payload per event type, and typed access to an event's payload.

The JSON Schemas in `contracts/envelope.py` (`PAYLOAD_SCHEMAS`) validate every message on the
wire; these TypedDicts say the same to the type checker, so code reads `handoff_sent(e)["to"]`
instead of an untyped `e.payload["to"]`. `tests/unit/contracts/test_payloads.py` keeps the two
in step: the same fields, the same required ones. No postponed annotations here: TypedDict
reads `NotRequired` only from evaluated ones."""

from typing import Any, Literal, NotRequired, TypedDict, cast

from contracts.envelope import Event
from contracts.event_types import (
    AGENCY_HEARTBEAT,
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

Outcome = Literal["completed", "rejected"]


class AreaDoc(TypedDict, total=False):
    province: str
    district: str
    commune: str


class PersonDoc(TypedDict, total=False):
    """A person a dossier names (the child, a parent, the deceased, the applicant)."""

    full_name: str
    personal_id: str
    sex: str
    birth_date: str
    birth_place: str
    birth_year: int
    death_date: str
    cause: str
    place: str
    residence: AreaDoc
    """Where a marriage's partner lives: the commune that confirms their marital status."""


class DossierDoc(TypedDict, total=False):
    """The dossier a handoff carries: the citizen's submission as the portal accepted it
    (contracts/dossiers.py checks it), with what the portal added (`expected_results`,
    `status`)."""

    chain: str
    channel: str
    procedures: list[str]
    area: AreaDoc
    applicant: PersonDoc
    child: PersonDoc
    mother: PersonDoc
    father: PersonDoc
    deceased: PersonDoc
    partner: PersonDoc
    residence: dict[str, str]
    fee: dict[str, bool]
    payer: str
    beneficiary_type: str
    purpose: str
    return_by_post: bool
    needs_verification: bool
    lived_in_several_places: bool
    foreigner: bool
    needs_expungement_check: bool
    expected_results: list[str]
    status: str


class RouteDoc(TypedDict):
    agency: str
    step: str


class DossierSubmitted(TypedDict):
    channel: Literal["online", "vneid", "in_person"]
    procedures: list[str]
    area: dict[str, Any]
    fee_bearing: NotRequired[bool]
    paid_online: NotRequired[bool]
    paid_on: NotRequired[Literal["national", "provincial"]]
    exempt_reason: NotRequired[str]
    return_by_post: NotRequired[bool]
    needs_verification: NotRequired[bool]
    expected_results: NotRequired[list[str]]
    due_at: NotRequired[str]


class HandoffSent(TypedDict):
    to: str
    to_step: str
    dossier: NotRequired[DossierDoc]
    results: NotRequired[dict[str, Any]]
    next: NotRequired[list[RouteDoc]]
    outcome: NotRequired[Outcome]
    reason: NotRequired[str]
    code: NotRequired[str]
    via: NotRequired[str]
    delivered_at: NotRequired[str]


# `from` is a Python keyword: the functional form.
HandoffReceived = TypedDict("HandoffReceived", {"from": str, "sent_event_id": str})


class StepStarted(TypedDict):
    deadline: NotRequired[str]


class StepState(TypedDict):
    state: str


class StepCompleted(TypedDict):
    result: NotRequired[dict[str, Any]]


class StepRejected(TypedDict):
    reason: str
    code: NotRequired[str]


class LinkError(TypedDict):
    to: str
    error: str


class ResultSynced(TypedDict):
    outcome: Outcome


class DossierClosed(TypedDict):
    outcome: Outcome
    reason: NotRequired[str]


class ClockMark(TypedDict):
    partition: int


class AgencyHeartbeat(TypedDict):
    seq: int
    instance: NotRequired[str]


PAYLOAD_TYPES: dict[str, type] = {
    DOSSIER_SUBMITTED: DossierSubmitted,
    HANDOFF_SENT: HandoffSent,
    HANDOFF_RECEIVED: HandoffReceived,
    STEP_STARTED: StepStarted,
    STEP_STATE: StepState,
    STEP_COMPLETED: StepCompleted,
    STEP_REJECTED: StepRejected,
    LINK_ERROR: LinkError,
    RESULT_SYNCED: ResultSynced,
    DOSSIER_CLOSED: DossierClosed,
    CLOCK_MARK: ClockMark,
    AGENCY_HEARTBEAT: AgencyHeartbeat,
}
"""Every event type's payload type."""


def _of(e: Event, type_: str) -> dict[str, Any]:
    if e.type != type_:
        raise TypeError(f"a {e.type} event read as {type_}")
    return e.payload


def dossier_submitted(e: Event) -> DossierSubmitted:
    return cast(DossierSubmitted, _of(e, DOSSIER_SUBMITTED))


def handoff_sent(e: Event) -> HandoffSent:
    return cast(HandoffSent, _of(e, HANDOFF_SENT))


def handoff_received(e: Event) -> HandoffReceived:
    return cast(HandoffReceived, _of(e, HANDOFF_RECEIVED))


def step_state(e: Event) -> StepState:
    return cast(StepState, _of(e, STEP_STATE))


def step_rejected(e: Event) -> StepRejected:
    return cast(StepRejected, _of(e, STEP_REJECTED))


def link_error(e: Event) -> LinkError:
    return cast(LinkError, _of(e, LINK_ERROR))
