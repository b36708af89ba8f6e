"""The dashboard's JSON API as an OpenAPI document (`GET /api/v1/openapi.json`): what scripts may
rely on, and what the fuzz test (tests/integration/test_fuzz_dashboard.py) holds every answer to.
The live feed (`/api/v1/alerts/stream`, server-sent events) and the page itself are left out."""

from __future__ import annotations

from contracts.jsontypes import JsonObject, JsonValue, obj
from dashboard.wording import KIND_VI
from dashboard.workqueue import PAGE_SIZES, SORTS, STATES

FILES: list[JsonValue] = ["xlsx", "csv"]
ERROR: JsonObject = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
ANY_OBJECT: JsonObject = {"type": "object"}


def _json(schema: JsonObject, description: str) -> JsonObject:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(*required: str) -> JsonObject:
    return {"type": "object", "required": list(required)}


def _query(name: str, schema: JsonObject, description: str = "") -> JsonObject:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


BAD = _json(ERROR, "a bad parameter, with the reason in Vietnamese")
TEXT: JsonObject = {"type": "string"}
DAY: JsonObject = {"type": "string", "format": "date"}
OPERATOR_BODY: JsonObject = {
    "required": False,
    "content": {"application/json": {"schema": {"type": "object", "properties": {"operator": TEXT}}}},
}
NEEDS_TOKEN: JsonObject = {
    "401": _json(ERROR, "no operator token: viewers only read"),
    "403": _json(ERROR, "a wrong operator token"),
}


