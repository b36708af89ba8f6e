"""The portal's OpenAPI document describes the production API: every operation answers the edge's
refusals, and nothing of the simulation (its planned-time header) is in it."""

from __future__ import annotations

import json

from services.portal.openapi import document


def test_the_portals_api_names_no_simulation_header() -> None:
    text = json.dumps(document())
    assert "/api/v1/dossiers" in text
    assert "Sim-Time" not in text
    assert "Idempotency-Key" in text  # the scan reads the headers it should


def test_every_operation_answers_the_edges_refusals_and_every_api_one_its_rate_limit() -> None:
    doc = document()
    for path, operations in doc["paths"].items():
        for op in operations.values():
            codes = set(op["responses"])
            assert {"400", "413"} <= codes, (path, codes)
            assert ("429" in codes) == (path != "/healthz"), (path, codes)
