"""Social-security decisions, pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


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
