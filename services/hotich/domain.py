"""Civil-status decisions, pure: register or refuse, with the reason."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from contracts.identity import Sex, generate_personal_id
from contracts.payloads import DossierDoc
from runtime.population import Person


@dataclass(frozen=True)
class Registered:
    personal_id: str


@dataclass(frozen=True)
class Refused:
    reason: str
    code: str = "invalid_data"


def decide_birth(dossier: DossierDoc, today: date, rng: random.Random) -> Registered | Refused:
    """Register the birth and give the child a personal ID number, unless the data is wrong (the
    parents' identities are the population database's to check: `parents`)."""
    child = dossier.get("child", {})
    try:
        born = date.fromisoformat(child["birth_date"])
        sex = Sex(child["sex"])
    except (KeyError, ValueError):
        return Refused("child's birth date or sex missing or malformed")
    if born > today:
        return Refused("child's birth date is in the future")
    province = dossier.get("area", {}).get("province", "")
    return Registered(generate_personal_id(province, sex, born.year, rng))


def decide_death(dossier: DossierDoc, today: date) -> Registered | Refused:
    """Register the death of the person the dossier names, unless the data is wrong (whether the
    population database knows them: `deceased`)."""
    d = dossier.get("deceased", {})
    try:
        died = date.fromisoformat(d["death_date"])
        Sex(d["sex"])
        int(d["birth_year"])
    except (KeyError, ValueError, TypeError):
        return Refused("deceased's death date, sex or birth year missing or malformed")
    if died > today:
        return Refused("date of death is in the future")
    return Registered(str(d.get("personal_id", "")))


def parents(dossier: DossierDoc) -> list[Person]:
    """Whom the population database must know before a birth is registered: the mother, and the
    father when the dossier names him."""
    mother = dossier.get("mother", {})
    people = [Person("mother", str(mother.get("personal_id", "")), Sex.FEMALE.value)]
    father = dossier.get("father")
    if father and father.get("personal_id"):
        people.append(Person("father", str(father["personal_id"]), Sex.MALE.value))
    return people


def deceased(dossier: DossierDoc) -> Person:
    """The person whose death is registered, as the dossier describes them (decide_death checked
    the fields parse)."""
    d = dossier.get("deceased", {})
    return Person("deceased", str(d.get("personal_id", "")), str(d["sex"]), int(d["birth_year"]))


MARRIAGE_AGE = {Sex.MALE: 20, Sex.FEMALE: 18}
"""The age from which the law on marriage and the family lets a man (20) and a woman (18) marry."""


def partner(dossier: DossierDoc) -> Person:
    """The partner whose marital status their commune confirms (the fields parse: the portal checked)."""
    p = dossier.get("partner", {})
    return Person("partner", str(p.get("personal_id", "")), str(p["sex"]), int(p["birth_year"]))


def spouse_to_be(dossier: DossierDoc) -> Person:
    """The applicant who registers the marriage in their own commune."""
    a = dossier.get("applicant", {})
    return Person("applicant", str(a.get("personal_id", "")), str(a["sex"]), int(a["birth_year"]))


def marriage_problem(dossier: DossierDoc, today: date) -> str | None:
    """Why these two cannot marry, by the dossier alone (whether either is married already is the
    register's to say), or None."""
    a, b = spouse_to_be(dossier), partner(dossier)
    if a.personal_id == b.personal_id:
        return "the applicant and the partner are the same person"
    if a.sex == b.sex:
        return "the law on marriage and the family registers a marriage between a man and a woman"
    for who in (a, b):
        sex = Sex(who.sex or "")
        if who.birth_year is not None and today.year - who.birth_year < MARRIAGE_AGE[sex]:
            return f"the {who.role} is under {MARRIAGE_AGE[sex]}, the age from which the law allows marriage"
    return None
