"""The typed payloads say what the wire schemas say: the same event types, the same fields, the
same required ones; and an event is never read as another type's payload."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import get_type_hints

import pytest

from contracts.clock import VN_TZ
from contracts.envelope import PAYLOAD_SCHEMAS, new_event
from contracts.event_types import ALL, HANDOFF_RECEIVED
from contracts.payloads import PAYLOAD_TYPES, handoff_received, handoff_sent


def test_every_event_type_has_a_typed_payload() -> None:
    assert set(PAYLOAD_TYPES) == set(ALL) == set(PAYLOAD_SCHEMAS)


@pytest.mark.parametrize("event_type", ALL)
def test_the_typed_payload_matches_the_wire_schema(event_type: str) -> None:
    typed = PAYLOAD_TYPES[event_type]
    schema = PAYLOAD_SCHEMAS[event_type]
    assert set(get_type_hints(typed)) == set(schema.get("properties", {}))
    assert set(typed.__required_keys__) == set(schema.get("required", []))  # type: ignore[attr-defined]


def test_an_event_is_not_read_as_another_types_payload() -> None:
    at = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)
    receipt = new_event(
        HANDOFF_RECEIVED,
        "hotich",
        at,
        dossier_id="D-1",
        chain="birth",
        payload={"from": "motcua", "sent_event_id": str(uuid.uuid4())},
    )
    assert handoff_received(receipt)["from"] == "motcua"
    with pytest.raises(TypeError, match=r"a handoff.received event read as handoff.sent"):
        handoff_sent(receipt)
