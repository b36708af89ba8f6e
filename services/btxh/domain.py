"""Social-protection decisions, pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.dossiers import SOCIAL_PROTECTION_TYPES
from services.bhxh.domain import base_salary

SOCIAL_ASSISTANCE_BASE_VND: tuple[tuple[date, int], ...] = ((date(2021, 7, 1), 360_000), (date(2024, 7, 1), 500_000))
"""Mức chuẩn trợ giúp xã hội and the day it took effect (Decree 20/2021, Decree 76/2024)."""


@dataclass(frozen=True)
class Support:
    amount_vnd: int
    basis: str


def burial_support(beneficiary_type: str | None, death_date: date) -> Support | str:
    """Hỗ trợ chi phí mai táng, or why there is none: twenty times the social-assistance base
    for social-protection beneficiaries; ten months of the base salary for people with merit."""
    if beneficiary_type not in SOCIAL_PROTECTION_TYPES:
        kind = beneficiary_type or "unknown"
        return f"beneficiary type {kind} is not a social-protection beneficiary or person with merit"
    if beneficiary_type == "merit":
        return Support(10 * base_salary(death_date), "người có công")
    base = SOCIAL_ASSISTANCE_BASE_VND[0][1]
    for since, value in SOCIAL_ASSISTANCE_BASE_VND:
        if death_date >= since:
            base = value
    return Support(20 * base, "đối tượng bảo trợ xã hội")
