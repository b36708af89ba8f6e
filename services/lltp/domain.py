"""Judicial-record decisions, pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.identity import Sex, verify_identity

ISSUERS: dict[str, str] = {
    "so_tu_phap": "Sở Tư pháp",
    "cong_an_tinh": "Công an tỉnh",
}
"""Who issues certificates: the Department of Justice, or since March 2025 in some provinces
the provincial police (docs/domain.md); `LT_LLTP_ISSUER` chooses."""

FEE_VND = 200_000
"""Fee per certificate (Circular 244/2016); students and people with merit pay less or nothing."""


@dataclass(frozen=True)
class Certificate:
    personal_id: str
    delivery: str
    """"post" (public postal service) or "electronic"."""
    issued_by: str


@dataclass(frozen=True)
class Refusal:
    reason: str
    code: str


def decide_certificate(dossier: dict[str, Any], issuer: str) -> Certificate | Refusal:
    applicant = dossier.get("applicant", {})
    try:
        sex = Sex(applicant["sex"])
        year = int(applicant["birth_year"])
    except (KeyError, ValueError, TypeError):
        return Refusal("applicant's sex or birth year missing or malformed", "invalid_data")
    problem = verify_identity(applicant.get("personal_id", ""), sex=sex, birth_year=year)
    if problem:
        return Refusal(f"applicant's identity does not match the population database: {problem[1]}", problem[0])
    if issuer not in ISSUERS:
        raise ValueError(f"unknown LLTP issuer {issuer!r}; known: {', '.join(ISSUERS)}")
    delivery = "post" if dossier.get("return_by_post") else "electronic"
    return Certificate(applicant["personal_id"], delivery, ISSUERS[issuer])
