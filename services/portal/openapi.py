"""The portal's OpenAPI document, built from the contract's field tables."""

from __future__ import annotations

from contracts.chains import CHAIN_NAMES
from contracts.dossiers import COMMON, FIELDS
from contracts.jsontypes import JsonObject, obj

_PROBLEMS: JsonObject = {
    "type": "object",
    "required": ["error", "problems"],
    "properties": {
        "error": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}},
        },
    },
}


def _fields(chain: str) -> JsonObject:
    required = [p for p, _c, r in COMMON + FIELDS[chain] if r]
    return {
        "type": "object",
        "description": f"{chain} dossier. Required fields (dotted paths): {', '.join(['chain', *required])}.",
        "required": ["chain", "channel", "area", "applicant"],
        "properties": {"chain": {"const": chain}},
    }


BAD_REQUEST: JsonObject = {
    "description": "A bad request (a NUL character in the path or the query, among others), with the reason",
    "content": {"application/json": {"schema": _PROBLEMS}},
}


TOO_LARGE: JsonObject = {
    "description": "The body is over the edge's cap (LT_MAX_BODY_BYTES)",
    "content": {"application/json": {"schema": _PROBLEMS}},
}
RATE_LIMITED: JsonObject = {
    "description": "More requests from this client (its address) than its share (LT_PORTAL_RATE_LIMIT a second, "
    "bursts of LT_PORTAL_RATE_BURST); retry after the seconds given. A client holding the submitter token "
    "(bearer) submits for many citizens and is not limited.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": {
        "application/json": {
            "schema": {
                **_PROBLEMS,
                "required": ["error", "problems", "retry_after_s"],
                "properties": {**obj(_PROBLEMS["properties"]), "retry_after_s": {"type": "integer"}},
            }
        }
    },
}


def document() -> JsonObject:
    doc = _document()
    for path, operations in obj(doc["paths"]).items():
        for op in obj(operations).values():
            responses = obj(obj(op)["responses"])
            responses.setdefault("400", BAD_REQUEST)
            responses.setdefault("413", TOO_LARGE)
            if path != "/healthz":
                responses.setdefault("429", RATE_LIMITED)
    doc["components"] = {
        "securitySchemes": {
            "submitter": {"type": "http", "scheme": "bearer"},
            "operator": {"type": "http", "scheme": "bearer"},
        }
    }
    return doc


def _document() -> JsonObject:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cổng dịch vụ công liên thông (mô phỏng)", "version": "1"},
        "paths": {
            "/api/v1/dossiers": {
                "post": {
                    "summary": "Submit a linked-service dossier",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "Resubmitting with the same key returns the first dossier.",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"oneOf": [_fields(c) for c in CHAIN_NAMES]}}},
                    },
                    "responses": {
                        "202": {"description": "Accepted; the dossier is on its way"},
                        "200": {"description": "Same Idempotency-Key as an earlier submission"},
                        "400": {
                            "description": "Body is not JSON",
                            "content": {"application/json": {"schema": _PROBLEMS}},
                        },
                        "409": {
                            "description": "Duplicate submission: the same subject (child, deceased, LLTP "
                            "applicant and purpose) already has an open or completed dossier",
                            "content": {"application/json": {"schema": _PROBLEMS}},
                        },
                        "422": {
                            "description": "Invalid dossier",
                            "content": {"application/json": {"schema": _PROBLEMS}},
                        },
                    },
                }
            },
            "/api/v1/dossiers/{dossier_id}": {
                "get": {
                    "summary": "Current state and timeline across agencies",
                    "description": "Any dossier the event log knows: one an external producer submitted "
                    "has received_by_portal false, its state told by its lifecycle events. Personal ID "
                    "numbers and names (in results and in the timeline's payloads) are masked, and `masked` "
                    "is true, unless the request carries the operator token: then in full, and the read "
                    "is recorded (dossier, path, the officer named in X-Operator, the client's address).",
                    "parameters": [
                        {"name": "dossier_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "X-Operator",
                            "in": "header",
                            "required": False,
                            "description": "The officer reading in full (percent-encoded), for the audit",
                            "schema": {"type": "string"},
                        },
                    ],
                    "security": [{}, {"operator": []}],
                    "responses": {"200": {"description": "The dossier"}, "404": {"description": "Unknown dossier"}},
                }
            },
            "/api/v1/dossiers/{dossier_id}/people": {
                "get": {
                    "summary": "The people a dossier names (applicant, child, parents, deceased)",
                    "description": "ID numbers and names masked (province prefix and last two digits; "
                    "initials), unless the request carries the operator token: then in full.",
                    "parameters": [
                        {"name": "dossier_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "security": [{}, {"operator": []}],
                    "responses": {
                        "200": {"description": "The people, masked or in full"},
                        "404": {
                            "description": "No such dossier taken in by the portal",
                            "content": {"application/json": {"schema": _PROBLEMS}},
                        },
                    },
                }
            },
            "/api/v1/stats": {
                "get": {
                    "summary": "Dossier counts per chain and status",
                    "parameters": [{"name": "run_id", "in": "query", "required": False, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "Counts"}},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Readiness",
                    "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
                }
            },
        },
    }
