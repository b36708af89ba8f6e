"""JSON Schema per event type and an AsyncAPI document of topics and messages (pure dicts)."""

from __future__ import annotations

import copy
from typing import Any

from contracts import topics
from contracts.envelope import DOSSIERLESS_TYPES, ENVELOPE_SCHEMA, EVENT_TYPES, PAYLOAD_SCHEMAS, SCHEMA_VERSION

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(event_type: str) -> dict[str, Any]:
    """The full schema of one event type: the envelope with its payload schema inlined."""
    schema = copy.deepcopy(ENVELOPE_SCHEMA)
    schema["properties"]["type"] = {"const": event_type}
    schema["properties"]["payload"] = copy.deepcopy(PAYLOAD_SCHEMAS[event_type])
    if event_type not in DOSSIERLESS_TYPES:
        schema["properties"]["dossier_id"] = {"type": "string", "minLength": 1}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:lienthong:event:{event_type}:v{SCHEMA_VERSION}",
        "title": event_type,
        **schema,
    }


def all_event_schemas() -> dict[str, dict[str, Any]]:
    return {t: event_schema(t) for t in EVENT_TYPES}


def asyncapi(prefix: str = "lt") -> dict[str, Any]:
    messages = {
        t.replace(".", "_"): {"name": t, "contentType": "application/json", "payload": event_schema(t)}
        for t in EVENT_TYPES
    }
    channels: dict[str, Any] = {
        "dossierEvents": {
            "address": topics.dossier_events(prefix),
            "description": "Every lifecycle event of every dossier, keyed by dossier_id "
            "(heartbeats keyed by agency). The monitor's only input.",
            "messages": {
                m.replace(".", "_"): {"$ref": f"#/components/messages/{m.replace('.', '_')}"} for m in EVENT_TYPES
            },
        },
        "deadLetter": {
            "address": topics.dead_letter(prefix),
            "description": "Refused input: {topic, partition, offset, key, value, reason, agency}.",
        },
    }
    for agency in topics.AGENCIES:
        channels[f"work_{agency}"] = {
            "address": topics.work(agency, prefix),
            "description": f"Work for {agency}: handoff.sent events whose payload.to is {agency}, "
            "carrying the dossier, earlier results and the routes to take once done.",
            "messages": {"handoff_sent": {"$ref": "#/components/messages/handoff_sent"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Liên thông dossier events",
            "version": str(SCHEMA_VERSION),
            "description": "Event contract between the portal, one-stop, civil status, residence, "
            "social security and judicial-record systems.",
        },
        "channels": channels,
        "components": {"messages": messages},
    }
