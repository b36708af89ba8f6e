"""Residence decisions, pure."""

from __future__ import annotations

from typing import Any

from contracts.payloads import DossierDoc


def residence_problem(dossier: DossierDoc, results: dict[str, Any]) -> str | None:
    """Why the child's permanent residence cannot be registered, or None."""
    if not results.get("register_birth", {}).get("personal_id"):
        return "no personal ID number from civil status: residence cannot be registered"
    if not str(dossier.get("residence", {}).get("address", "")).strip():
        return "no residence address in the dossier"
    return None
