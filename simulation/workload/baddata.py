"""Bad data at a profile's rates (docs/domain.md "Data quality"): each kind spoils a dossier the way
the reports describe, and each must come back refused or flagged with a reason.

- missing_id, malformed_id: the portal refuses them at the edge (HTTP 422 naming the field);
- identity_mismatch: a well-formed number the population database does not know;
- wrong_sex_or_year: a number whose sex or birth-year digits contradict the dossier;
  both reach the agency that checks identity, which refuses the dossier with a code;
- duplicate_submission: the runner submits a second copy later; the portal answers 409.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from contracts.identity import Sex, generate_personal_id, parse_personal_id

SUBJECT_ID: dict[str, tuple[str, str]] = {
    "birth": ("mother", "personal_id"),
    "death": ("deceased", "personal_id"),
    "lltp": ("applicant", "personal_id"),
    "marriage": ("partner", "personal_id"),
}
"""Where the ID number the checking agency verifies sits in each flow's dossier."""


def spoil(doc: dict[str, Any], kind: str, rng: random.Random) -> dict[str, Any]:
    """A copy of `doc` with one data-quality fault of `kind` (duplicate_submission leaves it whole)."""
    out = copy.deepcopy(doc)
    person_key, field = SUBJECT_ID[out["chain"]]
    person = out[person_key]
    if kind == "missing_id":
        del person[field]
    elif kind == "malformed_id":
        person[field] = rng.choice([person[field][:-1], "999" + person[field][3:], person[field][:6] + "ABCDEF"])
    elif kind in ("identity_mismatch", "wrong_sex_or_year"):
        pid = parse_personal_id(person[field])
        if kind == "identity_mismatch":
            person[field] = generate_personal_id(pid.province, pid.sex, pid.birth_year, rng, registered=False)
        elif out["chain"] == "birth" or rng.random() < 0.5:  # a mother's number of a man, or the other sex
            other = Sex.MALE if pid.sex is Sex.FEMALE else Sex.FEMALE
            person[field] = generate_personal_id(pid.province, other, pid.birth_year, rng)
        else:
            person[field] = generate_personal_id(pid.province, pid.sex, pid.birth_year - rng.randint(1, 9), rng)
    elif kind != "duplicate_submission":
        raise ValueError(f"unknown bad-data kind {kind!r}")
    return out
