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
