"""How the portal tells a dossier's status from its lifecycle events alone (a dossier an external
producer submitted)."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.clock import VN_TZ
from contracts.event_types import DOSSIER_CLOSED, DOSSIER_SUBMITTED, STEP_COMPLETED, STEP_REJECTED, STEP_STARTED
from contracts.states import PortalStatus
from services.portal.domain import external_view, status_from_events

AT = datetime(2024, 3, 4, 9, 0, tzinfo=VN_TZ)


def test_a_closing_says_how_the_dossier_ended() -> None:
    assert status_from_events([(STEP_STARTED, {}), (DOSSIER_CLOSED, {"outcome": "completed"})]).status == (
        PortalStatus.COMPLETED
    )
    closed = status_from_events(
        [(STEP_REJECTED, {"reason": "thiếu giấy tờ"}), (DOSSIER_CLOSED, {"outcome": "rejected"})]
    )
    assert (closed.status, closed.reason) == (PortalStatus.REJECTED, "thiếu giấy tờ")


def test_a_refusal_ends_the_dossier_before_its_closing_arrives_and_nothing_else_does() -> None:
    refused = status_from_events([(STEP_COMPLETED, {}), (STEP_REJECTED, {"reason": "sai mẫu"})])
    assert (refused.status, refused.reason) == (PortalStatus.REJECTED, "sai mẫu")
    assert status_from_events([(DOSSIER_SUBMITTED, {}), (STEP_COMPLETED, {})]).status == PortalStatus.IN_PROGRESS


def test_the_view_of_an_external_dossier_in_progress() -> None:
    timeline = [
        {"type": STEP_STARTED, "step": "intake", "occurred_at": AT, "payload": {}, "chain": None},
        {
            "type": STEP_COMPLETED,
            "step": "intake",
            "occurred_at": AT + timedelta(hours=1),
            "payload": {},
            "chain": "birth",
        },
    ]
    view = external_view("EXT-2", timeline)
    assert (view["chain"], view["status"], view["state"], view["received_by_portal"]) == (
        "birth",
        "in_progress",
        "in_progress",
        False,
    )
    assert view["submitted_at"] == AT  # no submission event: its first event
    assert view["closed_at"] is None
    assert view["results"] == {
        "intake": {"outcome": "completed", "reason": None, "result": {}, "received_at": AT + timedelta(hours=1)}
    }
