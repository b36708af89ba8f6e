"""A fault's delay may be stated in working days, as the reports count ("1 - 2 ngày"): a handoff
delayed one working day on a Friday afternoon arrives on Monday afternoon, and one over Tết after
it; a fault giving both kinds of day is refused naming the key."""

from __future__ import annotations

import random
import re
from datetime import datetime

import pytest

from contracts.clock import VN_TZ
from simulation.faults.catalogue import Fault, parse_catalogue
from simulation.faults.inject import _delayed


def fault(effect: dict[str, object]) -> Fault:
    doc = {
        "faults": {
            "late": {
                "cites": "residence receives it 1–2 days late",
                "target": {"link": "hotich->cutru"},
                "rate": 0.5,
                "effect": {"kind": "delay", **effect},
            }
        }
    }
    return parse_catalogue(doc)["late"]


def test_a_working_day_from_friday_afternoon_is_monday_afternoon() -> None:
    f = fault({"delay_working_days": [1, 1]})
    friday = datetime(2024, 3, 8, 15, tzinfo=VN_TZ)
    assert _delayed(f, friday, random.Random(1)) == datetime(2024, 3, 11, 15, tzinfo=VN_TZ)
    before_tet = datetime(2024, 2, 7, 10, tzinfo=VN_TZ)
    assert _delayed(f, before_tet, random.Random(1)) == datetime(2024, 2, 15, 10, tzinfo=VN_TZ)
    calendar_days = fault({"delay_days": [1, 1]})
    assert _delayed(calendar_days, friday, random.Random(1)) == datetime(2024, 3, 9, 15, tzinfo=VN_TZ)


def test_both_kinds_of_day_are_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("delay_days (calendar days) or delay_working_days, not both")):
        fault({"delay_days": [1, 2], "delay_working_days": [1, 2]})
