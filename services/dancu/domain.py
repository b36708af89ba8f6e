"""The population database's answers, pure: whom it knows at a sim time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from contracts.identity import IdentityProblem, Sex, check_identity, value_malformed
from runtime.population import Known, Person, Unknown, answer_by_rule

NOT_FOUND = "personal ID number not found in the national population database"


def answer(people: list[Person], births: Mapping[str, datetime], at: datetime) -> Known | Unknown:
    """Whether the database knows every one of `people` at `at`: a newborn registered in the run
    (`births`: ID number → when its record can be found) once its record is there, anyone else
    by rule. The first person it does not know, or Known."""
    for p in people:
        visible = births.get(p.personal_id)
        if visible is None:
            found = answer_by_rule([p], at)
            if isinstance(found, Unknown):
                return found
            continue
        reason = check_identity(p.personal_id, Sex(p.sex) if p.sex else None, p.birth_year)
        if reason:
            code = IdentityProblem.MALFORMED if value_malformed(p.personal_id) else IdentityProblem.WRONG_SEX_OR_YEAR
            return Unknown(p.role, code.value, reason, at)
        if visible > at:
            return Unknown(p.role, IdentityProblem.MISMATCH.value, NOT_FOUND, at)
    return Known(at)
