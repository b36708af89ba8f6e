"""What `lienthong contract export` writes (pure): a JSON Schema per event type, an AsyncAPI 3
document of the topics and every message on them (events, admin commands and their answers,
primers), the chains with their SLAs, states and typed results, and the rules in words
(contracts/normative.py)."""

from __future__ import annotations

import copy

from contracts import topics
from contracts.chains import Chain
from contracts.commands import COMMAND_HEADER, Done, Replay, Republish
from contracts.deadletters import Letter
from contracts.envelope import DOSSIERLESS_TYPES, ENVELOPE_SCHEMA, EVENT_TYPES, PAYLOAD_SCHEMAS, SCHEMA_VERSION
from contracts.event_types import AGENCY_HEARTBEAT
from contracts.normative import STATEMENTS
from contracts.partitioning import SEED
from contracts.validation import Schema

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(event_type: str) -> dict[str, object]:
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


def all_event_schemas() -> dict[str, dict[str, object]]:
    return {t: event_schema(t) for t in EVENT_TYPES}


KEY_BINDING = {
    "kafka": {
        "key": {"type": "string", "description": "dossier_id (UTF-8); an agency.heartbeat: the agency's name"},
        "bindingVersion": "0.5.0",
    }
}
PARTITIONER = {
    "hash": "murmur2",
    "seed": f"0x{SEED:08x}",
    "partition": "(murmur2(key) & 0x7fffffff) % partitions",
    "compatible_with": "Apache Kafka Java client default partitioner; aiokafka default; librdkafka murmur2_random",
}


def _header(name: str, what: str) -> Schema:
    return {"type": "object", "required": [name], "properties": {name: {"type": "string", "description": what}}}


def asyncapi(prefix: str = "lt", partitions: int = 4) -> dict[str, object]:
    """The AsyncAPI document of the event contract (a JSON document, written whole)."""
    messages: dict[str, dict[str, object]] = {
        t.replace(".", "_"): {
            "name": t,
            "contentType": "application/json",
            "payload": event_schema(t),
            "bindings": KEY_BINDING,
            **(
                {"description": "Every LT_HEARTBEAT_S real seconds (1 s by default), also while idle; keyed by agency."}
                if t == AGENCY_HEARTBEAT
                else {}
            ),
        }
        for t in EVENT_TYPES
    }
    messages["republish"] = {
        "name": "republish",
        "contentType": "application/json",
        "summary": "Admin command: publish these messages of your own outbox again.",
        "headers": _header(COMMAND_HEADER, "present (any value): this is a command, not a handoff"),
        "payload": Republish.model_json_schema(),
    }
    messages["replay"] = {
        "name": "replay",
        "contentType": "application/json",
        "summary": "Admin command: apply again these dead letters you wrote, from the originals you kept, "
        "each at most once.",
        "headers": _header(COMMAND_HEADER, "present (any value): this is a command, not a handoff"),
        "payload": Replay.model_json_schema(),
    }
    messages["dead_letter"] = {
        "name": "dead_letter",
        "contentType": "application/json",
        "summary": "Refused input, masked: where it came from, why, and its content with personal data masked.",
        "payload": Letter.model_json_schema(),
    }
    messages["republish_done"] = {
        "name": "republish_done",
        "contentType": "application/json",
        "summary": "The agency's answer to a command, keyed by the command id.",
        "payload": Done.model_json_schema(),
    }
    messages["primer"] = {
        "name": "primer",
        "summary": "Written at offset 0 of every partition when topics are created; skip it.",
        "headers": _header(topics.PRIMER_HEADER, "present (any value): skip this message"),
    }
    channels: dict[str, dict[str, object]] = {
        "dossierEvents": {
            "address": topics.dossier_events(prefix),
            "description": "Every lifecycle event of every dossier, keyed by dossier_id "
            "(heartbeats keyed by agency). The monitor's only input.",
            "messages": {
                **{m.replace(".", "_"): {"$ref": f"#/components/messages/{m.replace('.', '_')}"} for m in EVENT_TYPES},
                "primer": {"$ref": "#/components/messages/primer"},
            },
            "bindings": {"kafka": {"partitions": partitions, "bindingVersion": "0.5.0"}},
        },
        "deadLetter": {
            "address": topics.dead_letter(prefix),
            "description": "Refused input, one letter per message, never with personal data.",
            "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
        },
        "adminReplies": {
            "address": topics.admin_replies(prefix),
            "description": "Answers to admin commands, keyed by the command id.",
            "messages": {"republish_done": {"$ref": "#/components/messages/republish_done"}},
        },
    }
    for agency in topics.AGENCIES:
        channels[f"work_{agency}"] = {
            "address": topics.work(agency, prefix),
            "description": f"Work for {agency}: handoff.sent events whose payload.to is {agency}, "
            "carrying the dossier, earlier results and the routes to take once done (`next`); "
            f"admin commands marked by the {COMMAND_HEADER} header.",
            "messages": {
                "handoff_sent": {"$ref": "#/components/messages/handoff_sent"},
                "republish": {"$ref": "#/components/messages/republish"},
                "replay": {"$ref": "#/components/messages/replay"},
                "primer": {"$ref": "#/components/messages/primer"},
            },
            "bindings": {"kafka": {"partitions": partitions, "bindingVersion": "0.5.0"}},
        }
    rules = "\n".join(f"- {r.id}: {r.text}" for r in STATEMENTS)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Liên thông dossier events",
            "version": str(SCHEMA_VERSION),
            "description": "Event contract between the portal, one-stop, civil status, residence, "
            "social security and judicial-record systems. Rules (contract.md):\n" + rules,
        },
        "channels": channels,
        "components": {"messages": messages},
        "x-lienthong-partitioner": PARTITIONER,
        "x-lienthong-rules": [{"id": r.id, "topic": r.topic, "text": r.text} for r in STATEMENTS],
    }


def chains_document(chains: dict[str, Chain]) -> dict[str, dict[str, object]]:
    """chains.json: each chain's steps, with everything the monitor and the agencies rely on."""
    return {
        name: {
            "title_vi": c.title_vi,
            "group_sla_working_days": c.group_sla_working_days,
            "group_sla_with_verification": c.group_sla_with_verification,
            "steps": [
                {
                    "name": s.name,
                    "agency": s.agency,
                    "after": s.after,
                    "procedure": s.procedure,
                    "skipped_by": s.skipped_by,
                    "label_vi": s.label_vi,
                    "sla_working_days": s.sla_working_days,
                    "sla_with_verification": s.sla_with_verification,
                    "states": list(s.states),
                    "via": s.via,
                    "result": s.result_schema(),
                }
                for s in c.steps
            ],
        }
        for name, c in chains.items()
    }
