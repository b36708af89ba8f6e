"""Social-security decisions, pure: the child's BHYT card, the burial allowance, the survivor benefit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from contracts.dossiers import INSURED_TYPES


@dataclass(frozen=True)
class BhytCard:
    card_no: str
    valid_from: date
    valid_until: date


def child_bhyt_card(personal_id: str, birth_date: date, today: date) -> BhytCard | str:
    """The free BHYT card of a child under 6, or why there is none.

    Card number: object code TE (children under 6), benefit level 1, the two-digit province,
    then the 10-digit social-insurance code, which for children is taken from the ID number.
    Valid from birth until the day before the sixth birthday.
    """
    sixth = _add_years(birth_date, 6)
    if today >= sixth:
        return "child is 6 or older: no free BHYT card"
    return BhytCard(f"TE1{personal_id[1:3]}{personal_id[2:]}", birth_date, sixth - timedelta(days=1))


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


BASE_SALARY_VND: tuple[tuple[date, int], ...] = ((date(2023, 7, 1), 1_800_000), (date(2024, 7, 1), 2_340_000))
"""Lương cơ sở and the day it took effect (Decree 24/2023, Decree 73/2024)."""


def base_salary(on: date) -> int:
    amount = BASE_SALARY_VND[0][1]
    for since, value in BASE_SALARY_VND:
        if on >= since:
            amount = value
    return amount


@dataclass(frozen=True)
class Decision:
    kind: str
    amount_vnd: int | None = None


@dataclass(frozen=True)
class NotEligible:
    reason: str


def burial_allowance(beneficiary_type: str | None, death_date: date) -> Decision | NotEligible:
    """Trợ cấp mai táng: ten months of the base salary in force in the month of death, for
    pensioners, people on a monthly allowance and the (voluntarily) insured."""
    if beneficiary_type not in INSURED_TYPES:
        return NotEligible(
            f"beneficiary type {beneficiary_type or 'unknown'} is not insured: "
            "burial support is paid by social protection"
        )
    return Decision("burial_allowance", 10 * base_salary(death_date))


def survivor_benefit(beneficiary_type: str | None) -> Decision | NotEligible:
    """Trợ cấp tử tuất: monthly for pensioners and people on a monthly allowance (who leave
    dependants in this model), one-off otherwise."""
    if beneficiary_type not in INSURED_TYPES:
        return NotEligible(
            f"beneficiary type {beneficiary_type or 'unknown'} has no survivor benefit from social security"
        )
    return Decision("monthly" if beneficiary_type in ("pensioner", "monthly_allowance") else "one_off")
