"""Judicial-record decisions, pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.identity import Sex
from contracts.payloads import DossierDoc
from runtime.population import Person

ISSUERS: dict[str, str] = {
    "so_tu_phap": "Sở Tư pháp",
    "cong_an_tinh": "Công an tỉnh",
}
"""Who issues certificates: the Department of Justice, or since March 2025 in some provinces
the provincial police (docs/domain.md); `LT_LLTP_ISSUER` chooses (see `issuer_on`)."""


def parse_issuers(schedule: str) -> list[tuple[date | None, str]]:
    """`so_tu_phap` (one issuer throughout) or `2025-01-01=so_tu_phap,2025-03-01=cong_an_tinh`
    (each from its day on), checked; ValueError names what is wrong."""
    out: list[tuple[date | None, str]] = []
    for part in schedule.split(","):
        day, _, issuer = part.strip().rpartition("=")
        if issuer not in ISSUERS:
            raise ValueError(f"unknown issuer {issuer!r} (allowed: {', '.join(ISSUERS)})")
        out.append((date.fromisoformat(day) if day else None, issuer))
    if len(out) > 1 and any(d is None for d, _ in out):
        raise ValueError(f"issuer schedule {schedule!r}: give each issuer's first day")
    return sorted(out, key=lambda x: x[0] or date.min)


def issuer_on(schedule: str, day: date) -> str:
    """The issuer in force on `day`: the last one whose first day is not after it (the first one
    before every change)."""
    chosen = parse_issuers(schedule)
    current = chosen[0][1]
    for since, issuer in chosen:
        if since is None or since <= day:
            current = issuer
    return current


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


def decide_certificate(dossier: DossierDoc, issuer: str) -> Certificate | Refusal:
    applicant = dossier.get("applicant", {})
    try:
        sex = Sex(applicant["sex"])
        year = int(applicant["birth_year"])
    except (KeyError, ValueError, TypeError):
        return Refusal("applicant's sex or birth year missing or malformed", "invalid_data")
    del sex, year  # parsed only to refuse a form without them; the population database checks them
    if issuer not in ISSUERS:
        raise ValueError(f"unknown LLTP issuer {issuer!r}; known: {', '.join(ISSUERS)}")
    delivery = "post" if dossier.get("return_by_post") else "electronic"
    return Certificate(applicant.get("personal_id", ""), delivery, ISSUERS[issuer])


def applicant(dossier: DossierDoc) -> Person:
    """Whom the population database must know before a certificate is issued (decide_certificate
    checked the fields parse)."""
    a = dossier.get("applicant", {})
    return Person("applicant", str(a.get("personal_id", "")), str(a["sex"]), int(a["birth_year"]))