INCIDENT: JsonObject = {"name": "incident_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _body(properties: JsonObject) -> JsonObject:
    return {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": properties}}}}


def document() -> JsonObject:
    paths: JsonObject = {
        "/api/v1/alerts": {
            "get": {
                "summary": "Raw incidents for scripts",
                "parameters": [
                    _query("open", TEXT, "0 or false: resolved ones too"),
                    _query("kind", {"type": "string", "enum": list(KIND_VI)}),
                    _query("flow", TEXT),
                    _query("agency", TEXT),
                    _query("commune", TEXT),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 5000}),
                ],
                "responses": {"200": _json(_object("alerts", "open_by_kind", "now"), "incidents"), "400": BAD},
            }
        },
        "/api/v1/queue": {
            "get": {
                "summary": "The work queue: one row per incident, most overdue first",
                "parameters": [
                    _query("state", {"type": "string", "enum": list(STATES)}),
                    _query("kind", {"type": "string", "enum": list(KIND_VI)}),
                    _query("flow", TEXT),
                    _query("agency", TEXT),
                    _query("severity", TEXT),
                    _query("commune", TEXT),
                    _query("sort", {"type": "string", "enum": list(SORTS)}),
                    _query("dir", {"type": "string", "enum": ["asc", "desc"]}),
                    _query("page", {"type": "integer", "minimum": 1}),
                    _query("size", {"type": "integer", "enum": list(PAGE_SIZES)}),
                ],
                "responses": {"200": _json(_object("rows", "clock", "communes"), "a page of the queue"), "400": BAD},
            }
        },
        "/api/v1/queue.{format}": {
            "get": {
                "summary": "The work queue as a file: every row the filters select, the page's columns and headings",
                "parameters": [
                    {
                        "name": "format",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["xlsx", "csv"]},
                    },
                    _query("state", {"type": "string", "enum": list(STATES)}),
                    _query("kind", {"type": "string", "enum": list(KIND_VI)}),
                    _query("flow", TEXT),
                    _query("agency", TEXT),
                    _query("commune", TEXT),
                    _query("sort", {"type": "string", "enum": list(SORTS)}),
                ],
                "responses": {
                    "200": {"description": "the file (xlsx or csv with a BOM), named after the page's moment"},
                    "400": BAD,
                    "404": _json(ERROR, "no such format"),
                },
            }
        },
        "/api/v1/due": {
            "get": {
                "summary": "Đến hạn hôm nay / ngày mai: unfinished dossiers due today or the next working day",
                "responses": {"200": _json(_object("today", "tomorrow", "tomorrow_day"), "most at risk first")},
            }
        },
        "/api/v1/desks": {
            "get": {
                "summary": "Chờ cán bộ tiếp nhận: dossiers received and not yet taken up, by flow and step",
                "responses": {"200": _json(_object("desks"), "the longest queue first")},
            }
        },
        "/api/v1/clock": {"get": {"responses": {"200": _json(ANY_OBJECT, "the sim clock as the page shows it")}}},
        "/api/v1/whoami": {"get": {"responses": {"200": _json(_object("role", "reason"), "operator or viewer")}}},
        "/api/v1/funnel": {"get": {"responses": {"200": _json(_object("flows"), "per flow and step")}}},
        "/api/v1/health": {
            "get": {
                "parameters": [_query("hours", {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000})],
                "responses": {
                    "200": _json(_object("agencies", "links", "heartbeats"), "agencies and links"),
                    "400": BAD,
                },
            }
        },
        "/api/v1/series": {
            "get": {
                "summary": "The daily charts for a range of days (both included)",
                "parameters": [_query("from", DAY), _query("to", DAY)],
                "responses": {"200": _json(_object("series"), "per day"), "400": BAD},
            }
        },
        "/api/v1/search": {
            "get": {
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "schema": TEXT,
                        "description": "receipt code, dossier-id prefix, personal ID number (answered masked) "
                        "or commune",
                    }
                ],
                "responses": {"200": _json(_object("query", "dossiers", "matches"), "matching dossiers"), "400": BAD},
            }
        },
        "/api/v1/dossiers/{dossier_id}": {
            "get": {
                "parameters": [{"name": "dossier_id", "in": "path", "required": True, "schema": TEXT}],
                "responses": {
                    "200": _json(
                        _object("dossier_id", "code", "events", "alerts", "people"),
                        "its timeline, incidents and the people it names (masked)",
                    ),
                    "400": BAD,
                    "404": _json(ERROR, "the monitor saw no event of it"),
                },
            }
        },
        "/api/v1/dossiers/{dossier_id}/open": {
            "post": {
                "summary": "The people a dossier names, in full, for an operator (audited)",
                "security": [{"operator": []}],
                "parameters": [{"name": "dossier_id", "in": "path", "required": True, "schema": TEXT}],
                "requestBody": OPERATOR_BODY,
                "responses": {
                    "200": _json(_object("dossier_id", "masked", "people"), "the people in full"),
                    "400": BAD,
                    **NEEDS_TOKEN,
                    "404": _json(ERROR, "the portal did not take this dossier in"),
                },
            }
        },
        "/api/v1/alerts/{alert_id}/ack": {
            "post": {
                "security": [{"operator": []}],
                "parameters": [{"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": OPERATOR_BODY,
                "responses": {
                    "200": _json(ANY_OBJECT, "the alert, acknowledged at the page's clock"),
                    "400": BAD,
                    **NEEDS_TOKEN,
                    "404": _json(ERROR, "no such alert"),
                    "409": _json(ERROR, "the incident is over already: nothing to acknowledge"),
                },
            }
        },
        "/api/v1/redrive": {
            "post": {
                "security": [{"operator": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"dossier_id": TEXT, "all_lost": {"type": "boolean"}, "operator": TEXT},
                            }
                        }
                    },
                },
                "responses": {
                    "202": _json(ANY_OBJECT, "what the senders queued again (sim time does not move)"),
                    "400": BAD,
                    **NEEDS_TOKEN,
                    "409": _json(ERROR, "the dossier is settled at the portal: nothing to send again"),
                    "503": _json(ERROR, "the broker cannot be reached now"),
                },
            }
        },
        "/api/v1/incidents/{incident_id}/assign": {
            "post": {
                "summary": "Assign an open incident to an officer (kept in the worklog, audited)",
                "security": [{"operator": []}],
                "parameters": [INCIDENT],
                "requestBody": _body({"operator": TEXT, "assignee": TEXT}),
                "responses": {
                    "200": _json(_object("incident_id", "assignee"), "assigned"),
                    **NEEDS_TOKEN,
                    "404": _json(ERROR, "no such incident"),
                    "409": _json(ERROR, "the incident is over already"),
                },
            }
        },
        "/api/v1/incidents/{incident_id}/notes": {
            "get": {
                "summary": "An incident's assignments and notes, oldest first",
                "parameters": [INCIDENT],
                "responses": {
                    "200": _json(_object("incident_id", "assignee", "entries"), "the worklog of the incident")
                },
            },
            "post": {
                "summary": "Add a note to an open incident (kept in the worklog, audited)",
                "security": [{"operator": []}],
                "parameters": [INCIDENT],
                "requestBody": _body({"operator": TEXT, "text": TEXT}),
                "responses": {
                    "201": _json(ANY_OBJECT, "the note as kept"),
                    **NEEDS_TOKEN,
                    "404": _json(ERROR, "no such incident"),
                    "409": _json(ERROR, "the incident is over already"),
                },
            },
        },
        "/api/v1/handover": {
            "get": {
                "summary": "The shift so far: what a handover now would say",
                "responses": {"200": _json(_object("from", "to", "summary_vi", "counts", "still_open"), "the shift")},
            },
            "post": {
                "summary": "Hand the shift over (chuyển ca): record it and start the next one",
                "security": [{"operator": []}],
                "requestBody": _body({"operator": TEXT, "to": TEXT}),
                "responses": {
                    "201": _json(_object("from", "to", "summary_vi", "counts", "still_open"), "the handover"),
                    **NEEDS_TOKEN,
                },
            },
        },
        "/api/v1/clock/resume": {
            "post": {
                "summary": "Resume the stopped simulation until no dossier is in progress (audited)",
                "security": [{"operator": []}],
                "requestBody": OPERATOR_BODY,
                "responses": {
                    "202": _json(_object("running", "started"), "sim time runs again"),
                    "400": BAD,
                    **NEEDS_TOKEN,
                    "409": _json(ERROR, "no sim clock: the system runs on real time"),
                },
            }
        },
    }
    for operations in paths.values():
        for op in obj(operations).values():
            operation = obj(op)
            responses = obj(operation.setdefault("responses", {}))
            responses.setdefault("400", BAD)  # any path may be refused (runtime/edges.py)
            if "requestBody" in operation:
                responses.setdefault("413", _json(ERROR, "the body is over the cap (LT_MAX_BODY_BYTES)"))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bảng điều hành liên thông", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {"operator": {"type": "http", "scheme": "bearer"}}},
    }
