"""The people a dossier names, in full and masked: the masked form keeps the province prefix and
last two digits of an ID number and a name's initials, nothing more."""

from __future__ import annotations

from datetime import date

from contracts.people import people
from simulation.workload.citizens import CitizenFactory


def test_a_birth_dossier_names_applicant_child_and_parents_masked_to_initials_and_ends() -> None:
    doc = CitizenFactory("042", seed=1).birth_dossier(date(2024, 3, 4))
    found = {p.role: p for p in people(doc)}
    assert list(found) == ["applicant", "child", "mother", "father"]
    assert found["child"].personal_id is None  # a newborn has no number yet
    mother = found["mother"]
    assert (mother.full_name, mother.personal_id) == (doc["mother"]["full_name"], doc["mother"]["personal_id"])
    hidden = mother.masked()
    assert hidden.personal_id is not None
    assert hidden.personal_id[:3] == doc["mother"]["personal_id"][:3]
    assert hidden.personal_id[-2:] == doc["mother"]["personal_id"][-2:]
    assert "*" * 7 in hidden.personal_id
    assert hidden.full_name == " ".join(f"{w[0]}." for w in doc["mother"]["full_name"].split())
    assert hidden.role_vi == "Mẹ"


def test_a_death_dossier_names_the_deceased_and_nothing_else_is_taken_for_a_person() -> None:
    doc = CitizenFactory("042", seed=2).death_dossier(date(2024, 3, 4))
    assert [p.role for p in people(doc)] == ["applicant", "deceased"]
    assert all(p.role not in ("area", "fee") for p in people(doc))
