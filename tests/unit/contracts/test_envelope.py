"""The event envelope: round trips, refusals with reasons, and agreement with the exported schema."""

from __future__ import annotations

import json
from datetime import datetime

import jsonschema
import pytest

from contracts.chains import load_chains
from contracts.clock import VN_TZ
from contracts.envelope import EVENT_TYPES, Event, new_event, parse_event
from contracts.errors import ContractError
from contracts.export import all_event_schemas, asyncapi, chains_document, event_schema

NOW = datetime(2024, 3, 4, 9, 30, tzinfo=VN_TZ)


def _handoff() -> Event:
    return new_event(
        "handoff.sent",
        "hotich",
        NOW,
        dossier_id="d-1",
        chain="birth",
        step="register_birth",
        payload={
            "to": "cutru",
            "to_step": "register_residence",
            "dossier": {"child": {"full_name": "Lê Văn An"}},
            "results": {"register_birth": {"personal_id": "042224123456"}},
            "next": [],
        },
    )


def test_round_trip_keeps_every_field() -> None:
    event = _handoff()
    assert parse_event(event.to_json()) == event


def test_vietnamese_text_stays_readable_utf8() -> None:
    assert "Lê Văn An".encode() in _handoff().to_json()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("event_id"), "$.event_id"),
        (lambda d: d.update(type="dossier.exploded"), "$.type"),
        (lambda d: d.update(occurred_at="yesterday"), "$.occurred_at"),
        (lambda d: d.update(occurred_at="2024-03-04T09:30:00"), "$.occurred_at"),
        (lambda d: d.update(attempt=0), "$.attempt"),
        (lambda d: d.update(agency="ministry-of-magic"), "$.agency"),
        (lambda d: d.update(dossier_id=None), "$.dossier_id"),
        (lambda d: d["payload"].pop("to_step"), "$.payload.to_step"),
        (lambda d: d.update(extra=1), "$.extra"),
    ],
)
def test_refuses_broken_events_naming_the_field(mutate, field) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(_handoff().to_json())
    mutate(doc)
    with pytest.raises(ContractError) as err:
        parse_event(json.dumps(doc))
    assert field in [p.field for p in err.value.problems]


def test_refuses_non_json() -> None:
    with pytest.raises(ContractError, match="not valid JSON"):
        parse_event(b"\xff{nope")


def test_heartbeat_needs_no_dossier() -> None:
    hb = new_event("agency.heartbeat", "cutru", NOW, dossier_id=None, chain=None, payload={"seq": 3})
    assert parse_event(hb.to_json()).payload["seq"] == 3
    assert hb.key == b"cutru"


def test_lifecycle_copy_carries_no_personal_data() -> None:
    slim = _handoff().for_lifecycle()
    assert "dossier" not in slim.payload
    assert "results" not in slim.payload
    assert slim.payload["to"] == "cutru"
    e = _handoff()
    assert e.for_lifecycle().event_id == e.event_id


def test_exported_schema_accepts_what_the_runtime_accepts() -> None:
    doc = json.loads(_handoff().to_json())
    jsonschema.Draft202012Validator(event_schema("handoff.sent")).validate(doc)


def test_exported_schema_refuses_what_the_runtime_refuses() -> None:
    doc = json.loads(_handoff().to_json())
    del doc["payload"]["to"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(event_schema("handoff.sent")).validate(doc)
    with pytest.raises(ContractError):
        parse_event(json.dumps(doc))


def test_every_event_type_has_a_valid_schema_and_an_asyncapi_message() -> None:
    schemas = all_event_schemas()
    assert set(schemas) == set(EVENT_TYPES)
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)
    doc = asyncapi("lt")
    assert doc["channels"]["dossierEvents"]["address"] == "lt.dossier-events"
    special = {"republish", "replay", "republish_done", "dead_letter", "primer"}
    assert set(doc["components"]["messages"]) == {t.replace(".", "_") for t in EVENT_TYPES} | special


def test_the_asyncapi_document_names_every_special_message_and_rule_and_its_references_resolve() -> None:
    doc = asyncapi("lt", partitions=4)
    messages = doc["components"]["messages"]
    for channel in doc["channels"].values():
        for ref in channel.get("messages", {}).values():
            assert ref["$ref"].removeprefix("#/components/messages/") in messages, ref
    for name in ("republish", "republish_done"):
        jsonschema.Draft202012Validator.check_schema(messages[name]["payload"])
    assert "lienthong-command" in messages["republish"]["headers"]["required"]
    assert "lienthong-primer" in messages["primer"]["headers"]["required"]
    assert doc["channels"]["work_cutru"]["bindings"]["kafka"]["partitions"] == 4
    assert doc["x-lienthong-partitioner"]["hash"] == "murmur2"
    ids = [r["id"] for r in doc["x-lienthong-rules"]]
    assert len(ids) == len(set(ids))
    assert {"partitioner", "sequence", "routing", "clock", "stamping", "heartbeat", "primer", "commands"} <= set(ids)


def test_chains_json_carries_verification_slas_states_and_typed_results() -> None:
    doc = chains_document(load_chains())
    birth = {s["name"]: s for s in doc["birth"]["steps"]}
    assert birth["register_residence"]["sla_with_verification"] == 5
    assert birth["register_birth"]["states"] == ["awaiting_signature", "awaiting_issuance"]
    assert doc["birth"]["group_sla_with_verification"] == 5
    assert birth["register_birth"]["result"]["required"] == ["personal_id"]
    for chain in doc.values():
        for step in chain["steps"]:
            jsonschema.Draft202012Validator.check_schema(step["result"])
            assert step["result"]["required"], step["name"]  # every step declares what it returns
    lltp = {s["name"]: s for s in doc["lltp"]["steps"]}
    assert lltp["issue_certificate"]["via"] == "ngsp"
